"""End-to-end fixtures: the real `consentpixel serve`, fixture pages on another origin,
and real headless Chromium.

The collector runs as `python -m consentpixel serve` on a free port with a store in a
temporary directory; the fixture pages are served from http://localhost:PORT while the
collector answers on http://127.0.0.1:PORT, so every hit crosses origins as it would
on a real site. The parts come from consentpixel.testing, behind the pytest plugin that
users get too (consentpixel.pytest_plugin); the names here are the suite's own.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page

from consentpixel.audit.chromium import CHROMIUM_ARGS, chromium_path
from consentpixel.testing import CollectorProcess, start_collector
from consentpixel.testing import PageServer as Pages

__all__ = ["CHROMIUM", "CHROMIUM_ARGS", "CollectorProcess", "PageServer", "Visit",
           "start_collector"]

PAGES = Path(__file__).parent / "pages"
CHROMIUM = chromium_path() or ""


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[CollectorProcess]:
    """The demo collector (no config), with a fresh store."""
    running = start_collector(tmp_path)
    yield running
    running.stop()


@pytest.fixture
def collector_with(tmp_path: Path) -> Iterator[Callable[[str], CollectorProcess]]:
    """Start a collector with the given TOML config text."""
    started: list[CollectorProcess] = []

    def start(config_text: str) -> CollectorProcess:
        running = start_collector(tmp_path, config_text)
        started.append(running)
        return running

    yield start
    for running in started:
        running.stop()


class PageServer(Pages):
    """Serves e2e/pages on http://localhost:PORT, with {{collector}} filled in."""

    def __init__(self, root: Path = PAGES) -> None:
        super().__init__(root)


@pytest.fixture(scope="session")
def pages() -> Iterator[PageServer]:
    server = PageServer()
    yield server
    server.close()


@pytest.fixture(scope="session")
def browser(cpx_browser: Browser) -> Browser:
    """The plugin's Chromium: one Playwright per test session."""
    return cpx_browser


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    created = browser.new_context()
    yield created
    created.close()


class Visit:
    """A page with what the test needs to see: pixels fired and console errors."""

    def __init__(self, page: Page, collector: CollectorProcess) -> None:
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
def visit(context: BrowserContext, collector: CollectorProcess, pages: PageServer
          ) -> Callable[..., Visit]:
    """Open a fixture page (or a URL) against the demo collector."""
    pages.collector = collector.url

    def open_page(name: str, page: Page | None = None, wait: str = "load") -> Visit:
        seen = Visit(page or context.new_page(), collector)
        url = name if ":" in name else pages.page(name)
        seen.page.goto(url, wait_until=wait)  # type: ignore[arg-type]
        return seen

    return open_page
