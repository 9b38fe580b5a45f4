"""Garbage in: never a 500, never a crash, never personal data in the store.

Hypothesis drives the parsers and the hot path in-process; then a real collector, on
each database, is fed a table of hostile requests and generated ones over raw sockets.
"""

from __future__ import annotations

import math
import socket
import string
from pathlib import Path
from typing import Callable
from unittest import mock
from urllib.parse import quote

from hypothesis import HealthCheck, example, given, settings, strategies as st

from consentpixel import config as config_module, privacy
from consentpixel.buffer import Buffer
from consentpixel.connections import LIMITS
from consentpixel.currencies import MINOR_UNITS
from consentpixel.ingest import MAX_FIELDS, MAX_QUERY, MAX_VALUE, Drop, Ingest, Verdicts, \
    parse_minor_units, parse_query
from consentpixel.pixel import GIF
from consentpixel.store import open_store

from .helpers import ORIGIN
from .servers import SECRET, ServeProcess

PII = ["jane.doe@example.com", "+49 30 12345678", "4111111111111111", "DE89370400440532013000",
       "192.168.1.20", "550e8400-e29b-41d4-a716-446655440000", "9f8e7d6c5b4a39281706f5e4"]
KEYS = ["s", "e", "p", "a", "r", "v", "c", "o", "k", "w", "x", "z", "utm_source",
        "utm_medium", "utm_campaign", "utm_content", "y", "n", "email", ""]
VALUES = ["demo", "pageview", "purchase", "analytics-ads", "analytics", "ads", "/", "/cart",
          "www.google.com", "49.90", "EUR", "gclid", "1", "newsletter", "nan", "inf",
          "-1", "1e308", "%00", "%ff%fe", "%E0%A4%A", "\x00", *PII]


# -- the parsers ------------------------------------------------------------------------


@given(st.binary(max_size=5000))
def test_parse_query_returns_text_or_says_malformed(raw: bytes) -> None:
    try:
        params = parse_query(raw)
    except Drop as drop:
        assert drop.reason == "malformed"
        assert len(raw) > MAX_QUERY or raw.count(b"&") >= MAX_FIELDS
        return
    assert all(isinstance(k, str) and k and isinstance(v, str) for k, v in params.items())
    assert len(params) <= MAX_FIELDS


@given(st.lists(st.tuples(st.sampled_from(KEYS), st.sampled_from(VALUES)), max_size=40))
def test_the_first_of_repeated_keys_wins(pairs: list[tuple[str, str]]) -> None:
    raw = "&".join(f"{k}={quote(v)}" for k, v in pairs).encode()
    try:
        params = parse_query(raw)
    except Drop:
        assert len(pairs) > MAX_FIELDS
        return
    first: dict[str, str] = {}
    for key, value in pairs:
        if key:
            first.setdefault(key, value)
    assert params == first


@given(st.text(max_size=400) | st.sampled_from(PII))
def test_cleaning_never_fails_and_stays_short(text: str) -> None:
    path, label, host = privacy.clean_path(text), privacy.clean_label(text), \
        privacy.clean_host(text)
    assert path.startswith("/") and len(path) <= privacy.MAX_PATH
    assert len(label) <= max(privacy.MAX_LABEL, privacy.MAX_HOST)
    assert len(host) <= privacy.MAX_HOST
    for cleaned in (path, label, host):
        assert not privacy.CONTROL.search(cleaned)
        assert "@" not in cleaned


@given(st.text(max_size=80))
def test_remembered_results_are_the_rules_results(text: str) -> None:
    for clean in (privacy.clean_path, privacy.clean_segment, privacy.clean_label,
                  privacy.clean_host):
        plain = clean.__wrapped__(text)  # type: ignore[attr-defined]
        assert clean(text) == plain and clean(text) == plain  # the second from memory


