"""Hits not counted: each silent failure is kept per site, day and reason and shown where
the owner looks (the dashboard's panel, `report --drops`, GET /api/v1/drops, the log),
without personal data and without growing with a flood of forged values."""

from __future__ import annotations

import html
import logging
import re
import subprocess
import sys
from pathlib import Path
from typing import Iterator

import pytest
from starlette.testclient import TestClient

from consentpixel import config as config_module, drops
from consentpixel.app import create_app
from consentpixel.buffer import Buffer
from consentpixel.config import Config
from consentpixel.drops import MAX_DETAILS, OTHER, UNKNOWN_SITE, DropKey, Drops
from consentpixel.ingest import Drop, Ingest
from consentpixel.store import open_store

from .helpers import headers

SECRET = "s3cret-for-drop-tests"
SHOP = "https://shop.example"
CONFIG = f"""
[collector]
admin_secret = "{SECRET}"
db = "sqlite:///{{db}}"

[sites.shop]
origins = ["{SHOP}"]
count_automation = false
crowd_clients = 1  # one test client: name every detail (test_crowd.py checks the crowd)
"""
HEADLESS = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "HeadlessChrome/130.0.0.0 Safari/537.36")
NOW = 1_772_323_200.0 + 3600  # 2026-03-01T01:00Z


def shop_config(tmp: Path) -> Config:
    path = tmp / "shop.toml"
    path.write_text(CONFIG.replace("{db}", str(tmp / "shop.db")))
    return config_module.load(path)


# -- the bounds, the log and the wording -----------------------------------------------


@pytest.mark.parametrize("reason, detail, kept", [
    ("origin", "http://LOCALHOST:8080", "http://localhost:8080"),
    ("origin", "https://x.example", "https://x.example"),
    ("origin", "https://[::1]:8443", "https://[::1]:8443"),
    ("origin", "", drops.NONE),
    ("origin", "https://john.doe@mail.example", drops.MALFORMED),  # userinfo: never kept
    ("origin", "file://", drops.MALFORMED),
    ("origin", "https://x.example/cart?email=a@b.example", drops.MALFORMED),
    ("site", "shpo", "shpo"),
    ("site", "Jane Doe <jane@mail.example>", drops.MALFORMED),
    ("event", "webinar", "webinar"),
    ("event", "x" * 40, drops.MALFORMED),
    ("currency", "XYZ", "XYZ"),
    ("currency", "<script>", drops.MALFORMED),
    ("automation", "anything", ""),
    ("rate_limit", "203.0.113.9", ""),  # a reason without a detail keeps none
])
def test_a_detail_is_kept_only_in_the_shape_its_reason_allows(reason: str, detail: str,
                                                               kept: str) -> None:
    assert drops.shaped(reason, detail) == kept


def test_the_first_few_details_a_day_are_named_the_rest_are_other(tmp_path: Path) -> None:
    tally = Drops(shop_config(tmp_path))
    keys = [tally.key("origin", "shop", f"https://forged{n}.example", NOW) for n in range(50)]
    assert len({key.detail for key in keys}) == MAX_DETAILS + 1
    assert [key.detail for key in keys[MAX_DETAILS:]] == [OTHER] * (50 - MAX_DETAILS)
    assert tally.key("origin", "shop", "https://forged0.example", NOW).detail == \
        "https://forged0.example"  # a named one stays named
    tomorrow = tally.key("origin", "shop", "https://forged49.example", NOW + 86400)
    assert tomorrow.detail == "https://forged49.example"  # a new day names anew


def test_site_names_not_configured_count_under_one_bucket(tmp_path: Path) -> None:
    tally = Drops(shop_config(tmp_path))
    keys = {tally.key("site", f"site{n}", f"site{n}", NOW) for n in range(100)}
    assert {key.site for key in keys} == {UNKNOWN_SITE}
    assert len(keys) == MAX_DETAILS + 1
    assert tally.key("automation", "shop", "", NOW).site == "shop"


