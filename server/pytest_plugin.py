"""consentpixel's pytest plugin: a collector, your pages and a real browser, in your suite.

Installing consentpixel registers it (entry point `pytest11`). Its fixtures are named
`cpx_…`, so they live beside pytest-playwright's `page` and `browser`:

- `cpx_collector`: `consentpixel serve` on a free port with a temporary store (or
  yours, with --cpx-collector and --cpx-db); `.url`, `.counts()`, `.expect_count()`.
  With --cpx-config it runs a copy of that config that counts the tests' own pages
  (their loopback origin allowed, automation counted); a count that fails says why
  hits were not counted.
- `cpx_pages`: serves pages on http://localhost:PORT with {{collector}} filled in.
- `cpx_open(url)`: a visitor with a fresh profile in headless Chromium; decide with
  `.accept()`, `.reject()`, `.choose("analytics")`; assert with `.assert_fired(...)`
  and `.assert_nothing_gated()`.
- `cpx_browser`: the Chromium those visits share.

The machinery is in consentpixel.testing; this module holds the options and fixtures.
Nothing here imports it, Playwright, or the collector itself until a fixture needs
it, so suites that use none of this pay nothing and need nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import pytest

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from .testing import CollectorProcess, PageServer, Visit

# The classes a suite may import from here for its annotations, loaded from
# consentpixel.testing when first asked for.
EXPORTS = {"CollectorProcess": "CollectorProcess", "PageServer": "PageServer", "Visit": "Visit"}


def __getattr__(name: str) -> Any:
    if name not in EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import testing

    return getattr(testing, EXPORTS[name])


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


@pytest.fixture
def cpx_config(request: pytest.FixtureRequest) -> Path | None:
    """The collector's config file; None runs the demo site. Override it to use yours.

    The collector started with it runs on a copy that also allows the test pages'
    loopback origins and counts automated browsers (the tests' own is one)."""
    path = request.config.getoption("--cpx-config")
    return Path(path) if path else None


@pytest.fixture
def cpx_collector(request: pytest.FixtureRequest, tmp_path: Path,
                  cpx_config: Path | None) -> Iterator[CollectorProcess]:
    """A running collector: started for the test with a fresh store, or yours."""
    from .testing import CollectorProcess, start_collector

    url = request.config.getoption("--cpx-collector")
    running = (CollectorProcess(url, request.config.getoption("--cpx-db"), cpx_config) if url
               else start_collector(tmp_path, config=cpx_config, counting=True))
    yield running
    running.stop()  # yours keeps running: this only closes its store


@pytest.fixture
def cpx_pages(cpx_collector: CollectorProcess) -> Iterator[PageServer]:
    """A page server for the test, its pages pointing at cpx_collector."""
    from .testing import PageServer

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
def cpx_open(cpx_browser: Browser, cpx_collector: CollectorProcess
             ) -> Iterator[Callable[..., Visit]]:
    """Open a URL as a new visitor: cpx_open(url, gpc=False) → Visit."""
    from .testing import Visit

    visits: list[Visit] = []

    def open_page(url: str, *, gpc: bool = False) -> Visit:
        visits.append(Visit.start(cpx_browser, cpx_collector, gpc=gpc))
        return visits[-1].goto(url)

    yield open_page
    for visit in visits:
        visit.close()
