"""The limits of one HTTP connection, enforced before uvicorn's parser sees a byte.

Neither parser bounds what a client may send: httptools holds a header of any size in
memory until its line ends, and h11's only bound answers 400. So each of uvicorn's HTTP
protocols is subclassed here, and every byte passes a Guard first:

- a request head (request line and header fields) over MAX_HEAD bytes, or with more
  than MAX_FIELDS fields, is answered 431 as soon as it crosses the line;
- a head must arrive within HEADER_TIMEOUT seconds of its first byte (of the connection,
  for the first request), a body within BODY_TIMEOUT of its head; idle keep-alive
  connections are closed by uvicorn's own timeout_keep_alive;
- a connection beyond uvicorn's limit_concurrency is answered 503 at once and closed,
  so a flood of connections costs one file descriptor each for a second at most, and
  accept() never fails while the process has descriptors to spare.

A refused connection is half-closed and drained for a second (or 256 KB), so that the
client reads the answer rather than a reset while it is still sending.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Callable

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger("consentpixel")

HEAD_END = b"\r\n\r\n"


@dataclass(frozen=True)
class Limits:
    max_head: int = 16 * 1024  # bytes of request line and header fields, as common proxies
    max_fields: int = 100
    header_timeout: float = 5.0
    body_timeout: float = 10.0
    linger: float = 1.0  # seconds a refused connection is drained before it is closed
    drain: int = 256 * 1024  # bytes drained at most, so an attacker's upload stops early


LIMITS = Limits()

REFUSALS = {
    431: b"Request Header Fields Too Large",
    408: b"Request Timeout",
    503: b"Service Unavailable",
}


def answer(status: int, text: str) -> bytes:
    body = text.encode() + b"\n"
    return (b"HTTP/1.1 %d %s\r\ncontent-type: text/plain; charset=utf-8\r\n"
            b"content-length: %d\r\nconnection: close\r\n\r\n%s"
            % (status, REFUSALS[status], len(body), body))


class Refusals:
    """Refused requests are logged, at most once a minute per reason: the log says why
    visitors were turned away without being flooded by an attack."""

    def __init__(self) -> None:
        self.last: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    def note(self, reason: str) -> None:
        self.counts[reason] = self.counts.get(reason, 0) + 1
        now = time.monotonic()
        if now - self.last.get(reason, -60.0) >= 60:
            self.last[reason] = now
            log.warning("refused a connection: %s (at most one such line a minute; "
                        "%d so far)", reason, self.counts[reason])


REFUSED = Refusals()


class Guard:
    """One connection's byte budget and deadlines, in front of its HTTP parser.

    feed hands bytes to the parser; reading_body says whether the parser is inside a
    request's body (the bytes that are not a head); answering, whether a response is
    under way (a pipelined request refused then cuts the connection off). Bytes are
    fed one head at a time, so that a body or a pipelined request after a head is never
    counted as that head.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, transport: asyncio.Transport,
                 feed: Callable[[bytes], None], reading_body: Callable[[], bool],
                 answering: Callable[[], bool], limits: Limits) -> None:
        self.loop = loop
        self.transport = transport
        self.feed = feed
        self.reading_body = reading_body
        self.answering = answering
        self.limits = limits
        self.head = 0  # bytes of the head being read
        self.lines = 0
        self.tail = b""  # the last bytes of the head so far, where its end may begin
        self.refused = False
        self.drained = 0
        self.deadline: asyncio.TimerHandle | None = None
        self.waiting_for = ""
        self.arm("head")  # a connection that never says anything is closed too

    def admit(self, connections: int, limit: int | None) -> None:
        """Refuse the connection at once when it is one too many."""
        if limit is not None and connections >= limit:
            # Closed at once: under a flood of connections, lingering ones would be the
            # descriptors the cap is there to save.
            self.refuse(503, f"more than {limit - 1} open connections", linger=False)

    def receive(self, data: bytes) -> None:
        if self.refused:  # draining: read and forgotten
            self.drained += len(data)
            if self.drained > self.limits.drain:
                self.transport.close()
            return
        while data and not self.refused and not self.transport.is_closing():
            if self.reading_body():
                part, data = data, b""
                self.feed(part)
            else:
                part, data, ended = self.head_part(data)
                if not self.count(part):
                    return
                if ended:  # the usual case, a head in one read: no deadline to keep
                    self.head = self.lines = 0
                    self.tail = b""
                    self.disarm()
                elif self.waiting_for != "head":
                    self.arm("head")
                self.feed(part)
            if self.reading_body() and self.waiting_for != "body":
                self.arm("body")
            elif not self.reading_body() and self.waiting_for == "body":
                self.disarm()

    def head_part(self, data: bytes) -> tuple[bytes, bytes, bool]:
        """The bytes of data up to the end of the current head, the rest, and whether
        the head ended."""
        seen = self.tail + data
        end = seen.find(HEAD_END)
        if end < 0:
            self.tail = seen[-3:]
            return data, b"", False
        cut = end + len(HEAD_END) - len(self.tail)
        return data[:cut], data[cut:], True

    def count(self, part: bytes) -> bool:
        self.head += len(part)
        self.lines += part.count(b"\n")
        limits = self.limits
        if self.head > limits.max_head:
            self.refuse(431, f"request header larger than {limits.max_head} bytes")
            return False
        if self.lines > limits.max_fields + 2:  # the request line and the empty line
            self.refuse(431, f"more than {limits.max_fields} header fields")
            return False
        return True

    def arm(self, what: str) -> None:
        self.disarm()
        seconds = self.limits.header_timeout if what == "head" else self.limits.body_timeout
        self.deadline = self.loop.call_later(seconds, self.expire)
        self.waiting_for = what

    def disarm(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
        self.deadline = None
        self.waiting_for = ""

    def expire(self) -> None:
        self.deadline = None
        if self.transport.is_closing():
            return
        if self.waiting_for == "head" and self.head:
            REFUSED.note(f"request header not received within {self.limits.header_timeout} s "
                         "(408)")
            self.transport.write(answer(408, "The request took too long to arrive."))
        elif self.waiting_for == "body":
            REFUSED.note(f"request body not received within {self.limits.body_timeout} s")
        self.waiting_for = ""
        self.transport.close()

    def refuse(self, status: int, reason: str, linger: bool = True) -> None:
        """Answer status, stop reading requests, and close once the client has had time
        to read the answer."""
        REFUSED.note(f"{reason} ({status})")
        self.refused = True
        self.disarm()
        if self.answering():  # the answer would land inside another response
            self.transport.close()
            return
        self.transport.write(answer(status, reason[0].upper() + reason[1:] + "."))
        if linger and self.transport.can_write_eof():
            self.transport.write_eof()
            self.deadline = self.loop.call_later(self.limits.linger, self.transport.close)
        else:
            self.transport.close()

    def close(self) -> None:
        self.disarm()


class H11Connection(H11Protocol):
    """uvicorn's h11 protocol behind a Guard."""

    limits = LIMITS

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.guard = Guard(self.loop, transport, self.feed, self.reading_body, self.answering,
                           self.limits)
        self.guard.admit(len(self.connections), self.limit_concurrency)

    def feed(self, data: bytes) -> None:
        super().data_received(data)

    def data_received(self, data: bytes) -> None:
        self.guard.receive(data)

    def reading_body(self) -> bool:
        return self.conn.their_state is h11.SEND_BODY

    def answering(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.close()
        super().connection_lost(exc)


class HttpToolsConnection(HttpToolsProtocol):
    """uvicorn's httptools protocol behind a Guard (what serve uses)."""

    limits = LIMITS
    body = False  # between a head and the end of its message

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.guard = Guard(self.loop, transport, self.feed, self.reading_body, self.answering,
                           self.limits)
        self.guard.admit(len(self.connections), self.limit_concurrency)

    def feed(self, data: bytes) -> None:
        super().data_received(data)

    def data_received(self, data: bytes) -> None:
        self.guard.receive(data)

    def reading_body(self) -> bool:
        return self.body

    def on_headers_complete(self) -> None:
        self.body = True
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self.body = False
        super().on_message_complete()

    def answering(self) -> bool:
        return self.cycle is not None and not self.cycle.response_complete

    def connection_lost(self, exc: Exception | None) -> None:
        self.guard.close()
        super().connection_lost(exc)


PROTOCOL = "consentpixel.connections:HttpToolsConnection"  # what serve gives uvicorn
