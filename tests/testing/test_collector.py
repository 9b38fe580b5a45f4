"""A collector for tests: its counts, read in-process as the report command reads them.

Starting `consentpixel serve` and counting what a browser sent runs in
e2e/test_pytest_plugin.py and the other end-to-end tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from consentpixel.buffer import Batch
from consentpixel.config import load
from consentpixel.drops import DropKey
from consentpixel.store import open_store
from consentpixel.testing import CollectorProcess
from consentpixel.testing.collector import counting_config

from ..helpers import cell, seed

HOUR = int(time.time()) // 3600 * 3600  # counts cover the last 30 days: now is in them


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A store with page views, a campaign's purchases and a rare campaign."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = open_store(url)
    seed(store, {cell(period=HOUR): (5, 0), cell(period=HOUR - 86400, path="/shop"): (2, 0),
                 cell("purchase", "spring", period=HOUR, currency="EUR"): (2, 9980),
                 cell("purchase", "rare", period=HOUR, currency="EUR"): (1, 1490),
                 cell("signup", period=HOUR - 40 * 86400): (3, 0)})  # outside the 30 days
    store.close()
    return url


def report_command(db: str, *args: str) -> Any:
    done = subprocess.run([sys.executable, "-m", "consentpixel", "report", "--site", "demo",
                           "--db", db, "--format", "json", *args],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("by", [(), ("campaign",), ("day", "path")])
def test_rows_are_the_report_commands(db: str, by: tuple[str, ...]) -> None:
    collector = CollectorProcess("http://127.0.0.1:1/", db)
    flags = [arg for group in by for arg in ("--by", group)]
    assert collector.report("demo", *by) == report_command(db, *flags, "--min-count", "1")
    collector.stop()


def test_counts_per_event(db: str) -> None:
    collector = CollectorProcess("http://127.0.0.1:1", db)
    assert collector.site == "demo" and collector.url == "http://127.0.0.1:1"
    assert collector.counts() == {"pageview": 7, "purchase": 3}
    (purchase,) = [row for row in collector.report() if row["event"] == "purchase"]
    assert (purchase["value"], purchase["currency"]) == (114.7, "EUR")
    collector.stop()


def test_polling_counts_starts_no_process(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    collector = CollectorProcess("http://127.0.0.1:1", db)

    def no_process(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"a process was started: {args}")

    monkeypatch.setattr(subprocess, "run", no_process)
    monkeypatch.setattr(subprocess, "Popen", no_process)
    collector.wait_for(lambda: collector.counts().get("pageview") == 7)
    collector.expect_count("purchase", 3)
    assert collector.opened is not None  # one store, kept open between polls
    collector.stop()
    assert collector.opened is None


def test_expect_count_says_what_the_store_counts(db: str) -> None:
    collector = CollectorProcess("http://127.0.0.1:1", db)
    with pytest.raises(AssertionError, match=r"the store counts 7 pageview, not 8; "
                                             r"all counts: \{'pageview': 7, 'purchase': 3\}"):
        collector.expect_count("pageview", 8, timeout=0.3)
    collector.stop()


def test_a_config_names_the_sites(db: str, tmp_path: Path) -> None:
    config = tmp_path / "shop.toml"
    config.write_text('[sites.shop]\norigins = ["https://shop.example"]\n\n'
                      '[sites.demo]\norigins = ["https://demo.example"]\n')
    collector = CollectorProcess("http://127.0.0.1:1", db, config)
    assert collector.site == "shop"  # the first one is the default
    assert collector.counts() == {}
    assert collector.counts("demo") == {"pageview": 7, "purchase": 3}
    with pytest.raises(AssertionError, match=r"no site 'blog' in the collector's config "
                                             r"\(shop, demo\)"):
        collector.counts("blog")
    collector.stop()


def test_counts_need_the_database() -> None:
    collector = CollectorProcess("http://127.0.0.1:1", None)
    with pytest.raises(RuntimeError, match="counts need the collector's database: "
                                           "pass --cpx-db URL"):
        collector.counts()
    assert collector.dump() == "" and collector.stored_bytes() == b""


def test_the_tests_collector_counts_their_pages_without_changing_the_users_config(
        tmp_path: Path) -> None:
    user = tmp_path / "shop.toml"
    text = ('[collector]\nflush_interval = 0.5\n\n'
            '[sites.shop]\norigins = ["https://shop.example"]\n'
            'count_automation = false\nlanguages = ["de", "en"]\n\n'
            '[sites.shop.text.de]\ntitle = "Ihre Wahl \\"jetzt\\" – 🍪"\n\n'
            '[sites.shop.links.spring-sale]\nurl = "https://shop.example/sale"\n'
            'source = "newsletter"\nmedium = "email"\ncampaign = "spring"\n')
    user.write_text(text)
    derived = load(counting_config(user, tmp_path))
    original = load(user)
    shop = derived.sites["shop"]
    assert shop.count_automation and not original.sites["shop"].count_automation
    for origin in ("http://localhost:41234", "http://127.0.0.1:8080", "https://shop.example"):
        assert shop.allows_origin(origin)
    assert not shop.allows_origin("https://elsewhere.example")
    assert shop.crowd_clients == 1  # a test's browser is one client
    # Everything else is the user's, as written.
    assert replace(shop, origins=(), count_automation=False, crowd_clients=3) == replace(
        original.sites["shop"], origins=())
    assert derived.flush_interval == 0.5
    assert user.read_text() == text


def test_a_failed_count_says_why_hits_were_not_counted(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    store = open_store(url)
    store.write(Batch(drops={DropKey("demo", HOUR // 86400 * 86400, "event", "webinar"): 2}))
    store.close()
    collector = CollectorProcess("http://127.0.0.1:1/", url)
    with pytest.raises(AssertionError) as raised:
        collector.expect_count("webinar", 1, timeout=0.3)
    assert str(raised.value).endswith(
        "\nthe collector did not count:\n  2 × event: event webinar is not declared: "
        'add webinar = "ads" to [sites.demo.events]')
    collector.stop()
