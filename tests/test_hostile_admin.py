"""Attacks on admin access, conversions and the cost API, against a running
`consentpixel serve` over real sockets.

Each client has a loopback address of its own (127.0.10.x), as clients on the internet
have their own addresses: failed admin attempts are counted per client. Two collector
processes share one store, as workers or hosts do.
"""

from __future__ import annotations

import http.client
import json
import re
import sqlite3
import stat
import subprocess
import sys
import time
from email.message import Message
from pathlib import Path
from typing import Any, Iterator, NamedTuple
from urllib.parse import urlencode, urlsplit

import pytest

from consentpixel.store import open_store

from .helpers import ORIGIN
from .servers import AGENT, SECRET, ServeProcess, config_file, stored_hits

FAILURES = 10  # the default of collector.admin_max_failures
BEARER = {"Authorization": f"Bearer {SECRET}"}
COOKIE = "cpx_admin"


class Answer(NamedTuple):
    status: int
    headers: Message
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Client:
    """One client on its own address, keeping cookies as a browser does."""

    def __init__(self, url: str, address: str, cookies: dict[str, str] | None = None) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "", parts.port
        self.address = address
        self.cookies = dict(cookies or {})

    def request(self, method: str, path: str, body: bytes = b"",
                headers: dict[str, str] | None = None) -> Answer:
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection = http.client.HTTPConnection(self.host, self.port, timeout=10,
                                                source_address=(self.address, 0))
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            answer = Answer(response.status, response.headers, response.read())
        finally:
            connection.close()
        for cookie in answer.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            if "max-age=0" in cookie.lower():
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = rest.split(";")[0]
        return answer

    def get(self, path: str, headers: dict[str, str] | None = None) -> Answer:
        return self.request("GET", path, headers=headers)

    def post_form(self, path: str, fields: dict[str, str]) -> Answer:
        return self.request("POST", path, urlencode(fields).encode(),
                            {"Content-Type": "application/x-www-form-urlencoded"})

    def csrf(self, path: str) -> str:
        match = re.search(rb'name="csrf" value="([^"]*)"', self.get(path).body)
        assert match, path
        return match.group(1).decode()

    def sign_in(self, secret: str) -> Answer:
        return self.post_form("/dashboard/login", {"csrf": self.csrf("/dashboard/login"),
                                                   "secret": secret})


class Collectors(NamedTuple):
    first: ServeProcess
    second: ServeProcess  # another collector process on the same store
    db: str


@pytest.fixture(scope="module")
def collectors(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Collectors]:
    directory = tmp_path_factory.mktemp("hostile-admin")
    db = f"sqlite:///{directory / 'store.db'}"
    config = config_file(directory, db, flush_interval=0.2)
    with ServeProcess("--config", str(config)) as first, \
            ServeProcess("--config", str(config)) as second:
        yield Collectors(first, second, db)


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def metrics(collector: ServeProcess) -> dict[str, float]:
    status, text = collector.get("/metrics", BEARER)
    assert status == 200, text
    found = {}
    for line in text.decode().splitlines():
        match = re.match(r"^consentpixel_([a-z_]+)\{pid=\"\d+\"\} (\S+)$", line)
        if match:
            found[match.group(1)] = float(match.group(2))
    return found


def written(collector: ServeProcess) -> dict[str, float]:
    """/metrics once everything answered so far is in the store (nothing held in memory)."""
    collector.wait_until(lambda: metrics(collector)["buffer_cells"] == 0, "everything written")
    return metrics(collector)


