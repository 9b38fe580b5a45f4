"""The flusher keeps every count through outages: retries, backoff, health, bounds.

The first tests drive the flusher in-process against a store that fails on demand; the
last ones take real collectors through real outages: PostgreSQL stopped, SQLite locked
by another process.
"""

from __future__ import annotations

import asyncio
import random
import string
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from consentpixel import config as config_module
from consentpixel.app import create_app
from consentpixel.buffer import Batch, Buffer, Cell
from consentpixel.config import Config
from consentpixel.flusher import Flusher
from consentpixel.ingest import Ingest
from consentpixel.store import Store, StoreError, open_store
from consentpixel.store.sqlite import BUSY_TIMEOUT, SQLiteStore

from .helpers import ORIGIN
from .servers import ServeProcess, Load, call, config_file, pixel, stored_by_path, stored_hits

TAB = {"Referer": ORIGIN + "/", "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0"}


class Outage:
    """Wraps a real store: while `down`, writes fail; `lost_ack` commits one write and
    then fails it, as when the connection dies between COMMIT and its answer."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.down = False
        self.lost_ack = False
        self.attempts = 0

    def write(self, batch: Batch, now: float | None = None) -> int:
        self.attempts += 1
        if self.down:
            raise StoreError("connection refused")
        repeats = self.store.write(batch, now)
        if self.lost_ack:
            self.lost_ack = False
            raise StoreError("server closed the connection unexpectedly")
        return repeats

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def cell(path: str) -> Cell:
    return Cell(site="demo", period=3600, event="pageview", path=path, source="direct",
                medium="(none)", device="desktop")


def flusher_for(config: Config, store: Any, buffer: Buffer) -> Flusher:
    return Flusher(config, store, buffer, Ingest(config, buffer, b"salt"))


def total(store: Store) -> int:
    return sum(row[-2] for row in store.totals("demo", 0, 2**40, []))


def test_a_lost_acknowledgement_does_not_count_twice(demo_config: Config,
                                                     store: Store) -> None:
    buffer = Buffer()
    outage = Outage(store)
    flusher = flusher_for(demo_config, outage, buffer)
    for _ in range(5):
        buffer.add(cell("/a"))
    outage.lost_ack = True
    assert not asyncio.run(flusher.flush())  # committed, but we could not know
    buffer.add(cell("/a"))
    assert asyncio.run(flusher.flush())  # the same batch again, then the new hit
    assert total(store) == 6
    assert len(buffer) == 0 and flusher.pending is None


def test_a_failed_batch_is_retried_as_it_was(demo_config: Config, store: Store) -> None:
    buffer = Buffer()
    outage = Outage(store)
    flusher = flusher_for(demo_config, outage, buffer)
    buffer.add(cell("/a"))
    outage.down = True
    assert not asyncio.run(flusher.flush())
    first = flusher.pending
    assert first is not None
    buffer.add(cell("/b"))
    assert not asyncio.run(flusher.flush())
    assert flusher.pending is first and set(first.cells) == {cell("/a")}
    assert len(buffer) == 2  # the held batch and the new cell
    outage.down = False
    assert asyncio.run(flusher.flush())
    assert total(store) == 2 and flusher.healthy and flusher.failures == 0


def test_retries_back_off(demo_config: Config, store: Store) -> None:
    config = replace(demo_config, flush_interval=0.05)
    buffer = Buffer()
    outage = Outage(store)
    flusher = flusher_for(config, outage, buffer)
    buffer.add(cell("/a"))
    outage.down = True

    async def run_for(seconds: float) -> None:
        flusher.start()
        await asyncio.sleep(seconds)
        outage.down = False
        await flusher.stop()

    asyncio.run(run_for(1.0))
    # Every 0.05 s would be 20 attempts; doubling pauses (0.1, 0.2, 0.4, 0.8) make 4,
    # and stop() writes the rest.
    assert 3 <= outage.attempts <= 7
    assert total(store) == 1


def test_the_buffer_stays_bounded_while_the_store_is_down(demo_config: Config) -> None:
    """A flood of new paths while the store is away: memory is capped, the rest counted
    as dropped, and what was answered and accepted is exact when the store returns."""
    config = replace(demo_config, max_buffer_cells=50, flush_interval=3600.0)
    store = SQLiteStore(config.db)
    store.migrate()
    outage = Outage(store)
    app = create_app(config, outage)  # type: ignore[arg-type]
    collector = app.app.state.collector  # type: ignore[attr-defined]
    with TestClient(app, base_url=ORIGIN) as client:
        client.get(pixel("/before"), headers=TAB)
        outage.down = True
        assert not call(client, collector.flusher.flush)
        for index in range(500):
            word = "".join(random.choices(string.ascii_lowercase, k=12))
            assert client.get(pixel(f"/random/{word}"), headers=TAB
                              ).status_code == 200
            assert len(collector.buffer) <= 50
        # Memory is full and hits are being lost: no longer merely degraded.
        assert client.get("/healthz").json()["status"] == "down"
        accepted = collector.ingest.accepted
        assert collector.ingest.dropped["buffer_full"] == 501 - accepted > 400
        outage.down = False
    assert total(store) == accepted
    store.close()


def test_health_says_stalled_when_a_write_hangs(demo_config: Config, store: Store) -> None:
    buffer = Buffer()
    flusher = flusher_for(demo_config, store, buffer)
    assert flusher.health()["status"] == "ok"
    flusher.writing_since = time.monotonic() - 60
    assert flusher.health() == {**flusher.health(), "status": "degraded", "store": "stalled"}


def test_housekeeping_rolls_up_by_the_sites_settings(store: Store) -> None:
    """Hourly cells past hourly_days become days, days past retention_days go; the
    totals of what is kept do not change."""
    config = config_module.parse({"sites": {"demo": {
        "origins": ["http://127.0.0.1:*"], "hourly_days": 2, "retention_days": 10}}})
    now = 1_795_900_000.0
    today = int(now) // 86400 * 86400
    cells = {cell(f"/{hour % 5}")._replace(period=today - hour * 3600): [hour + 1, hour]
             for hour in range(1, 15 * 24)}
    store.write(Batch(cells=cells))
    kept = {key: entry for key, entry in cells.items() if key.period >= today - 10 * 86400}
    flusher_for(config, store, Buffer()).housekeep_now(now)
    assert store.totals("demo", 0, 2**40, []) == [
        ("pageview", "", sum(c for c, _ in kept.values()), sum(v for _, v in kept.values()))]
    grains = dict(store.fetch("SELECT grain, MIN(period) FROM cells GROUP BY grain"))
    assert grains == {"d": today - 10 * 86400, "h": today - 2 * 86400}


# -- real outages ---------------------------------------------------------------------


def outage(tmp_path: Path, db: str, go_away: Any, come_back: Any) -> None:
    """Load a collector, take its store away, keep loading, bring it back: exact counts."""
    config = config_file(tmp_path, db, max_buffer_cells=1000)
    with ServeProcess("--config", str(config)) as collector:
        paths = [pixel(f"/page/{index}") for index in range(20)]
        load = Load(collector.url, paths, threads=3)
        collector.wait_until(lambda: stored_hits(db) > 0, "a first write")
        go_away()
        collector.wait_until(lambda: collector.health()["status"] == "degraded",  # type: ignore[index]
                             "degraded")
        during = sum(load.answered)
        collector.wait_until(lambda: sum(load.answered) > during + 200, "answering hits")
        health = collector.health()
        assert health and health["buffered_cells"] <= 1000
        come_back()
        collector.wait_until(lambda: collector.health()["status"] == "ok",  # type: ignore[index]
                             "healthy again")
        answered = load.stop()
        assert "buffering in memory" in collector.log() and "the store is back" in collector.log()
    assert stored_hits(db) == answered
    assert set(stored_by_path(db)) == {f"/page/{index}" for index in range(20)}


@pytest.mark.postgres
def test_postgres_stopped_for_a_while(tmp_path: Path, private_postgres: Any) -> None:
    """PostgreSQL is stopped for a few seconds rather than the issue's 30: writes fail,
    back off and are retried the same way whatever the length; a longer outage only
    adds retries (at most one every 10 seconds) and buffered cells (bounded above)."""

    def stop_for_a_while() -> None:
        private_postgres.stop()
        time.sleep(3)

    outage(tmp_path, private_postgres.url, stop_for_a_while, private_postgres.start)


def test_sqlite_locked_by_another_process(tmp_path: Path) -> None:
    """Another process holds the database's write lock longer than a write waits for it
    (BUSY_TIMEOUT), so at least one write fails and is retried."""
    db = f"sqlite:///{tmp_path / 'locked.db'}"
    open_store(db).close()
    holder: list[subprocess.Popen[str]] = []
    script = ("import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); "
              "c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True); sys.stdin.read()")

    def lock() -> None:
        process = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "locked.db")],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert process.stdout and process.stdout.readline() == "locked\n"
        holder.append(process)

    def unlock() -> None:
        time.sleep(BUSY_TIMEOUT + 1)  # long enough for a write to give up
        process = holder.pop()
        assert process.stdin and process.stdout
        process.stdin.close()
        process.wait(timeout=10)
        process.stdout.close()

    outage(tmp_path, db, lock, unlock)
