"""consentpixel's pytest plugin: a collector, your pages and a real browser, in your suite.

Installing consentpixel registers it (entry point `pytest11`). Its fixtures are named
`cpx_…`, so they live beside pytest-playwright's `page` and `browser`:

- `cpx_collector`: `consentpixel serve` on a free port with a temporary store (or
  yours, with --cpx-collector and --cpx-db); `.url`, `.counts()`, `.expect_count()`.
- `cpx_pages`: serves pages on http://localhost:PORT with {{collector}} filled in.
- `cpx_open(url)`: a visitor with a fresh profile in headless Chromium; decide with
  `.accept()`, `.reject()`, `.choose("analytics")`; assert with `.assert_fired(...)`
  and `.assert_nothing_gated()`.
- `cpx_browser`: the Chromium those visits share.

Nothing here imports Playwright, or the collector itself, until a fixture needs it, so
suites that use none of this pay nothing and need nothing.
"""

from __future__ import annotations

import http.server
import json
import mimetypes
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from .audit.session import Session
    from .audit.model import RecordedRequest, TagSettings
    from .audit.traffic import Classifier

STARTUP = 20.0  # seconds `consentpixel serve` may take to say where it listens
TEXT_TYPES = ("text/", "application/javascript", "application/json")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("consentpixel", "consentpixel fixtures (cpx_…)")
    group.addoption("--cpx-collector", default=os.environ.get("CONSENTPIXEL_TEST_COLLECTOR"),
                    help="use this running collector instead of starting one "
                         "(CONSENTPIXEL_TEST_COLLECTOR)")
    group.addoption("--cpx-db", default=os.environ.get("CONSENTPIXEL_TEST_DB"),
                    help="its database URL, for counts (CONSENTPIXEL_TEST_DB)")
    group.addoption("--cpx-config", default=os.environ.get("CONSENTPIXEL_TEST_CONFIG"),
                    help="the config of the collector (default: the demo site) "
                         "(CONSENTPIXEL_TEST_CONFIG)")


# -- the collector -------------------------------------------------------------------


class Collector:
    """A collector the tests talk to: one the plugin started, or yours."""

    def __init__(self, url: str, db: str | None, config: Path | None = None,
                 process: subprocess.Popen[str] | None = None,
                 output: list[str] | None = None, reader: threading.Thread | None = None
                 ) -> None:
        self.url = url.rstrip("/")
        self.db_url = db
        sqlite = db[len("sqlite:///"):] if db and db.startswith("sqlite:///") else ""
        self.db = Path(sqlite) if sqlite else None
        self.config = config
        self.process = process
        self.output = output if output is not None else []
        self.reader = reader
        self.site = first_site(config)

    def report(self, site: str | None = None, *by: str) -> list[dict[str, Any]]:
        """Rows of `consentpixel report --format json`, run as a user runs it."""
        if not self.db_url:
            raise RuntimeError("counts need the collector's database: pass --cpx-db URL")
        args = [sys.executable, "-m", "consentpixel", "report", "--site", site or self.site,
                "--db", self.db_url, "--format", "json"]
        if self.config:
            args += ["--config", str(self.config)]
        for group in by:
            args += ["--by", group]
        done = subprocess.run(args, capture_output=True, text=True, timeout=30)
        if done.returncode != 0:
            raise AssertionError(f"consentpixel report failed: {done.stderr.strip()}")
        rows: list[dict[str, Any]] = json.loads(done.stdout)
        return rows

    def counts(self, site: str | None = None) -> dict[str, int]:
        """Events and their counts in the store, e.g. {"pageview": 2, "purchase": 1}."""
        return {row["event"]: row["count"] for row in self.report(site)}

    def wait_for(self, check: Callable[[], bool], timeout: float = 5.0) -> None:
        """Poll until check() holds: the collector writes its buffer every second."""
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"not reached within {timeout} s; store: {self.dump()}")
            time.sleep(0.2)

    def expect_count(self, event: str, count: int, site: str | None = None,
                     timeout: float = 10.0) -> None:
        """Wait until the store counts exactly `count` of `event`."""
        seen: dict[str, int] = {}

        def reached() -> bool:
            seen.update(self.counts(site))
            return seen.get(event, 0) == count

        try:
            self.wait_for(reached, timeout)
        except AssertionError:
            raise AssertionError(f"the store counts {seen.get(event, 0)} {event}, not {count}; "
                                 f"all counts: {seen}") from None

    def dump(self) -> str:
        """Everything in a SQLite store, as text: what privacy tests search."""
        if self.db is None or not self.db.exists():
            return ""
        connection = sqlite3.connect(self.db)
        try:
            lines = [f"{name}: {row}" for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")
                for row in connection.execute(f"SELECT * FROM {name}")]  # noqa: S608
        finally:
            connection.close()
        return "\n".join(lines)

    def stored_bytes(self) -> bytes:
        """The raw bytes of a SQLite store and its write-ahead log, lowercased."""
        if self.db is None:
            return b""
        return b"".join(path.read_bytes() for path in self.db.parent.glob(self.db.name + "*")
                        ).lower()

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.reader:
            self.reader.join(timeout=5)
        if self.process.stdout:
            self.process.stdout.close()


