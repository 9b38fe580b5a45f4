"""End-to-end fixtures: the real `consentpixel serve`, fixture pages on another origin,
and real headless Chromium.

The collector runs as `python -m consentpixel serve` on a free port with a store in a
temporary directory; the fixture pages are served from http://localhost:PORT while the
collector answers on http://127.0.0.1:PORT, so every hit crosses origins as it would
on a real site.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

PAGES = Path(__file__).parent / "pages"
CHROMIUM = os.environ.get("CONSENTPIXEL_CHROMIUM") or shutil.which("chromium") or ""
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


class Collector:
    """A running `consentpixel serve` and its store."""

    def __init__(self, process: subprocess.Popen[str], url: str, db: Path,
                 config: Path | None, output: list[str], reader: threading.Thread) -> None:
        self.process = process
        self.reader = reader
        self.url = url
        self.db = db
        self.config = config
        self.output = output

    def report(self, site: str = "demo", *by: str) -> list[dict[str, Any]]:
        args = [sys.executable, "-m", "consentpixel", "report", "--site", site,
                "--db", f"sqlite:///{self.db}", "--format", "json"]
        if self.config:
            args += ["--config", str(self.config)]
        for group in by:
            args += ["--by", group]
        done = subprocess.run(args, capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def counts(self, site: str = "demo") -> dict[str, int]:
        return {row["event"]: row["count"] for row in self.report(site)}

    def wait_for(self, check: Callable[[], bool], timeout: float = 5.0) -> None:
        """Poll until check() holds: the collector writes its buffer every second."""
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"not reached within {timeout} s; store: {self.dump()}")
            time.sleep(0.2)

    def dump(self) -> str:
        """Everything in the store, as text: what privacy tests search."""
        if not self.db.exists():
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
        """The raw bytes of the database and its write-ahead log, lowercased."""
        return b"".join(path.read_bytes() for path in self.db.parent.glob(self.db.name + "*")
                        ).lower()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.reader.join(timeout=5)
        if self.process.stdout:
            self.process.stdout.close()


def start_collector(tmp: Path, config_text: str | None = None) -> Collector:
    db = tmp / "store.db"
    config = None
    args = [sys.executable, "-m", "consentpixel", "serve", "--port", "0",
            "--db", f"sqlite:///{db}"]
    if config_text is not None:
        config = tmp / "consentpixel.toml"
        config.write_text(config_text)
        args += ["--config", str(config)]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    output: list[str] = []
    assert process.stdout is not None
    deadline = time.monotonic() + 20
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
        raise RuntimeError("consentpixel serve did not start:\n" + "".join(output)
                           + (process.stdout.read() or ""))
    reader = threading.Thread(target=lambda: output.extend(process.stdout or []), daemon=True)
    reader.start()
    return Collector(process, url, db, config, output, reader)


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[Collector]:
    """The demo collector (no config), with a fresh store."""
    running = start_collector(tmp_path)
    yield running
    running.stop()


@pytest.fixture
def collector_with(tmp_path: Path) -> Iterator[Callable[[str], Collector]]:
    """Start a collector with the given TOML config text."""
    started: list[Collector] = []

    def start(config_text: str) -> Collector:
        running = start_collector(tmp_path, config_text)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


class PageServer:
    """Serves e2e/pages on http://localhost:PORT, with {{collector}} filled in."""

    def __init__(self) -> None:
        self.collector = ""
        self.headers: dict[str, dict[str, str]] = {}
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                name = self.path.split("?", 1)[0].split("#", 1)[0].lstrip("/") or "index.html"
                if name == "favicon.ico":
                    self.send_response(204)
                    self.end_headers()
                    return
                file = (PAGES / name).resolve()
                if PAGES not in file.parents or not file.is_file():
                    self.send_error(404)
                    return
                body = file.read_text().replace("{{collector}}", server.collector)
                nonce = re.search(r'nonce="([^"]+)"', body)
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                for key, value in server.headers.get(name, {}).items():
                    self.send_header(key, value.replace("{{collector}}", server.collector)
                                     .replace("{{nonce}}", nonce.group(1) if nonce else ""))
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://localhost:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def page(self, name: str) -> str:
        return f"{self.url}/{name}"


@pytest.fixture(scope="session")
def pages() -> Iterator[PageServer]:
    server = PageServer()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM or None,
                                              args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    created = browser.new_context()
    yield created
    created.close()


class Visit:
    """A page with what the test needs to see: pixels fired and console errors."""

    def __init__(self, page: Page, collector: Collector) -> None:
        self.page = page
        self.collector = collector
        self.pixels: list[dict[str, str]] = []
        self.errors: list[str] = []
        page.on("request", self.on_request)
        page.on("response", lambda r: r.status >= 400 and self.errors.append(
            f"{r.status} {r.url}"))
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def on_request(self, request: Any) -> None:
        url = request.url
        if url.startswith(self.collector.url) and re.search(r"/[pci]\.gif\?", url):
            from urllib.parse import parse_qsl, urlsplit

            parts = urlsplit(url)
            self.pixels.append({"file": parts.path.lstrip("/"), "url": url,
                                **dict(parse_qsl(parts.query))})

    def fired(self, file: str = "p.gif") -> list[dict[str, str]]:
        return [pixel for pixel in self.pixels if pixel["file"] == file]

    def events(self) -> list[str]:
        return [pixel["e"] for pixel in self.fired()]

    def settle(self, ms: int = 400) -> None:
        self.page.wait_for_timeout(ms)


@pytest.fixture
def visit(context: BrowserContext, collector: Collector, pages: PageServer
          ) -> Callable[..., Visit]:
    """Open a fixture page (or a URL) against the demo collector."""
    pages.collector = collector.url

    def open_page(name: str, page: Page | None = None, wait: str = "load") -> Visit:
        seen = Visit(page or context.new_page(), collector)
        url = name if ":" in name else pages.page(name)
        seen.page.goto(url, wait_until=wait)  # type: ignore[arg-type]
        return seen

    return open_page