def send_pixels(collector: ServeProcess, queries: list[dict[str, str]]) -> None:
    """Pixel hits from a tagged page, one keep-alive connection, each answered."""
    parts = urlsplit(collector.url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        for params in queries:
            query = {"s": "demo", "a": "analytics-ads", "p": "/thanks", **params}
            connection.request("GET", f"/p.gif?{urlencode(query)}",
                               headers={"Referer": ORIGIN + "/", "User-Agent": AGENT})
            response = connection.getresponse()
            assert response.status == 200 and response.read()
    finally:
        connection.close()


# -- guessing the secret -------------------------------------------------------------------


@pytest.mark.parametrize("path, guesser, other", [
    ("/api/v1/sites", "127.0.10.1", "127.0.10.2"),
    ("/metrics", "127.0.10.3", "127.0.10.4"),
])
def test_guessing_the_bearer_token_meets_429(collectors: Collectors, path: str, guesser: str,
                                            other: str) -> None:
    guessing = Client(collectors.first.url, guesser)
    statuses = [guessing.get(path, bearer(f"guess-number-{n:06}")).status
                for n in range(FAILURES + 5)]
    assert statuses == [401] * FAILURES + [429] * 5
    refused = guessing.get(path, bearer(SECRET))  # not even checked now
    assert refused.status == 429 and refused.headers["Cache-Control"] == "no-store"
    assert 55 <= int(refused.headers["Retry-After"]) <= 60
    # The right secret from any other client is never refused for it.
    assert Client(collectors.first.url, other).get(path, BEARER).status == 200


def test_failed_sign_ins_lock_out_their_own_client_only(collectors: Collectors) -> None:
    guessing = Client(collectors.first.url, "127.0.10.5")
    statuses = [guessing.sign_in(f"guess-number-{n:06}").status for n in range(25)]
    assert statuses == [401] * FAILURES + [429] * (25 - FAILURES)
    refused = guessing.sign_in(SECRET)
    assert refused.status == 429 and 55 <= int(refused.headers["Retry-After"]) <= 60
    assert b"try again in" in refused.body
    admin = Client(collectors.first.url, "127.0.10.6")
    assert admin.sign_in(SECRET).status == 303
    assert admin.get("/dashboard").status == 200


# -- sessions ------------------------------------------------------------------------------


def test_signing_out_ends_the_session_in_every_process(collectors: Collectors) -> None:
    first, second = collectors.first, collectors.second
    browser, other_tab = Client(first.url, "127.0.10.7"), Client(first.url, "127.0.10.7")
    assert browser.sign_in(SECRET).status == other_tab.sign_in(SECRET).status == 303
    session = browser.cookies[COOKIE]
    assert other_tab.cookies[COOKIE] != session  # two sign-ins, within a second or not
    assert Client(second.url, "127.0.10.7", browser.cookies).get("/dashboard").status == 200
    token = browser.csrf("/dashboard")
    assert browser.post_form("/dashboard/logout", {"csrf": token}).status == 303
    assert COOKIE not in browser.cookies
    cost = json.dumps({"day": "2026-02-01", "source": "stolen", "medium": "cookie",
                       "campaign": "replayed", "amount": "999"}).encode()
    for collector in (first, second):  # the old cookie, kept by someone, on every process
        replayed = Client(collector.url, "127.0.10.8", {COOKIE: session})
        assert replayed.get("/dashboard").status == 303  # sent to sign in
        assert replayed.get("/api/v1/sites").status == 401
        assert replayed.request("POST", "/api/v1/sites/demo/costs", cost, {
            "Content-Type": "application/json", "X-CSRF-Token": token}).status == 401
    rows = first.get("/api/v1/sites/demo/costs?from=2026-02-01&to=2026-02-28", BEARER)
    assert json.loads(rows[1])["rows"] == []
    assert other_tab.get("/dashboard").status == 200  # only that session ended


# -- /healthz ------------------------------------------------------------------------------


def test_public_health_names_no_store_details(collectors: Collectors) -> None:
    first, path = collectors.first, collectors.db.removeprefix("sqlite:///")
    public = Client(first.url, "127.0.10.9")
    assert public.get("/healthz").json() == {"status": "ok"}
    with sqlite3.connect(path) as database:
        database.execute("ALTER TABLE cells RENAME TO cells_away")
    try:
        send_pixels(first, [{"e": "pageview"}])
        first.wait_until(lambda: public.get("/healthz").json()["status"] != "ok", "degraded")
        answer = public.get("/healthz")
        assert answer.json() == {"status": "degraded"}
        assert path.encode() not in answer.body and b"cells" not in answer.body
        detail = first.health()  # with the admin secret
        assert detail and detail["store"] == "unreachable"
        assert f"{path}: no such table: cells" in detail["error"]
        assert "no such table: cells" in first.log()
    finally:
        with sqlite3.connect(path) as database:
            database.execute("ALTER TABLE cells_away RENAME TO cells")
    first.wait_until(lambda: public.get("/healthz").json() == {"status": "ok"}, "ok again")


# -- conversions ---------------------------------------------------------------------------


def purchases_by_campaign(db: str) -> dict[str, tuple[int, int]]:
    store = open_store(db)
    try:
        return {campaign: (count, value) for campaign, _, _, count, value
                in store.totals("demo", 0, 2**40, ["campaign"], ["purchase"])}
    finally:
        store.close()


def test_predictable_order_ids_cannot_be_taken_over(collectors: Collectors) -> None:
    first = collectors.first
    orders = [str(number) for number in range(1001, 1006)]
    send_pixels(first, [{"e": "purchase", "o": order, "v": "0.01", "c": "EUR",
                         "utm_source": "rival", "utm_medium": "cpc", "utm_campaign": "hijack"}
                        for order in orders])
    written(first)
    send_pixels(first, [{"e": "purchase", "o": order, "v": "49.90", "c": "EUR",
                         "utm_source": "newsletter", "utm_medium": "email",
                         "utm_campaign": "spring-sale"} for order in orders])
    written(first)
    found = purchases_by_campaign(collectors.db)
    # The real purchases keep their value and their campaign's credit.
    assert found["spring-sale"] == (5, 5 * 4990)
    assert found["hijack"] == (5, 5)  # what the attacker sent is all it got


def test_accepted_hits_reconcile_with_repeats_and_the_store(collectors: Collectors) -> None:
    first = collectors.first
    reload = {"e": "purchase", "o": "A-2001", "v": "12.00", "c": "EUR"}
    send_pixels(first, [reload] * 20 + [{"e": "pageview"}] * 3)  # within one write or two
    counted = written(first)
    assert counted["order_repeats_total"] >= 19
    assert counted["hits_accepted_total"] - counted["order_repeats_total"] == \
        stored_hits(collectors.db)


# -- the cost API --------------------------------------------------------------------------


GOOD = (b'{"day": "2026-03-01", "source": "newsletter", "medium": "email", '
        b'"campaign": "spring-sale", "amount": "5"}')
# body -> what the error names
BODIES = [
    (b"[" * 50_000 + b"]" * 50_000, "nests too deeply"),
    (b'{"day": "2026-03-01", "link": "spring-sale", "amount": ' + b"7" * 5000 + b"}",
     "a number of 5000 digits"),
    (b'{"day": "2026-03-01", "source": "\\udc80", "medium": "cpc", "campaign": "x", '
     b'"amount": "1"}', "lone surrogate"),
    (b"[" + GOOD + b', {"day": "2026-03-02", "source": "x\\ud800", "medium": "cpc", '
     b'"campaign": "x", "amount": "1"}]', "lone surrogate"),
]


@pytest.mark.parametrize("body, named", BODIES, ids=["nested", "digits", "surrogate", "list"])
def test_malformed_cost_bodies_are_refused_whole(collectors: Collectors, body: bytes,
                                                 named: str) -> None:
    client = Client(collectors.first.url, "127.0.10.10")
    answer = client.request("POST", "/api/v1/sites/demo/costs", body,
                            {**BEARER, "Content-Type": "application/json"})
    assert 400 <= answer.status < 500, answer
    assert answer.headers["Content-Type"] == "application/json"
    assert named in answer.json()["error"]
    rows = client.get("/api/v1/sites/demo/costs?from=2026-03-01&to=2026-03-31", BEARER)
    assert rows.json()["rows"] == []  # not the list's first entry either


# -- the secret itself ---------------------------------------------------------------------


def consentpixel(*args: str, secret: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", **({"CONSENTPIXEL_ADMIN_SECRET": secret} if secret else {})}
    return subprocess.run([sys.executable, "-m", "consentpixel", *args], capture_output=True,
                          text=True, timeout=30, env=env)


def test_weak_secrets_are_refused_in_one_line(tmp_path: Path) -> None:
    weak = tmp_path / "weak.toml"
    weak.write_text('[collector]\nadmin_secret = "a"\n[sites.shop]\norigins = ["https://x.example"]\n')
    db = f"sqlite:///{tmp_path / 'weak.db'}"
    for done in (consentpixel("check", str(weak)),
                 consentpixel("serve", "--port", "0", "--config", str(weak)),
                 consentpixel("serve", "--port", "0", "--db", db, secret="a" * 15)):
        assert done.returncode == 2, done
        assert done.stderr.count("\n") == 1
        assert "the admin secret needs at least 16 characters" in done.stderr


def workers_admitting(collector: ServeProcess, secret: str, workers: int = 2) -> set[str]:
    """The worker processes (the pids /metrics names) seen admitting the secret, each
    request on a new connection; empty at the first refusal."""
    found: set[str] = set()
    deadline = time.monotonic() + 30
    while len(found) < workers and time.monotonic() < deadline:
        status, text = collector.get("/metrics", bearer(secret))
        if status != 200:
            return set()
        found.add(re.findall(r'pid="(\d+)"', text.decode())[0])
    return found


def test_the_generated_secret_is_kept_shared_and_rotated(tmp_path: Path) -> None:
    config = config_file(tmp_path, f"sqlite:///{tmp_path / 'shop.db'}")
    kept = tmp_path / "shop.secret"
    with ServeProcess("--config", str(config), secret=None) as alone:
        assert kept.exists() and stat.S_IMODE(kept.stat().st_mode) == 0o600
        secret = kept.read_text().strip()
        assert f"(admin secret: kept in {kept})" in alone.log()
        assert secret not in alone.log()
        assert alone.get("/api/v1/sites", bearer(secret))[0] == 200
    with ServeProcess("--config", str(config), "--workers", "2", secret=None) as workers:
        assert kept.read_text().strip() == secret  # a restart keeps it
        assert len(workers_admitting(workers, secret)) == 2
        browser = Client(workers.url, "127.0.10.11")
        assert browser.sign_in(secret).status == 303
        rotated = consentpixel("secret", "rotate", "--config", str(config))
        assert rotated.returncode == 0, rotated
        assert str(kept) in rotated.stdout and "1 dashboard sessions ended" in rotated.stdout
        new = kept.read_text().strip()
        assert new != secret and new not in rotated.stdout
        # New connections land on either worker: none takes the old secret any more.
        assert [workers.get("/metrics", bearer(secret))[0] for _ in range(6)] == [401] * 6
        assert len(workers_admitting(workers, new)) == 2
        assert browser.get("/dashboard").status == 303  # the session ended with the secret