def first_site(config: Path | None) -> str:
    if config is None:
        return "demo"
    from .config import load

    return next(iter(load(config).sites))


def start_collector(tmp: Path, config_text: str | None = None,
                    config: Path | None = None) -> Collector:
    """`python -m consentpixel serve` on a free port, with a store in tmp."""
    db = tmp / "store.db"
    args = [sys.executable, "-m", "consentpixel", "serve", "--port", "0",
            "--db", f"sqlite:///{db}"]
    if config_text is not None:
        config = tmp / "consentpixel.toml"
        config.write_text(config_text)
    if config is not None:
        args += ["--config", str(config)]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    output: list[str] = []
    assert process.stdout is not None
    deadline = time.monotonic() + STARTUP
    url = None
    while time.monotonic() < deadline and url is None:
        line = process.stdout.readline()
        if not line:
            break
        output.append(line)
        match = re.search(r"collecting on (http://\S+)", line)
        if match:
            url = match.group(1)
    if url is None:
        process.kill()
        rest = process.stdout.read() or ""
        process.wait()
        process.stdout.close()
        raise RuntimeError("consentpixel serve did not start:\n" + "".join(output) + rest)
    reader = threading.Thread(target=lambda: output.extend(process.stdout or []), daemon=True)
    reader.start()
    return Collector(url, f"sqlite:///{db}", config, process, output, reader)


# -- pages ---------------------------------------------------------------------------


