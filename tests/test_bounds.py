"""Memory and storage stay bounded whatever arrives; the rate limit is per site.

A flood of random paths, campaigns, referrers and browsers goes through the real app
into a real store, on both databases.
"""

from __future__ import annotations

import random
import string
from pathlib import Path
from typing import Iterator
from urllib.parse import urlencode

import pytest
from starlette.testclient import TestClient

from consentpixel import config as config_module, privacy
from consentpixel.app import create_app
from consentpixel.buffer import OTHER
from consentpixel.cache import key_length
from consentpixel.config import Config
from consentpixel.ingest import RateLimiter
from consentpixel.store import open_store

from .helpers import ORIGIN

CAP = 100


def word(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_lowercase, k=rng.randint(6, 14)))


def flood_config(database: str, **limited: object) -> Config:
    return config_module.parse({
        # A secret of its own: with PostgreSQL and no config file, a generated one would
        # be kept in the working directory.
        "collector": {"db": database, "max_cells_per_hour": CAP, "flush_interval": 0.2,
                      "admin_secret": "flood-admin-secret"},
        "sites": {
            # One test client sends the flood: without the crowd rule, every word is a cell.
            "demo": {"origins": ["http://127.0.0.1:*"], "count_automation": True,
                     "crowd_clients": 1},
            "limited": {"origins": ["http://127.0.0.1:*"], "count_automation": True,
                        "rate_limit": 5, **limited},
        }})


@pytest.fixture
def flood(tmp_path: Path) -> Iterator[tuple[Config, TestClient]]:
    config = flood_config(f"sqlite:///{tmp_path / 'flood.db'}")
    with TestClient(create_app(config), base_url=ORIGIN) as client:
        yield config, client


def hit(rng: random.Random, site: str = "demo") -> str:
    return "/p.gif?" + urlencode({
        "s": site, "e": rng.choice(["pageview", "purchase"]), "a": "analytics-ads",
        "p": f"/{word(rng)}/{word(rng)}", "utm_source": word(rng), "utm_medium": "email",
        "utm_campaign": word(rng), "z": rng.randint(1, 9)})


def test_a_flood_of_new_cells_folds_into_other(database: str) -> None:
    rng = random.Random(6)
    config = flood_config(database)
    app = create_app(config)
    collector = app.app.state.collector  # type: ignore[attr-defined]
    with TestClient(app, base_url=ORIGIN) as client:
        for _ in range(800):
            headers = {"Referer": f"http://127.0.0.1:{rng.randint(1, 65535)}/",
                       "User-Agent": f"Mozilla/5.0 {word(rng)}"}
            assert client.get(hit(rng), headers=headers).status_code == 200
            assert len(collector.buffer.batch.cells) <= CAP + 2  # one (other) per event
        assert collector.ingest.accepted == 800
        assert all(len(seen) <= CAP for seen in collector.buffer.seen.values())
    store = open_store(database)
    try:
        assert store.cell_count() <= CAP + 2
        rows = store.totals("demo", 0, 2**40, ["path"])
        assert sum(row[3] for row in rows) == 800  # every hit counted, the excess as (other)
        assert sum(row[3] for row in rows if row[0] == OTHER) >= 800 - CAP
    finally:
        store.close()


def test_what_the_process_remembers_is_bounded(flood: tuple[Config, TestClient]) -> None:
    """Caches of verdicts, origins, browsers and cleaned text: each has a ceiling."""
    _, client = flood
    collector = client.app.app.state.collector  # type: ignore[attr-defined]
    ingest = collector.ingest
    rng = random.Random(7)
    for _ in range(600):
        client.get(hit(rng), headers={"Referer": f"http://127.0.0.1:{rng.randint(1, 9999)}/",
                                      "User-Agent": word(rng) * 3})
    for _ in range(5000):  # the cleaning caches, faster than through HTTP
        privacy.clean_path(f"/{word(rng)}/{word(rng)}")
        privacy.clean_label(word(rng))
        privacy.clean_host(word(rng) + ".example")
    assert len(ingest.verdicts.known) <= ingest.verdicts.size
    assert len(ingest.origins) <= 4096 and len(ingest.devices) <= 4096
    for cache in (ingest.verdicts.known, ingest.origins, ingest.devices):
        assert 0 < len(cache) <= cache.max_entries
        assert all(key_length(key) <= cache.max_key for key in cache)
    for clean in (privacy.clean_path, privacy.clean_segment, privacy.clean_label,
                  privacy.clean_host):
        assert 0 < len(clean.memory) <= privacy.CACHED  # type: ignore[attr-defined]


def test_cleaning_caches_hold_nothing_the_rules_took_out() -> None:
    email = "jane.doe@example.com"
    assert privacy.clean_path(f"/account/{email}/orders") == "/account/:email/orders"
    assert privacy.clean_label(email) == ":email"
    for clean in (privacy.clean_path, privacy.clean_segment, privacy.clean_label):
        remembered = clean.memory  # type: ignore[attr-defined]
        assert not any("@" in key for key in remembered), clean


def test_the_rate_limit_is_per_site_and_client(flood: tuple[Config, TestClient]) -> None:
    _, client = flood
    ingest = client.app.app.state.collector.ingest  # type: ignore[attr-defined]
    rng = random.Random(8)
    tab = {"Referer": ORIGIN + "/", "User-Agent": "Mozilla/5.0 Chrome/130.0"}
    for _ in range(20):
        client.get(hit(rng, "limited"), headers=tab)
    assert (ingest.accepted, ingest.dropped["rate_limit"]) == (5, 15)
    for _ in range(200):  # the demo site sets no limit: a load test counts everything
        client.get(hit(rng, "demo"), headers=tab)
    assert (ingest.accepted, ingest.dropped["rate_limit"]) == (205, 15)


def test_the_rate_limiter_forgets_and_stays_bounded() -> None:
    limiter = RateLimiter(max_clients=100)
    now = 1_795_900_020.0
    allowed = [limiter.allow(f"10.0.{index >> 8}.{index & 255}", "limited", 5, now)
               for index in range(500)]
    # Past its cap the limiter tracks no one new, and lets newcomers through rather
    # than lock every new visitor out for the rest of the minute.
    assert allowed == [True] * 500
    assert len(limiter.counts) == 100
    assert [limiter.allow("10.0.0.1", "limited", 5, now) for _ in range(5)] == \
        [True] * 4 + [False]  # a tracked client is still limited
    assert limiter.allow("10.0.0.1", "limited", 5, now + 60)
    assert len(limiter.counts) == 1


def test_the_rate_limit_counts_an_ipv6_64_as_one_client() -> None:
    limiter = RateLimiter()
    now = 1_795_900_020.0
    rotating = [limiter.allow(f"2001:db8:0:7::{index:x}", "limited", 5, now)
                for index in range(8)]
    assert rotating == [True] * 5 + [False] * 3
    assert limiter.allow("2001:db8:0:8::1", "limited", 5, now)  # the next /64 is another
    mapped = [limiter.allow(f"::ffff:192.0.2.{index}", "limited", 5, now) for index in range(8)]
    assert mapped == [True] * 8  # IPv4 clients of a dual-stack socket: one each
    assert [limiter.allow("::ffff:192.0.2.1", "limited", 5, now) for _ in range(5)] == \
        [True] * 4 + [False]