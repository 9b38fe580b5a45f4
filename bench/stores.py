"""What the store holds after a load, its size, a year-long report, and the tag's size."""

from __future__ import annotations

import gzip
import secrets
import statistics
import time
import urllib.parse
from pathlib import Path

import brotli

from consentpixel import demo, reports
from consentpixel.buffer import Buffer, Cell
from consentpixel.store import Store, open_store
from consentpixel.tag import TagFiles

DEMO = demo.config().sites["demo"]

DAY = 86400
HITS = 1_000_000
CELLS = 1000
FLUSHES = 100


def stored(url: str, prefix: str) -> int:
    """Hits the store counted on paths under prefix, all hours and events together."""
    store = open_store(url)
    try:
        return sum(row[3] for row in store.totals("demo", 0, 2**40, ["path"])
                   if row[0].startswith(prefix + "/"))
    finally:
        store.close()


def scratch_database(server: str) -> str:
    """A new database on the server of `server`, for one measurement."""
    import psycopg
    from psycopg import sql

    name = f"consentpixel_bench_{secrets.token_hex(4)}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    parts = urllib.parse.urlsplit(server)
    return f"{parts.scheme}://{parts.netloc}/{name}" + (f"?{parts.query}" if parts.query else "")


def drop(url: str) -> None:
    """Remove a scratch store: a SQLite file (and its journal) or a scratch database."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink()
        return
    import psycopg
    from psycopg import sql

    parts = urllib.parse.urlsplit(url)
    admin = url.replace(parts.path, "/postgres", 1)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(parts.path.lstrip("/"))))


def tag_sizes() -> str:
    """What the collector serves each kind of visitor of the demo site, as in tests/test_tag.py."""
    site = demo.config().sites["demo"]
    tag = TagFiles({"demo": site})
    files = tag.sites["demo"]
    parts = {
        "t.js?site=demo (core and settings)": files.text(True, False, None).encode(),
        "t.js?site=demo, first visit on the collector's host (and module, styles, texts)":
            files.text(True, False, "en").encode(),
        "/p/demo.js?b=en (module, styles, banner)": files.text(False, False, "en").encode(),
        "/p/demo.js?a=1 (attribution)": files.text(False, True, None).encode(),
    }
    names = list(parts)
    visits = {"first visit, page on another host": [names[0], names[2]]}
    lines = ["| file | bytes | gzip -9 | brotli -q 11 |", "|---|---:|---:|---:|"]
    rows = [(name, [parts[name]]) for name in names]
    rows += [(visit, [parts[name] for name in files_]) for visit, files_ in visits.items()]
    for name, bodies in rows:
        plain = sum(map(len, bodies))
        zipped = sum(len(gzip.compress(body, 9)) for body in bodies)
        brotlied = sum(len(brotli.compress(body, quality=11)) for body in bodies)
        lines.append(f"| {name} | {plain:,} | {zipped:,} | {brotlied:,} |")
    return "\n".join(lines)


def report(label: str, url: str) -> str:
    """The store's size as a million hits arrive, and a year-long report's time."""
    try:
        first, full, compacted = million_hits(url)
        year = report_seconds(url)
    finally:
        drop(url)
    return (f"{label}: {first:,} bytes after the first flush ({HITS // FLUSHES:,} hits), "
            f"{full:,} after {HITS:,} hits over {CELLS:,} cells in {FLUSHES} flushes, "
            f"{compacted:,} once compacted (VACUUM); a year-long report by day: "
            f"{year * 1000:.0f} ms (median of 5)")


def million_hits(url: str) -> tuple[int, int, int]:
    """Hits through the buffer, as the collector aggregates them, flushed 100 times:
    the size after the first flush, after the last, and compacted."""
    store = open_store(url)
    try:
        period = int(time.time()) // 3600 * 3600
        cells = [Cell(site="demo", period=period, event="pageview", path=f"/page/{index}",
                      source="google", medium="organic", device="desktop")
                 for index in range(CELLS)]
        buffer = Buffer()
        sizes = []
        for _ in range(FLUSHES):
            for hit in range(HITS // FLUSHES):
                buffer.add(cells[hit % CELLS])
            batch = buffer.take()
            store.write(batch)
            buffer.release(batch)
            sizes.append(store.size())
        counted = sum(row[-2] for row in store.totals("demo", 0, 2**40, []))
        if counted != HITS:
            raise RuntimeError(f"the store counted {counted:,} hits of {HITS:,}")
    finally:
        store.close()
    compact(url)
    store = open_store(url)
    try:
        return sizes[0], sizes[-1], store.size()
    finally:
        store.close()


def compact(url: str) -> None:
    """What SQLite's checkpoints and PostgreSQL's autovacuum do over time, at once."""
    if url.startswith("sqlite:///"):
        import sqlite3

        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.execute("VACUUM")
        finally:
            connection.close()
        return
    import psycopg

    with psycopg.connect(url, autocommit=True) as server:
        server.execute("VACUUM FULL")


def report_seconds(url: str) -> float:
    """A year of hourly cells, rolled up as housekeeping does, then reported by day."""
    store = open_store(url)
    try:
        fill_year(store)
        period = reports.Period.last(365)
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            reports.breakdown(store, DEMO, period, ["day"])
            timings.append(time.perf_counter() - started)
        return statistics.median(timings)
    finally:
        store.close()


def fill_year(store: Store) -> None:
    """20 cells an hour for 365 days; hours older than 35 days become days."""
    today = int(time.time()) // DAY * DAY
    kinds = [("pageview", f"/p/{index}", source) for index in range(5)
             for source in ("google", "newsletter")] + \
            [("purchase", f"/thanks/{index}", source) for index in range(5)
             for source in ("google", "newsletter")]
    for day in range(365):
        buffer = Buffer()
        for hour in range(24):
            period = today - day * DAY + hour * 3600
            for event, path, source in kinds:
                buffer.add(Cell(site="demo", period=period, event=event, path=path,
                                source=source, medium="organic", device="desktop",
                                currency="EUR" if event == "purchase" else ""), 4990)
        store.write(buffer.take())
    store.roll_up("demo", hourly_before=today - 35 * DAY, delete_before=today - 760 * DAY)