class PageServer:
    """Serves pages on http://localhost:PORT: files under root, and pages added with
    add(). "{{collector}}" in them becomes the collector's URL. The collector answers
    on 127.0.0.1, so every hit crosses origins as it does on a real site."""

    def __init__(self, root: Path | None = None, collector: str = "") -> None:
        self.root = root.resolve() if root else None
        self.collector = collector
        self.headers: dict[str, dict[str, str]] = {}  # page name → extra response headers
        self.added: dict[str, str] = {}
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.url = f"http://localhost:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def add(self, name: str, html: str) -> str:
        """Serve html as /name; returns its URL."""
        self.added[name.lstrip("/")] = html
        return self.page(name)

    def page(self, name: str) -> str:
        return f"{self.url}/{name.lstrip('/')}"

    def body(self, name: str) -> tuple[bytes, str] | None:
        if name in self.added:
            return self.fill(self.added[name]).encode(), "text/html; charset=utf-8"
        if self.root is None:
            return None
        file = (self.root / name).resolve()
        if self.root not in file.parents or not file.is_file():
            return None
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if kind.startswith(TEXT_TYPES):
            return self.fill(file.read_text()).encode(), f"{kind}; charset=utf-8"
        return file.read_bytes(), kind

    def fill(self, text: str) -> str:
        return text.replace("{{collector}}", self.collector)

    def handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                name = self.path.split("?", 1)[0].split("#", 1)[0].lstrip("/") or "index.html"
                if name == "favicon.ico":
                    return self.empty(204)
                found = server.body(name)
                if found is None:
                    return self.send_error(404)
                body, kind = found
                nonce = re.search(rb'nonce="([^"]+)"', body)
                self.send_response(200)
                self.send_header("Content-Type", kind)
                for key, value in server.headers.get(name, {}).items():
                    self.send_header(key, server.fill(value).replace(
                        "{{nonce}}", nonce.group(1).decode() if nonce else ""))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802
                # Beacons and forms: read and forget; the browser's side is what counts.
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.empty(204)

            def empty(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


# -- a visitor -----------------------------------------------------------------------


class Visit:
    """One visitor with a fresh profile: what their browser sent, and how to decide.

    Pixels reach the collector (so it counts them); known third-party tracker beacons
    are answered inside the browser, so the suite needs no internet and counts in no
    one's statistics.
    """

    def __init__(self, session: Session, collector: Collector) -> None:
        self.session = session
        self.collector = collector
        self.page: Page = session.page

    def goto(self, url: str) -> Visit:
        from .audit.chromium import PageError

        try:
            self.session.goto(url)
        except PageError as exc:
            raise AssertionError(f"{url}: {exc}") from None
        self.session.started()
        return self

    def reload(self) -> None:
        """Reload the page and wait for the tag to start again."""
        self.session.reload()
        self.session.started()

    def accept(self) -> None:
        self.decide("accept")

    def reject(self) -> None:
        self.decide("reject")

    def choose(self, *categories: str) -> None:
        """Allow these categories only, through the banner's preferences."""
        self.decide("only", categories)

    def decide(self, action: str, categories: tuple[str, ...] = ()) -> None:
        from .audit.chromium import PageError

        try:
            self.session.decide(action, categories)
        except PageError as exc:
            raise AssertionError(str(exc)) from None

    def consent(self) -> dict[str, bool] | None:
        """cpx('consent'), once the tag has started."""
        return self.session.consent()

    def settle(self) -> None:
        """Wait until the page has sent nothing for a moment."""
        self.session.settle()

    def settings(self) -> TagSettings:
        settings = self.session.settings()
        if settings is None:
            raise AssertionError("the tag did not start: its site settings never arrived")
        return settings

    def requests(self) -> list[RecordedRequest]:
        """Every request so far, classified, with personal data masked."""
        return [self.classifier().request(raw) for raw in self.session.recorder.requests()]

    def pixels(self, event: str | None = None, file: str = "p.gif") -> list[dict[str, str]]:
        """The parameters of the collector's pixels so far (p.gif, or c.gif, i.gif)."""
        from .audit.traffic import ours, pixel_params

        base = self.collector.url + "/"
        found = [pixel_params(raw.url) for raw in self.session.recorder.requests()
                 if ours(raw.url, base) == file]
        return [p for p in found if event is None or p.get("e") == event]

    def events(self) -> list[str]:
        return [pixel.get("e", "") for pixel in self.pixels()]

    def assert_fired(self, event: str, timeout: float = 5.0, **params: Any) -> dict[str, str]:
        """The first pixel for event whose parameters include params; waits for it."""
        wanted = {key: str(value) for key, value in params.items()}
        deadline = time.monotonic() + timeout
        while True:
            for pixel in self.pixels(event):
                if all(pixel.get(key) == value for key, value in wanted.items()):
                    return pixel
            if time.monotonic() > deadline:
                raise AssertionError(f"no {event} pixel with {wanted}; fired: {self.pixels()}")
            self.page.wait_for_timeout(100)

    def assert_nothing_gated(self, *granted: str) -> None:
        """Nothing beyond `granted` (default: nothing) fired or was stored: no pixel
        for another category, no known tracker beacon, cookie or storage key."""
        from .audit.checks import gated
        from .audit.model import Scenario, Step

        self.settle()
        settings = self.settings()
        classifier = self.classifier()
        step = Step(self.session.recorder.step, "so far", decided=True, t=0.0)
        step.cookies = [classifier.cookie(c["name"], c["domain"], c["value"])
                        for c in self.session.context.cookies()]
        step.storage = [classifier.stored(area, key) for area, key in self.session.storage()]
        visit = Scenario("visit", "this visit", "none", granted, steps=[step],
                         requests=self.requests())
        problems = gated(visit, [step], settings)
        if problems:
            raise AssertionError("gated by consent, yet sent or stored:\n  "
                                 + "\n  ".join(problems))

    def classifier(self) -> Classifier:
        from .audit.traffic import Classifier

        found = sorted(self.session.recorder.collectors)
        return Classifier(self.page.url, found[0] if found else self.collector.url + "/",
                          self.session.options.trackers, self.session.settings())

    def close(self) -> None:
        self.session.close()


# -- fixtures ------------------------------------------------------------------------


@pytest.fixture
def cpx_config(request: pytest.FixtureRequest) -> Path | None:
    """The collector's config file; None runs the demo site. Override it to use yours."""
    path = request.config.getoption("--cpx-config")
    return Path(path) if path else None


@pytest.fixture
def cpx_collector(request: pytest.FixtureRequest, tmp_path: Path,
                  cpx_config: Path | None) -> Iterator[Collector]:
    """A running collector: started for the test with a fresh store, or yours."""
    url = request.config.getoption("--cpx-collector")
    if url:
        yield Collector(url, request.config.getoption("--cpx-db"), cpx_config)
        return
    running = start_collector(tmp_path, config=cpx_config)
    yield running
    running.stop()


@pytest.fixture
def cpx_pages(cpx_collector: Collector) -> Iterator[PageServer]:
    """A page server for the test, its pages pointing at cpx_collector."""
    server = PageServer(collector=cpx_collector.url)
    yield server
    server.close()


@pytest.fixture(scope="session")
def cpx_browser() -> Iterator[Browser]:
    """Headless Chromium: CONSENTPIXEL_CHROMIUM, the system's, or Playwright's own."""
    from .audit.chromium import chromium

    with chromium() as browser:
        yield browser


@pytest.fixture
def cpx_open(cpx_browser: Browser, cpx_collector: Collector) -> Iterator[Callable[..., Visit]]:
    """Open a URL as a new visitor: cpx_open(url, gpc=False) → Visit."""
    from .audit.session import Options, Session

    visits: list[Visit] = []

    def open_page(url: str, *, gpc: bool = False) -> Visit:
        session = Session(cpx_browser, Options(), gpc=gpc, answer_pixels=False)
        visits.append(Visit(session, cpx_collector))
        return visits[-1].goto(url)

    yield open_page
    for visit in visits:
        visit.close()
