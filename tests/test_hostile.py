"""Attacks on a running `consentpixel serve`, over real sockets, as an attacker sends them.

Each test reproduces one attack from the hardening review (oversized and countless
header fields, unfinished heads, slow and idle connections, a flood of connections,
User-Agents, order IDs and forwarded addresses, forged Host headers) and checks that the
process answered as it should and kept its memory. Memory is the collector's resident
set (VmRSS) before and after.
"""

from __future__ import annotations

import http.client
import re
import socket
import threading
import time
from pathlib import Path
from typing import Callable, Iterable, Iterator
from urllib.parse import urlsplit

import pytest

from consentpixel.store import open_store

from .servers import AGENT, SECRET, ServeProcess

MB = 1 << 20
CONFIG = """
[collector]
db = "sqlite:///{db}"
{collector}

[sites.demo]
origins = ["http://127.0.0.1:*"]
count_automation = true

[sites.limited]
origins = ["http://127.0.0.1:*"]
count_automation = true
rate_limit = 10
"""
REFERER = "http://127.0.0.1:9/"


def start(directory: Path, file_limit: int | None = None, **collector: str) -> ServeProcess:
    directory.mkdir(parents=True, exist_ok=True)
    settings = "\n".join(f"{key} = {value}" for key, value in collector.items())
    path = directory / "collector.toml"
    path.write_text(CONFIG.format(db=directory / "store.db", collector=settings))
    return ServeProcess("--config", str(path), file_limit=file_limit)


@pytest.fixture(scope="module")
def exposed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """Facing the internet directly: no proxy trusted, a public URL configured."""
    with start(tmp_path_factory.mktemp("exposed"),
               public_url='"https://collect.example"') as collector:
        yield collector


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    """Behind a proxy on the same host, which it trusts; no public URL."""
    with start(tmp_path_factory.mktemp("proxied"),
               forwarded_allow_ips='["127.0.0.1"]') as collector:
        yield collector


# -- talking to it as an attacker does ------------------------------------------------------


def address(collector: ServeProcess) -> tuple[str, int]:
    parts = urlsplit(collector.url)
    return parts.hostname or "", parts.port or 80


