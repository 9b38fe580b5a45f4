"""The limits of one connection, with either of uvicorn's HTTP parsers underneath.

A real uvicorn serves a small app on a real socket, through each guarded protocol,
with shorter deadlines than the collector's so the tests need not wait.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from typing import Any, Iterator

import pytest
import uvicorn

from consentpixel import connections
from consentpixel.connections import H11Connection, HttpToolsConnection, Limits

QUICK = Limits(header_timeout=0.5, body_timeout=0.5, linger=0.2)


class QuickHttpTools(HttpToolsConnection):
    limits = QUICK


class QuickH11(H11Connection):
    limits = QUICK


async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers the length of the body it read."""
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    answer = str(len(body)).encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(answer)).encode())]})
    await send({"type": "http.response.body", "body": answer})


@pytest.fixture(scope="module", params=[QuickHttpTools, QuickH11], ids=["httptools", "h11"])
def port(request: pytest.FixtureRequest) -> Iterator[int]:
    config = uvicorn.Config(echo, http=request.param, lifespan="off", log_level="error",
                            limit_concurrency=4)
    server = uvicorn.Server(config)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield sock.getsockname()[1]
    server.should_exit = True
    thread.join(timeout=10)


def talk(port: int, *parts: bytes, pause: float = 0) -> bytes:
    """Send the parts (pausing between them), then read until the server closes or a
    second passes in silence."""
    with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
        try:
            for part in parts:
                sock.sendall(part)
                time.sleep(pause)
        except OSError:
            pass
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except OSError:
            pass
        return received


def head(size: int = 0, fields: int = 0, last: bool = True) -> bytes:
    """A GET whose head is exactly size bytes (at least), with fields extra fields; the
    last request of its connection unless told."""
    lines = ["GET / HTTP/1.1", "Host: test"] + [f"X-{n}: {n}" for n in range(fields - last)]
    lines += ["Connection: close"] if last else []
    text = "\r\n".join(lines) + "\r\n"
    if size:
        filler = size - len(text) - len("X-Filler: \r\n\r\n")
        text += f"X-Filler: {'a' * filler}\r\n"
    return (text + "\r\n").encode()


def statuses(received: bytes) -> list[int]:
    return [int(status) for status in re.findall(rb"HTTP/1\.1 (\d{3}) ", received)]


def test_a_head_of_the_limit_is_answered_and_one_byte_more_refused(port: int) -> None:
    limit = connections.LIMITS.max_head
    assert len(head(limit)) == limit
    assert statuses(talk(port, head(limit))) == [200]
    refused = talk(port, head(limit + 1))
    assert statuses(refused) == [431]
    assert b"larger than 16384 bytes" in refused


def test_more_fields_than_the_limit_are_refused(port: int) -> None:
    assert statuses(talk(port, head(fields=99))) == [200]  # and Host: 100
    assert statuses(talk(port, head(fields=100))) == [431]
    assert statuses(talk(port, head(fields=100_000))) == [431]


def test_a_head_in_pieces_is_counted_whole(port: int) -> None:
    whole = head(fields=3)
    pieces = [whole[index:index + 7] for index in range(0, len(whole), 7)]  # "\r\n\r\n" split
    assert statuses(talk(port, *pieces)) == [200]
    big = head(connections.LIMITS.max_head + 100)
    assert statuses(talk(port, *[big[i:i + 4096] for i in range(0, len(big), 4096)])) == [431]


def test_bodies_and_pipelined_requests_are_not_counted_as_heads(port: int) -> None:
    body = b"b" * 100_000
    post = b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    received = talk(port, post + head(last=False) + head(last=False) +
                    head(connections.LIMITS.max_head))
    assert statuses(received) == [200, 200, 200, 200]
    assert b"\r\n\r\n100000" in received


def test_a_silent_connection_is_closed(port: int) -> None:
    began = time.monotonic()
    assert talk(port) == b""
    assert time.monotonic() - began < 1  # the deadline (0.5 s) closed it, not our timeout


def test_a_head_that_does_not_arrive_in_time_is_answered_408(port: int) -> None:
    assert statuses(talk(port, b"GET / HTTP/1.1\r\n", b"Host: t", b"est\r\n", pause=0.3)) == [408]


def test_a_body_that_does_not_arrive_in_time_is_cut_off(port: int) -> None:
    began = time.monotonic()
    received = talk(port, b"POST / HTTP/1.1\r\nHost: test\r\nContent-Length: 10\r\n\r\nab")
    assert received == b""
    assert time.monotonic() - began < 1


def test_connections_beyond_the_limit_are_answered_503(port: int) -> None:
    held = [socket.create_connection(("127.0.0.1", port)) for _ in range(3)]
    try:
        time.sleep(0.05)
        refused = talk(port, head())
        assert statuses(refused) == [503]
        assert b"More than 3 open connections." in refused
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.1)
    assert statuses(talk(port, head())) == [200]