def test_the_log_says_it_once_a_minute_per_site_and_reason(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    tally = Drops(shop_config(tmp_path))
    caplog.set_level(logging.INFO, "consentpixel")
    for second in range(0, 150):
        for n in range(20):  # a flood of distinct forged origins
            tally.log(tally.key("origin", "shop", f"https://f{n}.example", NOW + second),
                      NOW + second)
        tally.log(tally.key("automation", "shop", "", NOW + second), NOW + second)
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 6  # seconds 0, 60 and 120, for each of two reasons
    assert lines[0] == ("consentpixel: not counted for site shop (origin): origin "
                        "https://f0.example is not in sites.shop.origins (add it if these "
                        "are your pages)")
    assert lines[1].startswith("consentpixel: not counted for site shop (automation): "
                               "automated browsers are not counted")


# -- in the store: both databases, every process ------------------------------------------


def test_the_store_bounds_details_across_processes(database: str) -> None:
    from consentpixel.buffer import Batch

    store = open_store(database)
    try:
        for process in range(3):  # three collectors, each naming its own 8 origins
            tally = Batch()
            for n in range(8):
                origin = f"https://p{process}-{n}.example"
                tally.drops[DropKey("shop", 86400, "origin", origin)] += 1
            tally.drops[DropKey("shop", 86400, "automation")] += 2
            store.write(tally)
        rows = store.drop_totals(["shop"], 0, 2 * 86400)
    finally:
        store.close()
    origins = {detail: count for _, reason, detail, count in rows if reason == "origin"}
    assert len(origins) == MAX_DETAILS + 1
    assert origins[OTHER] == 3 * 8 - MAX_DETAILS and sum(origins.values()) == 24
    assert ("shop", "automation", "", 6) in rows


def test_old_tallies_are_forgotten(database: str) -> None:
    from consentpixel.buffer import Batch

    store = open_store(database)
    try:
        store.write(Batch(drops={DropKey("shop", 0, "automation"): 1}))
        store.write(Batch(drops={DropKey("shop", 200 * 86400, "automation"): 1}))
        assert store.forget_drops(now=200 * 86400) == 1
        assert store.drop_totals(["shop"], 0, 400 * 86400) == [("shop", "automation", "", 1)]
    finally:
        store.close()


# -- each silent failure, where the owner looks -------------------------------------------

# (name, hit parameters, Referer, User-Agent, the reason, the line that says the fix)
FAILURES = [
    ("origin not listed", {"s": "shop", "e": "pageview", "p": "/", "a": "analytics"},
     "http://localhost:8080/cart?email=jane.doe@mail.example", None, "origin",
     "origin http://localhost:8080 is not in sites.shop.origins (add it if these are "
     "your pages)"),
    ("automated browser", {"s": "shop", "e": "pageview", "p": "/", "a": "analytics"},
     SHOP + "/", HEADLESS, "automation",
     "automated browsers are not counted: count_automation = true in [sites.shop] counts "
     "them (e.g. for tests)"),
    ("event not declared", {"s": "shop", "e": "webinar", "p": "/", "a": "analytics-ads"},
     SHOP + "/", None, "event",
     'event webinar is not declared: add webinar = "ads" to [sites.shop.events]'),
    ("data-site typo", {"s": "shpo", "e": "pageview", "p": "/", "a": "analytics"},
     SHOP + "/", None, "site",
     'the tag\'s site "shpo" names no site in the config (configured: shop)'),
    ("no consent", {"s": "shop", "e": "purchase", "p": "/", "a": "analytics"},
     SHOP + "/", None, "consent",
     "the visitor had not allowed the category purchase needs (a refusal, or a "
     "<noscript> pixel for an event not in sites.shop.exempt_events)"),
]


class Seen:
    """One collector that received every failing hit, read three ways."""

    def __init__(self, config: Config, log: str) -> None:
        self.config = config
        self.log = log
        with TestClient(create_app(config), base_url=SHOP) as client:
            bearer = {"Authorization": f"Bearer {SECRET}"}
            self.api = client.get("/api/v1/drops?site=shop", headers=bearer).json()
            self.page = client.get("/dashboard?site=shop", headers=bearer).text
        done = subprocess.run([sys.executable, "-m", "consentpixel", "report", "--drops",
                               "--site", "shop", "--config", str(config.path)],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        self.cli = done.stdout

    def panel(self) -> list[str]:
        section = self.page.split('id="not-counted"', 1)[1].split("</section>", 1)[0]
        rows = re.findall(r"<tr>(.*?)</tr>", section, re.S)[1:]
        return [" ".join(html.unescape(re.sub(r"<[^>]+>", " ", row)).split()) for row in rows]


@pytest.fixture(scope="module")
def seen(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seen]:
    tmp = tmp_path_factory.mktemp("drops")
    config = shop_config(tmp)
    logger = logging.getLogger("consentpixel")
    captured: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: captured.append(record.getMessage())  # type: ignore
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)  # as `consentpixel serve` logs
    try:
        with TestClient(create_app(config), base_url=SHOP) as client:
            for _, params, referer, agent, _, _ in FAILURES:
                pair = headers(referer, agent) if agent else headers(referer)
                response = client.get("/p.gif", params=params,
                                      headers={k.decode(): v.decode() for k, v in pair})
                assert response.status_code == 200
        # Leaving the client stopped the collector: its last batch is in the store.
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    yield Seen(config, "\n".join(captured))


@pytest.mark.parametrize("name, reason, fix", [(f[0], f[4], f[5]) for f in FAILURES],
                         ids=[f[0] for f in FAILURES])
def test_each_silent_failure_is_shown_with_its_fix(seen: Seen, name: str, reason: str,
                                                   fix: str) -> None:
    site = UNKNOWN_SITE if reason == "site" else "shop"
    # The API's row
    rows = [row for row in seen.api["rows"] if row["reason"] == reason]
    assert [(row["site"], row["count"], row["fix"]) for row in rows] == [(site, 1, fix)]
    # The dashboard's "Not counted" panel
    assert f"{reason} 1 {fix}" in seen.panel()
    # `consentpixel report --drops`
    assert any(line.split() == [site, reason, "1", *fix.split()]
               for line in seen.cli.splitlines()), seen.cli
    # The log
    assert f"({reason}): {fix}" in seen.log


def test_a_report_with_nothing_counted_points_at_the_drops(seen: Seen) -> None:
    done = subprocess.run([sys.executable, "-m", "consentpixel", "report", "--site", "shop",
                           "--config", str(seen.config.path)],
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, "no counts in this period\n")
    # Every failure of the table: the data-site typo may be this site's own pages.
    assert done.stderr == (f"consentpixel: {len(FAILURES)} hits were received but not "
                           "counted in this period; the same command with --drops says why\n")


def test_nothing_personal_reaches_the_store_or_the_log(seen: Seen) -> None:
    stored = b"".join(path.read_bytes() for path in Path(seen.config.db[10:]).parent.glob(
        "shop.db*"))
    for text in ("jane", "mail.example", "cart", "HeadlessChrome", "testclient"):
        assert text.encode() not in stored.lower() and text not in seen.log
    assert len(seen.panel()) == len(FAILURES)


def test_a_flood_of_forged_origins_and_site_names_stays_bounded(tmp_path: Path) -> None:
    config = shop_config(tmp_path)
    buffer = Buffer()
    ingest = Ingest(config, buffer)
    for n in range(2000):
        for params, referer in ((b"s=shop&e=pageview&a=analytics", f"https://f{n}.example/"),
                                (f"s=forged{n}&e=pageview".encode(), SHOP + "/")):
            with pytest.raises(Drop) as raised:
                ingest.pixel(params, headers(referer))
            drop = raised.value  # counted as pixel.py counts it
            ingest.drop(drop.reason, drop.site, drop.detail)
    assert sum(buffer.batch.drops.values()) == 4000
    assert len(buffer.batch.drops) == 2 * (MAX_DETAILS + 1)
    assert {key.site for key in buffer.batch.drops} == {"shop", UNKNOWN_SITE}