@given(st.text(alphabet=string.ascii_letters + "-_äöüßéçñ", max_size=40))
def test_a_plain_word_is_one_no_rule_matches(text: str) -> None:
    with mock.patch.object(privacy, "plain_word", lambda _: False):
        slow = privacy.classify(text)
    if privacy.plain_word(text):
        assert slow is None


@given(st.text(max_size=30) | st.floats(allow_nan=True).map(str),
       st.sampled_from(sorted(MINOR_UNITS)))
def test_values_are_bounded_or_refused(raw: str, currency: str) -> None:
    try:
        value = parse_minor_units(raw, currency)
    except Drop as drop:
        assert drop.reason == "value"
        return
    assert 0 <= value <= MAX_VALUE * 10 ** MINOR_UNITS[currency]
    assert math.isfinite(float(raw))


def query_strategy() -> st.SearchStrategy[bytes]:
    """Mostly plausible hits, with garbage before, among or after their parameters."""
    plausible = st.fixed_dictionaries({
        "s": st.sampled_from(["demo", "demo", "nope"]),
        "e": st.sampled_from(["pageview", "purchase", "signup", "bogus", ""]),
        "a": st.sampled_from(["analytics-ads", "analytics", "ads", ""]),
    }, optional={
        "p": st.sampled_from(VALUES) | st.text(max_size=30),
        "v": st.sampled_from(["49.90", "0", "nan", "-1", "1e308", "10000001"]),
        "c": st.sampled_from(["EUR", "jpy", "XXX", ""]),
        "utm_campaign": st.sampled_from(VALUES), "r": st.sampled_from(VALUES),
        "x": st.sampled_from(["1", "0"]), "o": st.sampled_from(["a1b2", PII[0]]),
    }).map(lambda d: list(d.items()))
    garbage = st.lists(st.tuples(st.sampled_from(KEYS), st.sampled_from(VALUES) |
                                 st.text(max_size=20)), max_size=5)
    return st.tuples(garbage, plausible, garbage, st.integers(0, 40)).map(
        lambda t: ("&".join(f"{k}={quote(v)}" for k, v in [*t[0], *t[1], *t[2]])
                   + f"&z={t[3]}").encode())


REFERERS = st.sampled_from([ORIGIN + "/", ORIGIN + "/", "https://evil.example/", ""])
AGENTS = st.sampled_from(["Mozilla/5.0 Chrome/130.0", "Mozilla/5.0 (iPhone) Mobile",
                          "HeadlessChrome", ""])
Hit = tuple[bytes, str, str, bool]
VALID = (b"s=demo&e=pageview&a=analytics&p=%2Fx&z=1", ORIGIN + "/", "Mozilla/5.0", False)
PURCHASE = b"s=demo&e=purchase&a=ads&v=1.5&c=EUR&z=2"


@settings(suppress_health_check=[HealthCheck.too_slow])
@example([VALID, (VALID[0], "https://evil.example/", "Mozilla/5.0", False),
          (VALID[0], ORIGIN + "/", "HeadlessChrome", False),
          (VALID[0], ORIGIN + "/", "Mozilla/5.0 (iPhone) Mobile", False),
          (PURCHASE, ORIGIN + "/", "Mozilla/5.0", False), (PURCHASE, ORIGIN + "/", "", False),
          (PURCHASE, ORIGIN + "/", "Mozilla/5.0", True)])
@given(st.lists(st.tuples(query_strategy(), REFERERS, AGENTS, st.booleans()), min_size=1,
                max_size=10))
