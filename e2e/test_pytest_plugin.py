"""The plugin's fixtures and assertions in a real browser: they fail when they should,
and point at a collector or config of the user's own.

The documented example (docs/testing.md, e2e/test_plugin_example.py) shows them passing.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Callable, Iterator

import pytest

from consentpixel.testing import CollectorProcess, PageServer, Visit

SITES = Path(__file__).parent / "audit_sites"


@pytest.fixture
def sites(cpx_collector: CollectorProcess) -> Iterator[PageServer]:
    server = PageServer(SITES, cpx_collector.url)
    yield server
    server.close()


def test_nothing_gated_names_the_tracker_that_fired(sites: PageServer,
                                                    cpx_open: Callable[..., Visit]) -> None:
    visit = cpx_open(sites.page("beacon-early.html"))
    with pytest.raises(AssertionError, match=r"Meta Pixel \(ads\) GET https://www\.facebook"):
        visit.assert_nothing_gated()


def test_nothing_gated_sees_pixels_and_cookies_beyond_the_choice(
        sites: PageServer, cpx_open: Callable[..., Visit]) -> None:
    visit = cpx_open(sites.page("good.html"))
    visit.assert_nothing_gated()
    visit.accept()
    with pytest.raises(AssertionError) as raised:
        visit.assert_nothing_gated("analytics")
    assert "cookie _fbp" in str(raised.value) and "Meta Pixel (ads)" in str(raised.value)
    with pytest.raises(AssertionError, match=r"p\.gif .*e=pageview.* \(needs analytics\)"):
        visit.assert_nothing_gated("ads")
    visit.assert_nothing_gated("analytics", "ads")


def test_assert_fired_says_what_did_fire(sites: PageServer,
                                         cpx_open: Callable[..., Visit]) -> None:
    visit = cpx_open(sites.page("products.html"))
    visit.choose("analytics")
    assert visit.assert_fired("pageview", p="/products.html", a="analytics")["s"] == "demo"
    with pytest.raises(AssertionError, match=r"no signup pixel with \{\}; fired: .*pageview"):
        visit.assert_fired("signup", timeout=0.5)
    with pytest.raises(AssertionError, match="no pageview pixel with {'a': 'ads'}"):
        visit.assert_fired("pageview", timeout=0.5, a="ads")


def test_expect_count_says_what_the_store_counts(cpx_collector: CollectorProcess) -> None:
    with pytest.raises(AssertionError, match="the store counts 0 purchase, not 1"):
        cpx_collector.expect_count("purchase", 1, timeout=1.5)


THEIR_TEST = '''
def test_their_page(cpx_collector, cpx_pages, cpx_open):
    assert cpx_collector.site == {site!r}
    assert {which}
    page = cpx_pages.add("index.html", '<script async src="{{{{collector}}}}/t.js" '
                                       'data-site="{site}"></script><h1>Hello</h1>')
    visit = cpx_open(page)
    visit.accept()
    visit.assert_fired("pageview", s={site!r})
    cpx_collector.expect_count("pageview", 1)
'''


def their_suite(folder: Path, test: str, *args: str) -> subprocess.CompletedProcess[str]:
    (folder / "test_theirs.py").write_text(test)
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "test_theirs.py", *args], cwd=folder, capture_output=True,
                          text=True, timeout=120)


def test_a_suite_can_use_a_running_collector(collector: CollectorProcess, tmp_path: Path) -> None:
    which = f"cpx_collector.url == {collector.url!r}"
    done = their_suite(tmp_path, THEIR_TEST.format(which=which, site="demo"),
                       "--cpx-collector", collector.url, "--cpx-db", f"sqlite:///{collector.db}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert collector.counts() == {"pageview": 1}  # counted in the collector we gave it


# A production config: its pages are on https://shop.example, automation not counted.
PRODUCTION = '[sites.shop]\norigins = ["https://shop.example"]\ncount_automation = false\n'

NOT_COUNTED_TEST = '''
import re
import pytest

def test_a_failed_count_says_why(cpx_collector, cpx_pages, cpx_open):
    # An event the config does not declare, sent by the page itself.
    page = cpx_pages.add("webinar.html", '<script async src="{{collector}}/t.js" '
                         'data-site="shop"></script>'
                         '<img src="{{collector}}/p.gif?s=shop&e=webinar&p=/">')
    visit = cpx_open(page)
    why = re.escape('event webinar is not declared: add webinar = "ads" to [sites.shop.events]')
    with pytest.raises(AssertionError, match="(?s)the store counts 0 webinar, not 1;.*" + why):
        cpx_collector.expect_count("webinar", 1, timeout=2)
    with pytest.raises(AssertionError, match="(?s)no purchase pixel .*did not count:.*" + why):
        visit.assert_fired("purchase", timeout=0.2)
'''


def test_a_suite_can_use_its_own_config(tmp_path: Path) -> None:
    # The plugin's collector counts the suite's own pages (served from localhost, in an
    # automated browser) without the user changing their production config.
    config = tmp_path / "shop.toml"
    config.write_text(PRODUCTION)
    started = "cpx_collector.process is not None"  # by the plugin, with this config
    done = their_suite(tmp_path, THEIR_TEST.format(which=started, site="shop")
                       + NOT_COUNTED_TEST, "--cpx-config", str(config))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
    assert config.read_text() == PRODUCTION