def resident(collector: ServeProcess) -> int:
    """The collector's resident memory, in bytes."""
    status = Path(f"/proc/{collector.process.pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) * 1024  # type: ignore[union-attr]


def request(path: str, *fields: str) -> bytes:
    return "".join([f"GET {path} HTTP/1.1\r\nHost: collect.example\r\n",
                    *(f"{field}\r\n" for field in fields), "\r\n"]).encode("latin-1")


def pixel(site: str = "demo", agent: str = AGENT, *fields: str, **params: str) -> bytes:
    query = "&".join(f"{k}={v}" for k, v in {"s": site, "e": "pageview", "a": "analytics-ads",
                                             "p": "/", **params}.items())
    return request(f"/p.gif?{query}", f"Referer: {REFERER}", f"User-Agent: {agent}", *fields)


class Connection:
    """One raw connection: what is sent goes from a thread of its own, so that an answer
    the collector gives before the request is over is read while sending goes on."""

    def __init__(self, collector: ServeProcess, source: str = "127.0.0.1") -> None:
        self.socket = socket.create_connection(address(collector), timeout=30,
                                               source_address=(source, 0))
        self.received = b""
        self.sender: threading.Thread | None = None
        self.sent = 0

    def send(self, parts: Iterable[bytes]) -> Connection:
        def run() -> None:
            try:
                for part in parts:
                    self.socket.sendall(part)
                    self.sent += len(part)
            except OSError:
                pass  # refused and closed: the point of most attacks here

        self.sender = threading.Thread(target=run, daemon=True)
        self.sender.start()
        return self

    def responses(self, count: int = 1) -> list[int]:
        """The status of the next count responses; 0 for each the connection closed on."""
        statuses: list[int] = []
        while len(statuses) < count:
            head_end = self.received.find(b"\r\n\r\n")
            if head_end >= 0:
                head = self.received[:head_end].decode("latin-1")
                length = int(re.search(r"(?im)^content-length: *(\d+)", head).group(1)  # type: ignore[union-attr]
                             if "content-length" in head.lower() else 0)
                if len(self.received) >= head_end + 4 + length:
                    statuses.append(int(head.split(" ", 2)[1]))
                    self.received = self.received[head_end + 4 + length:]
                    continue
            if not self.read():
                statuses += [0] * (count - len(statuses))
        return statuses

    def read(self) -> bool:
        try:
            chunk = self.socket.recv(1 << 20)
        except OSError:
            chunk = b""
        self.received += chunk
        return bool(chunk)

    def closed_within(self, seconds: float) -> float | None:
        """Seconds until the collector closed the connection, None if it did not."""
        began = time.monotonic()
        self.socket.settimeout(seconds)
        try:
            while self.socket.recv(65536):
                pass
        except socket.timeout:
            return None
        except OSError:
            pass
        return time.monotonic() - began

    def close(self) -> None:
        try:
            self.socket.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.socket.close()
        if self.sender is not None:
            self.sender.join(timeout=30)


def exchange(collector: ServeProcess, parts: Iterable[bytes], count: int = 1,
             source: str = "127.0.0.1") -> list[int]:
    connection = Connection(collector, source).send(parts)
    try:
        return connection.responses(count)
    finally:
        connection.close()


def huge_field(name: str, size: int, finished: bool = True) -> Iterator[bytes]:
    """A request whose one header field is size bytes, sent a megabyte at a time."""
    yield f"GET / HTTP/1.1\r\nHost: collect.example\r\n{name}: ".encode()
    for _ in range(size // MB):
        yield b"a" * MB
    if finished:
        yield b"\r\n\r\n"


def clear_of_turn(period: int, margin: float) -> None:
    """Wait until the current minute or hour (period) has margin seconds left, so that
    a count per minute or hour is not split by its turn."""
    left = period - time.time() % period
    if left < margin:
        time.sleep(left + 0.1)


def metric(collector: ServeProcess, name: str, reason: str = "") -> int:
    status, body = collector.get("/metrics", {"Authorization": f"Bearer {SECRET}"})
    assert status == 200, body
    label = f',reason="{reason}"' if reason else ""
    found = re.search(rf"^consentpixel_{name}\{{pid=\"\d+\"{label}\}} (\d+)$", body.decode(), re.M)
    assert found, body.decode()
    return int(found.group(1))


def counted(collector: ServeProcess, hits: list[bytes], source: str = "127.0.0.1"
            ) -> tuple[int, int]:
    """Send hits on one connection: (accepted, dropped for the rate limit)."""
    clear_of_turn(60, 2)
    before = metric(collector, "hits_accepted_total"), \
        metric(collector, "hits_dropped_total", "rate_limit")
    assert exchange(collector, [b"".join(hits)], len(hits), source) == [200] * len(hits)
    return (metric(collector, "hits_accepted_total") - before[0],
            metric(collector, "hits_dropped_total", "rate_limit") - before[1])


# -- header size and count ----------------------------------------------------------------


def test_a_48_mb_header_is_refused_and_leaves_memory_flat(exposed: ServeProcess) -> None:
    before = resident(exposed)
    assert exchange(exposed, huge_field("X-Filler", 48 * MB)) == [431]
    assert resident(exposed) - before < 8 * MB
    assert exchange(exposed, [request("/healthz")]) == [200]


@pytest.mark.parametrize("fields", [200_000, 101], ids=["200000 fields", "101 fields"])
def test_too_many_header_fields_are_refused(exposed: ServeProcess, fields: int) -> None:
    before = resident(exposed)
    many = [f"X-Field-{n}: {n}" for n in range(fields)]
    assert exchange(exposed, [request("/healthz", *many)]) == [431]
    assert resident(exposed) - before < 8 * MB


def test_a_head_within_the_limits_is_answered(exposed: ServeProcess) -> None:
    """The limits leave room: 100 fields, 15 KB in all, and a body after a head."""
    fields = [f"X-Field-{n}: {'v' * 140}" for n in range(98)]
    assert exchange(exposed, [request("/healthz", *fields)]) == [200]
    body = b"b" * 64 * 1024  # a body is not a head, however long
    post = (b"POST /nowhere HTTP/1.1\r\nHost: collect.example\r\nContent-Length: %d\r\n\r\n"
            % len(body)) + body
    assert exchange(exposed, [post + request("/healthz")], 2) == [404, 200]


def test_six_unfinished_64_mb_headers_leave_memory_flat(exposed: ServeProcess) -> None:
    before = resident(exposed)
    attackers = [Connection(exposed).send(huge_field("X-Never-Ends", 64 * MB, finished=False))
                 for _ in range(6)]
    try:
        for attacker in attackers:
            assert attacker.sender is not None
            attacker.sender.join(timeout=120)
        during = resident(exposed)  # the attackers still hold their connections open
        assert [attacker.responses()[0] for attacker in attackers] == [431] * 6
    finally:
        for attacker in attackers:
            attacker.close()
    assert during - before < 16 * MB, f"{before} -> {during}"


# -- slow, idle and countless connections -------------------------------------------------


def test_slow_and_idle_connections_are_closed_within_seconds(exposed: ServeProcess) -> None:
    silent = Connection(exposed)
    trickle = Connection(exposed).send(trickled(request("/healthz")))
    idle = Connection(exposed)
    idle.socket.sendall(request("/healthz"))
    assert idle.responses() == [200]
    closed: dict[str, float | None] = {}
    watchers = [threading.Thread(target=lambda n=name, c=conn: closed.update({n: c.closed_within(15)}))
                for name, conn in (("silent", silent), ("trickle", trickle), ("idle", idle))]
    for watcher in watchers:
        watcher.start()
    for watcher in watchers:
        watcher.join()
    for connection in (silent, trickle, idle):
        connection.close()
    assert None not in closed.values(), closed


def trickled(data: bytes) -> Iterator[bytes]:
    """A head sent one byte every half second: it would take minutes to arrive."""
    for index in range(len(data)):
        time.sleep(0.5)
        yield data[index:index + 1]


def test_a_flood_of_connections_is_answered_503_not_locked_out(tmp_path: Path) -> None:
    """1,100 connections exhausted the 1,024 descriptors; at a limit of 256, 300 now leave
    the collector answering: the ones beyond its room get 503 at once, a visitor too,
    and once the silent ones are timed out the visitor is served again."""
    with start(tmp_path, file_limit=256) as collector:
        assert "room for 192 connections" in collector.log()
        flood = [Connection(collector) for _ in range(300)]
        try:
            time.sleep(1)
            turned_away = [c for c in flood if answered_at_once(c) == 503]
            assert len(turned_away) >= 300 - 192
            visitor = visit(collector)
            assert visitor == 503, visitor
            deadline = time.monotonic() + 20
            while visitor != 200 and time.monotonic() < deadline:
                time.sleep(0.5)
                visitor = visit(collector)
            assert visitor == 200
        finally:
            for connection in flood:
                connection.close()


def answered_at_once(connection: Connection) -> int:
    """The status the collector already answered on a connection, 0 for none yet."""
    connection.socket.setblocking(False)
    try:
        head = connection.socket.recv(64)
    except BlockingIOError:
        return 0
    return int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/1.1 ") else 0


def visit(collector: ServeProcess) -> int | None:
    """A visitor's request: its status, or None when it was not answered in 5 seconds."""
    connection = http.client.HTTPConnection(*address(collector), timeout=5)
    try:
        connection.request("GET", "/healthz")
        return connection.getresponse().status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        connection.close()


# -- what the collector remembers -------------------------------------------------------


def test_user_agents_cannot_grow_memory(exposed: ServeProcess) -> None:
    """150 different 1 MB User-Agents are refused; 4,200 different ones that fit the
    cache's key length (more than its 4,096 entries) grow memory by at most its bound."""
    before = resident(exposed)
    for n in range(150):
        agent = f"Mozilla/5.0 {n} " + "x" * MB
        assert exchange(exposed, [pixel("demo", agent)]) == [431]
    after_huge = resident(exposed)
    assert after_huge - before < 8 * MB, (before, after_huge)

    def agents(name: Callable[[int], str]) -> list[int]:
        hits = [pixel("demo", f"Mozilla/5.0 ({name(n)}) " + "y" * 480) for n in range(4200)]
        return exchange(exposed, [b"".join(hits)], len(hits))

    # Pipelined hits take transient memory of their own: measured after one agent's.
    assert agents(lambda n: "one") == [200] * 4200
    warm = resident(exposed)
    assert agents(lambda n: f"{n:05d}") == [200] * 4200
    after_many = resident(exposed)
    assert after_many - warm < 12 * MB, (warm, after_many)


def test_order_ids_are_capped_per_site_and_hour(exposed: ServeProcess) -> None:
    """5,100 different order IDs in an hour: 5,000 kept for de-duplication, every
    conversion counted; past the cap a repeated order counts again, below it not."""
    orders = [pixel("demo", e="purchase", v="1.00", c="EUR", o=f"order-{n}") for n in range(5100)]
    repeats = [pixel("demo", e="purchase", v="1.00", c="EUR", o="order-7"),
               pixel("demo", e="purchase", v="1.00", c="EUR", o="order-5099")]
    clear_of_turn(3600, 15)
    assert exchange(exposed, [b"".join(orders)], len(orders)) == [200] * len(orders)
    time.sleep(1.5)  # the repeats come in a later write than their first
    assert exchange(exposed, [b"".join(repeats)], 2) == [200] * 2
    db = re.search(r"store +sqlite:///(\S+)", exposed.log()).group(1)  # type: ignore[union-attr]

    def stored() -> tuple[int, int]:
        store = open_store(f"sqlite:///{db}")
        try:
            rows = store.fetch("SELECT count(*) FROM orders WHERE site = 'demo'")[0][0]
            purchases = store.fetch("SELECT coalesce(sum(count), 0) FROM cells "
                                    "WHERE site = 'demo' AND event = 'purchase'")[0][0]
            return int(rows), int(purchases)
        finally:
            store.close()

    exposed.wait_until(lambda: stored()[1] >= 5101, "the purchases written", 20)
    time.sleep(1.5)  # nothing more is to come
    assert stored() == (5000, 5101)


# -- proxies: trusted only when told ----------------------------------------------------


def test_forwarded_addresses_from_an_untrusted_peer_are_ignored(exposed: ServeProcess) -> None:
    hits = [pixel("limited", AGENT, f"X-Forwarded-For: 198.51.100.{n}",
                  f"Forwarded: for=198.51.100.{n}") for n in range(30)]
    assert counted(exposed, hits) == (10, 20)


def test_a_trusted_proxy_names_each_client(proxied: ServeProcess) -> None:
    hits = [pixel("limited", AGENT, f"X-Forwarded-For: 203.0.113.99, 192.0.2.{n % 3}", z=str(n))
            for n in range(36)]  # what a client wrote itself (on the left) is not believed
    assert counted(proxied, hits) == (30, 6)


def test_a_peer_the_proxy_list_does_not_name_is_not_believed(proxied: ServeProcess) -> None:
    hits = [pixel("limited", AGENT, f"X-Forwarded-For: 192.0.2.{100 + n}") for n in range(30)]
    assert counted(proxied, hits, source="127.0.0.2") == (10, 20)


def test_an_ipv6_range_is_one_client(proxied: ServeProcess) -> None:
    hits = [pixel("limited", AGENT, f"X-Forwarded-For: 2001:db8:5:6::{n:x}") for n in range(30)]
    assert counted(proxied, hits) == (10, 20)


def test_a_flood_of_addresses_cannot_lock_out_visitors(tmp_path: Path) -> None:
    """Forged addresses past the limiter's cap (100,000 a minute by default, 1,000 here)
    made it refuse everyone new for the rest of the minute: now newcomers past its cap
    are let through, and the log says so."""
    flood = [pixel("limited", AGENT, f"X-Forwarded-For: 10.0.{n >> 8}.{n & 255}")
             for n in range(1500)]
    newcomer = [pixel("limited", AGENT, "X-Forwarded-For: 192.0.2.200")]
    with start(tmp_path, forwarded_allow_ips='["127.0.0.1"]',
               rate_limit_clients="1000") as collector:
        clear_of_turn(60, 5)  # the flood and the newcomer in one minute
        assert counted(collector, flood) == (1500, 0)
        assert counted(collector, newcomer) == (1, 0)
        assert "rate limit: more than 1000 clients this minute" in collector.log()


# -- the Host header ----------------------------------------------------------------------


def raw_get(collector: ServeProcess, path: str, host: str) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection(*address(collector), timeout=10)
    connection.request("GET", path, headers={"Host": host})
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_absolute_urls_come_from_the_public_url(exposed: ServeProcess) -> None:
    redirect = raw_get(exposed, "/dashboard/", "evil.example")
    assert redirect.status in (301, 307, 308)
    assert redirect.getheader("location", "").startswith("https://collect.example/")
    assert "host" in redirect.getheader("vary", "").lower()
    connection = http.client.HTTPConnection(*address(exposed), timeout=10)
    connection.request("GET", "/", headers={"Host": "evil.example"})
    index = connection.getresponse()
    page = index.read().decode()
    connection.close()
    assert "https://collect.example/t.js" in page and "evil.example" not in page
    assert "host" in index.getheader("vary", "").lower()


def test_without_a_public_url_pages_vary_by_host(proxied: ServeProcess) -> None:
    for path in ("/dashboard/", "/"):
        response = raw_get(proxied, path, "evil.example")
        assert "host" in response.getheader("vary", "").lower(), (path, response.getheaders())