def test_the_hot_path_decides_as_the_plain_path(hits: list[Hit]) -> None:
    """Ingest.pixel with remembered verdicts and with none count exactly alike."""
    config = config_module.parse({"sites": {"demo": {"origins": ["http://127.0.0.1:*"]}}})
    fast, plain = Ingest(config, Buffer(), b"salt"), Ingest(config, Buffer(), b"salt")
    plain.verdicts = Verdicts(size=0)  # remembers nothing: every hit judged afresh
    for query, referer, agent, gpc in hits * 2:  # the second time round, remembered
        headers = [(b"referer", referer.encode()), (b"user-agent", agent.encode())]
        if gpc:
            headers.append((b"sec-gpc", b"1"))
        outcomes = []
        counters: tuple[Callable[[], None], ...] = (
            lambda: fast.pixel(query, headers, "c", 7200.0),
            lambda: plain.pixel(query, headers, "c", 7200.0))
        for count in counters:
            try:
                count()
                outcomes.append("counted")
            except Drop as drop:
                outcomes.append(drop.reason)
        assert outcomes[0] == outcomes[1], (query, referer, agent, gpc)
    assert fast.buffer.batch == plain.buffer.batch
    assert fast.accepted == plain.accepted
    assert not plain.verdicts.known


# -- a running collector ----------------------------------------------------------------

ENDPOINTS = ["/t.js", "/t.js?site=demo", "/w.js", "/s/demo.css", "/s/demo.js", "/p/demo.js", "/gcm/demo.js", "/p.gif", "/i.gif",
             "/c.gif", "/go/demo/spring-sale", "/healthz", "/metrics", "/"]
PIXELS = {"/p.gif", "/i.gif", "/c.gif"}
METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE", "BREW"]
HOSTILE_QUERIES = [
    "", "s=demo&e=pageview&a=analytics&p=%2F", "x" * 100_000, "&" * 5000, "=" * 3000,
    "%ff%fe%00=%00&&&===&s=demo", "s=demo&e=pageview&a=analytics&p=%E0%A4%A&v=%",
    "s=demo&e=purchase&a=ads&v=NaN&c=EUR", "s=demo&e=purchase&a=ads&v=inf&c=EUR",
    "s=demo&e=purchase&a=ads&v=-1&c=EUR", "s=demo&e=purchase&a=ads&v=1e308&c=EUR",
    "s=demo&e=purchase&a=ads&v=99999999999.999999&c=EUR", "s=demo&e=purchase&a=ads&c=%00",
    "s=" + "demo" * 2000, "s=demo&e=" + "a" * 10_000 + "&a=analytics",
    "s=demo&e=pageview&a=analytics&p=" + "%2Fa" * 5000, "s=demo&" * 40,
    "s=demo&e=pageview&a=analytics&" + "&".join(f"k{i}=v" for i in range(1000)),
    "s=demo&e=pageview&a=analytics-ads&p=%2Faccount%2F" + quote(PII[0]) + "&utm_campaign="
    + quote(PII[1]) + "&utm_source=" + quote(PII[2]) + "&r=" + quote("192.168.1.20")
    + "&o=" + quote(PII[3]) + "&utm_content=" + quote(PII[5]),
    "s=demo&e=pageview&a=analytics&p=" + quote("https://evil.example/" + PII[0]),
    "s=demo&y=analytics-ads&n=" + quote(PII[0]), "s=demo&utm_campaign=" + quote(PII[6]),
    "s=demo&e=pageview&a=analytics&p=%2F%00%01%7f%c0%af",
]
RAW_TARGETS = [b"/p.gif?s=demo&p=\xff\xfe\x00", b"/p.gif?\x00", b"/\xff/../../etc/passwd",
               b"/go/demo/\xc0\xaf", b"/s/\x00.js", b"*", b"//p.gif", b"/p.gif#frag",
               b"/go/%2e%2e/%2e%2e", b"/s/" + quote(PII[0]).encode() + b".js"]


def send(url: str, request: bytes) -> bytes:
    """The whole answer to one raw request on its own connection (b"" if none)."""
    host, port = url.removeprefix("http://").split(":")
    chunks = []
    try:
        with socket.create_connection((host, int(port)), timeout=20) as connection:
            connection.sendall(request)
            while chunk := connection.recv(65536):
                chunks.append(chunk)
    except OSError as error:  # say which request, rather than only how it failed
        raise AssertionError(f"{error!r} after {b''.join(chunks)[:200]!r} for "
                             f"{request[:200]!r}") from error
    return b"".join(chunks)


