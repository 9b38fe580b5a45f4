"""/metrics: Prometheus text behind the admin secret, with the collector's real counters."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Iterator

import pytest
from starlette.testclient import TestClient

from consentpixel.app import create_app
from consentpixel.buffer import Batch
from consentpixel.config import Config
from consentpixel.store import StoreError
from consentpixel.store.sqlite import SQLiteStore

from .helpers import ORIGIN
from .servers import call

SECRET = "metrics-admin-secret"  # 16 characters at least
ADMIN = {"Authorization": f"Bearer {SECRET}"}
TAB = {"Referer": ORIGIN + "/", "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0"}
SAMPLE = re.compile(r'^(consentpixel_[a-z_]+)\{((?:[a-z]+="[^"]*",?)*)\} (\S+)$')


class FlakyStore(SQLiteStore):
    """A real SQLite store whose writes can be made to fail, as an outage would."""

    down = False

    def write(self, batch: Batch, now: float | None = None) -> int:
        if self.down:
            raise StoreError("the store is down")
        return super().write(batch, now)


@pytest.fixture
def config(demo_config: Config) -> Config:
    # No background flushes: the tests flush when they mean to.
    return replace(demo_config, admin_secret=SECRET, flush_interval=3600.0)


@pytest.fixture
def app_and_client(config: Config) -> Iterator[tuple[Any, TestClient]]:
    store = FlakyStore(config.db)
    store.migrate()
    app = create_app(config, store)
    with TestClient(app, base_url=ORIGIN) as client:
        yield app, client


def samples(text: str) -> dict[tuple[str, str], float]:
    """name and labels (without pid) -> value; every line must be valid exposition."""
    found = {}
    for line in text.splitlines():
        if line.startswith("# HELP ") or line.startswith("# TYPE "):
            continue
        match = SAMPLE.match(line)
        assert match, line
        name, labels, value = match.groups()
        labels = ",".join(label for label in labels.split(",") if not label.startswith("pid="))
        found[(name, labels)] = float(value)
    return found


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"},
                                     {"Authorization": f"Basic {SECRET}"}])
def test_metrics_need_the_admin_secret(client: TestClient, headers: dict[str, str]) -> None:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 401
    assert "consentpixel_" not in response.text
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_the_secret_in_the_url_is_not_enough(app_and_client: tuple[Any, TestClient]) -> None:
    _, client = app_and_client
    assert client.get(f"/metrics?secret={SECRET}&token={SECRET}").status_code == 401


def test_counters_follow_what_happened(app_and_client: tuple[Any, TestClient]) -> None:
    app, client = app_and_client
    for _ in range(3):
        client.get("/p.gif?s=demo&e=pageview&p=%2F&a=analytics", headers=TAB)
    client.get("/p.gif?s=demo&e=pageview&p=%2F", headers=TAB)  # no consent
    client.get("/p.gif?s=nope", headers=TAB)
    client.post("/p.gif?s=demo", headers=TAB)
    response = client.get("/metrics", headers=ADMIN)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    assert response.headers["cache-control"] == "no-store"
    found = samples(response.text)
    assert found[("consentpixel_hits_accepted_total", "")] == 3
    assert found[("consentpixel_hits_dropped_total", 'reason="consent"')] == 1
    assert found[("consentpixel_hits_dropped_total", 'reason="site"')] == 1
    assert found[("consentpixel_hits_dropped_total", 'reason="method"')] == 1
    assert found[("consentpixel_buffer_cells", "")] == len(app.app.state.collector.buffer) == 1
    assert found[("consentpixel_store_up", "")] == 1
    assert found[("consentpixel_store_state", 'state="ok"')] == 1


def test_flush_failures_and_the_store_state(app_and_client: tuple[Any, TestClient]) -> None:
    app, client = app_and_client
    collector = app.app.state.collector
    client.get("/p.gif?s=demo&e=pageview&p=%2F&a=analytics", headers=TAB)
    collector.store.down = True
    assert not call(client, collector.flusher.flush)
    down = samples(client.get("/metrics", headers=ADMIN).text)
    assert down[("consentpixel_flush_failures_total", "")] == 1
    assert down[("consentpixel_store_up", "")] == 0
    assert down[("consentpixel_store_state", 'state="unreachable"')] == 1
    assert down[("consentpixel_buffer_cells", "")] == 1  # held for the retry
    assert client.get("/healthz").json()["status"] == "degraded"
    collector.store.down = False
    assert call(client, collector.flusher.flush)
    up = samples(client.get("/metrics", headers=ADMIN).text)
    assert up[("consentpixel_store_up", "")] == 1
    assert up[("consentpixel_buffer_cells", "")] == 0
    assert up[("consentpixel_flushes_total", "")] >= 1
    assert up[("consentpixel_flush_duration_seconds_sum", "")] > 0
    assert up[("consentpixel_flush_duration_seconds_count", "")] == up[
        ("consentpixel_flushes_total", "")]


def test_every_metric_is_described(app_and_client: tuple[Any, TestClient]) -> None:
    _, client = app_and_client
    text = client.get("/metrics", headers=ADMIN).text
    described = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
    for name, _ in samples(text):
        assert re.sub(r"_(sum|count)$", "", name) in described, name