def request(method: str, target: bytes, body: bytes = b"", **headers: str) -> bytes:
    head = {"Host": "127.0.0.1", "Referer": ORIGIN + "/", "User-Agent": f"Mozilla/5.0 {PII[4]}",
            "Connection": "close", "Content-Length": str(len(body)), **headers}
    lines = b"".join(f"{k}: {v}\r\n".encode("utf-8") for k, v in head.items())
    return method.encode() + b" " + target + b" HTTP/1.1\r\n" + lines + b"\r\n" + body


def status(answer: bytes) -> int:
    assert answer.startswith(b"HTTP/1.1 "), answer[:200]
    return int(answer.split(b" ", 2)[1])


def refused_by_http_parser(answer: bytes) -> bool:
    """uvicorn's own 400 for what is not HTTP it accepts (an unknown method, a request
    line past its limit): the app never sees such a request."""
    return status(answer) == 400 and answer.endswith(b"Invalid HTTP request received.")


def head_too_large(request: bytes) -> bool:
    """A request whose head the connection refuses (431) before any endpoint sees it."""
    return len(request.partition(b"\r\n\r\n")[0]) + 4 > LIMITS.max_head


def stored_text(db: str) -> bytes:
    """Everything the store holds: the SQLite files' bytes, or every PostgreSQL row."""
    if db.startswith("sqlite:///"):
        path = Path(db.removeprefix("sqlite:///"))
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*")).lower()
    store = open_store(db)
    try:
        tables = ["cells", "consents", "orders", "costs", "meta", "batches"]
        return repr([store.fetch(f"SELECT * FROM {table}") for table in tables]).lower().encode()
    finally:
        store.close()


def test_a_running_collector_shrugs_off_garbage(database: str) -> None:
    with ServeProcess("--db", database) as collector:
        for endpoint in ENDPOINTS:
            for query in HOSTILE_QUERIES:
                target = f"{endpoint}?{query}".encode() if query else endpoint.encode()
                for method in METHODS:
                    sent = request(method, target, b"\xff\x00" * 8)
                    answer = send(collector.url, sent)
                    code = status(answer)
                    assert code < 500, (method, target[:100], answer[:300])
                    if endpoint in PIXELS and not refused_by_http_parser(answer):
                        if head_too_large(sent):
                            assert code == 431
                        else:
                            assert code == 200
                            assert answer.endswith(b"" if method == "HEAD" else GIF)
        for target in RAW_TARGETS:
            answer = send(collector.url, request("GET", target))
            assert not answer or status(answer) < 500, (target, answer[:300])

        @settings(max_examples=150, deadline=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(st.sampled_from(ENDPOINTS), st.binary(max_size=300), st.booleans(),
               st.sampled_from(METHODS))
        def generated(endpoint: str, garbage: bytes, encoded: bool, method: str) -> None:
            query = quote(garbage, safe="=&%").encode() if encoded else garbage
            answer = send(collector.url, request(method, endpoint.encode() + b"?" + query))
            assert not answer or status(answer) < 500, (endpoint, query, answer[:300])

        generated()
        assert collector.process.poll() is None, collector.log()
        collector.wait_until(lambda: (collector.health() or {}).get("status") == "ok", "ok")
        metrics = collector.get("/metrics", {"Authorization": f"Bearer {SECRET}"})[1]
        assert b'reason="error"} 0' in metrics, metrics
        collector.stop()
    assert "Traceback" not in collector.log() and "Exception" not in collector.log(), \
        collector.log()
    data = stored_text(database)
    # The valid hits among the garbage were counted, the personal one cleaned.
    assert b"pageview" in data and b"/account/:email" in data
    for personal in PII:
        assert personal.lower().encode() not in data, personal
        assert quote(personal).lower().encode() not in data, personal
