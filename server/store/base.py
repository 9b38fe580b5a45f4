"""The store's SQL, shared by SQLite and PostgreSQL.

Tables hold aggregates only: cells (counts and value sums), consent tallies, salted
digests of order IDs for 48 hours, campaign costs, and hits not counted per reason.
No table has a row per hit; the one table of another kind holds digests of the
dashboard's live sessions.
"""

from __future__ import annotations

import functools
import re
import secrets
import time
from collections import Counter
from contextlib import AbstractContextManager
from typing import Any, Iterable, Sequence

from .. import drops
from ..buffer import Batch


def redacted(url: str) -> str:
    """A database URL without its password, fit for a terminal, a log or an error."""
    return re.sub(r"(://[^/@:]*):[^/@]*@", r"\1:***@", url)

ORDER_WINDOW = 48 * 3600
BATCH_WINDOW = 24 * 3600  # a batch is retried until written: its ID need not last long
DROP_WINDOW = 90 * 86400  # why hits were not counted matters while it is being fixed
DIMENSIONS = ("event", "path", "source", "medium", "campaign", "content", "device",
              "currency")
KEY = ("site", "period", "grain") + DIMENSIONS
GROUPS = {
    # group name -> SQL expression, shared by every report
    "hour": "period",
    "day": "period - period % 86400",
    **{name: name for name in DIMENSIONS},
}

# Each migration runs once, in order; meta.schema_version records how far a store got.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE cells (
        site TEXT NOT NULL, period BIGINT NOT NULL, grain TEXT NOT NULL,
        event TEXT NOT NULL, path TEXT NOT NULL, source TEXT NOT NULL, medium TEXT NOT NULL,
        campaign TEXT NOT NULL, content TEXT NOT NULL, device TEXT NOT NULL,
        currency TEXT NOT NULL, count BIGINT NOT NULL, value BIGINT NOT NULL,
        PRIMARY KEY (site, period, grain, event, path, source, medium, campaign, content,
                     device, currency));
    CREATE TABLE consents (
        site TEXT NOT NULL, day BIGINT NOT NULL, category TEXT NOT NULL,
        choice TEXT NOT NULL, count BIGINT NOT NULL,
        PRIMARY KEY (site, day, category, choice));
    CREATE TABLE orders (
        site TEXT NOT NULL, digest TEXT NOT NULL, seen BIGINT NOT NULL,
        PRIMARY KEY (site, digest));
    CREATE INDEX orders_seen ON orders (seen);
    CREATE TABLE costs (
        site TEXT NOT NULL, day BIGINT NOT NULL, source TEXT NOT NULL, medium TEXT NOT NULL,
        campaign TEXT NOT NULL, currency TEXT NOT NULL, amount BIGINT NOT NULL,
        PRIMARY KEY (site, day, source, medium, campaign, currency));
    """,
    # Flushes already written, so a write whose commit was never acknowledged (the
    # connection died during COMMIT) is not added twice when it is retried.
    """
    CREATE TABLE batches (id TEXT PRIMARY KEY, written BIGINT NOT NULL);
    CREATE INDEX batches_written ON batches (written);
    """,
    # Dashboard sessions, by a digest of their random ID keyed with the admin secret
    # (never the ID or the secret), so that signing out ends one in every process
    # sharing the store, and a new secret ends them all.
    """
    CREATE TABLE sessions (digest TEXT PRIMARY KEY, expires BIGINT NOT NULL);
    CREATE INDEX sessions_expires ON sessions (expires);
    """,
    # Hits not counted, per site, day, reason and detail (drops.py bounds the details).
    """
    CREATE TABLE drops (
        site TEXT NOT NULL, day BIGINT NOT NULL, reason TEXT NOT NULL,
        detail TEXT NOT NULL, count BIGINT NOT NULL,
        PRIMARY KEY (site, day, reason, detail));
    """,
)

# Cells go in a few rows per statement: one call into the driver (and one hand-over of
# Python's interpreter lock around it) per chunk rather than per cell. 80 rows of 12
# values stay under the 999 parameters of the oldest SQLite builds.
ROWS_PER_STATEMENT = 80
CELL_ROW = f"({', '.join('?' * (len(KEY) + 2))})"


@functools.lru_cache(maxsize=ROWS_PER_STATEMENT)
def upsert_cells(rows: int) -> str:
    return f"""
    INSERT INTO cells ({", ".join(KEY)}, count, value)
    VALUES {", ".join([CELL_ROW] * rows)}
    ON CONFLICT ({", ".join(KEY)})
    DO UPDATE SET count = cells.count + excluded.count, value = cells.value + excluded.value"""


UPSERT_CONSENT = """
    INSERT INTO consents (site, day, category, choice, count) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (site, day, category, choice)
    DO UPDATE SET count = consents.count + excluded.count"""
UPSERT_COST = """
    INSERT INTO costs (site, day, source, medium, campaign, currency, amount)
    VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (site, day, source, medium, campaign, currency)
    DO UPDATE SET amount = excluded.amount"""
UPSERT_DROP = """
    INSERT INTO drops (site, day, reason, detail, count) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (site, day, reason, detail)
    DO UPDATE SET count = drops.count + excluded.count"""
INSERT_BATCH = """
    INSERT INTO batches (id, written) VALUES (?, ?) ON CONFLICT (id) DO NOTHING"""
INSERT_ORDER = """
    INSERT INTO orders (site, digest, seen) VALUES (?, ?, ?)
    ON CONFLICT (site, digest) DO NOTHING"""
ROLLUP = f"""
    INSERT INTO cells ({", ".join(KEY)}, count, value)
    SELECT site, period - period % 86400, 'd', {", ".join(DIMENSIONS)}, SUM(count), SUM(value)
    FROM cells WHERE site = ? AND grain = 'h' AND period < ?
    GROUP BY site, period - period % 86400, {", ".join(DIMENSIONS)}
    ON CONFLICT ({", ".join(KEY)})
    DO UPDATE SET count = cells.count + excluded.count, value = cells.value + excluded.value"""


def summed(column: str) -> str:
    # PostgreSQL sums BIGINTs into NUMERIC; both databases should hand back ints.
    return f"CAST(SUM({column}) AS BIGINT)"


class StoreError(Exception):
    """The store cannot be reached or refused a write; the caller may retry."""


class NoStore(StoreError):
    """There is no store where the URL points (a wrong URL, a missing database file or
    directory): retrying will not help, the URL or the config must change."""


class Store:
    """SQL that both databases understand; subclasses bring connections and errors."""

    url: str

    def transaction(self) -> AbstractContextManager[Any]:
        """A cursor inside one transaction: committed on success, rolled back on error."""
        raise NotImplementedError

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.transaction() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())

    def close(self) -> None:
        pass

    def size(self) -> int:
        """Bytes the store takes up."""
        raise NotImplementedError

    # -- schema ---------------------------------------------------------------

    def migrate(self) -> None:
        with self.transaction() as cursor:
            self.lock_schema(cursor)
            cursor.execute("CREATE TABLE IF NOT EXISTS meta "
                           "(key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            cursor.execute("SELECT value FROM meta WHERE key = 'schema_version'")
            row = cursor.fetchone()
            version = int(row[0]) if row else 0
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                for statement in filter(str.strip, script.split(";")):
                    cursor.execute(statement)
                cursor.execute("DELETE FROM meta WHERE key = 'schema_version'")
                cursor.execute("INSERT INTO meta (key, value) VALUES ('schema_version', ?)",
                               (str(number),))
            cursor.execute("INSERT INTO meta (key, value) VALUES ('salt', ?) "
                           "ON CONFLICT (key) DO NOTHING", (secrets.token_hex(32),))

    def lock_schema(self, cursor: Any) -> None:
        """Keep two processes from migrating at once (PostgreSQL takes a lock)."""

    def lock_roll_up(self, cursor: Any) -> None:
        """Keep two processes from rolling up at once (SQLite's writers queue anyway)."""

    def describe(self) -> str:
        """Where the store is, for messages (no password)."""
        return self.url

    def initialized(self) -> bool:
        """Whether a consentpixel store is already here (its meta table exists)."""
        try:
            self.fetch("SELECT value FROM meta WHERE key = 'schema_version'")
        except StoreError:
            return False
        return True

    def schema_version(self) -> int:
        rows = self.fetch("SELECT value FROM meta WHERE key = 'schema_version'")
        return int(rows[0][0]) if rows else 0

    def salt(self) -> bytes:
        return bytes.fromhex(self.fetch("SELECT value FROM meta WHERE key = 'salt'")[0][0])

    # -- writing ----------------------------------------------------------------

    def write(self, batch: Batch, now: float | None = None) -> int:
        """Add a batch's deltas in one transaction; returns how many orders were repeats.

        A batch with an ID is written at most once, however often it is retried. Rows
        are written in key order, so that collectors writing the same cells at once
        wait for each other instead of deadlocking.
        """
        now = time.time() if now is None else now
        cells = {cell: list(entry) for cell, entry in batch.cells.items()}
        repeats = 0
        with self.transaction() as cursor:
            if batch.id:
                cursor.execute(INSERT_BATCH, (batch.id, int(now)))
                if cursor.rowcount != 1:
                    return 0  # an earlier attempt committed it
            for (site, digest), (cell, value) in sorted(batch.orders.items()):
                cursor.execute(INSERT_ORDER, (site, digest, int(now)))
                if cursor.rowcount != 1:
                    repeats += 1
                    continue
                entry = cells.setdefault(cell, [0, 0])
                entry[0] += 1
                entry[1] += value
            rows = [(cell.site, cell.period, "h", *cell[2:], count, value)
                    for cell, (count, value) in sorted(cells.items())]
            for start in range(0, len(rows), ROWS_PER_STATEMENT):
                chunk = rows[start:start + ROWS_PER_STATEMENT]
                cursor.execute(upsert_cells(len(chunk)), [v for row in chunk for v in row])
            if batch.consents:
                cursor.executemany(UPSERT_CONSENT, [
                    (*key, count) for key, count in sorted(batch.consents.items())])
            if batch.drops:
                cursor.executemany(UPSERT_DROP, [
                    (*key, count) for key, count in self.bounded(cursor, batch.drops)])
        return repeats

    def bounded(self, cursor: Any, tally: Counter[drops.DropKey]
                ) -> list[tuple[drops.DropKey, int]]:
        """The tally with details past the first MAX_DETAILS of a site, day and reason
        (counting what the store holds, from every process) moved to "(other)"."""
        named: dict[tuple[str, int, str], set[str]] = {}
        folded: Counter[drops.DropKey] = Counter()
        for key, count in sorted(tally.items()):
            group = (key.site, key.day, key.reason)
            if key.detail and key.detail != drops.OTHER:
                if group not in named:
                    cursor.execute("SELECT detail FROM drops WHERE site = ? AND day = ? "
                                   "AND reason = ? AND detail <> ?", (*group, drops.OTHER))
                    named[group] = {row[0] for row in cursor.fetchall()}
                if key.detail not in named[group]:
                    if len(named[group]) >= drops.MAX_DETAILS:
                        key = key._replace(detail=drops.OTHER)
                    else:
                        named[group].add(key.detail)
            folded[key] += count
        return sorted(folded.items())

    def forget_orders(self, now: float | None = None) -> int:
        """Delete order digests past the de-duplication window."""
        now = time.time() if now is None else now
        with self.transaction() as cursor:
            cursor.execute("DELETE FROM orders WHERE seen < ?", (int(now) - ORDER_WINDOW,))
            return int(cursor.rowcount)

    def forget_batches(self, now: float | None = None) -> int:
        """Delete the IDs of batches written more than a day ago."""
        now = time.time() if now is None else now
        with self.transaction() as cursor:
            cursor.execute("DELETE FROM batches WHERE written < ?", (int(now) - BATCH_WINDOW,))
            return int(cursor.rowcount)

    def forget_drops(self, now: float | None = None) -> int:
        """Delete the tallies of hits not counted past DROP_WINDOW."""
        now = time.time() if now is None else now
        with self.transaction() as cursor:
            cursor.execute("DELETE FROM drops WHERE day < ?", (int(now) - DROP_WINDOW,))
            return int(cursor.rowcount)

    def roll_up(self, site: str, hourly_before: int, delete_before: int) -> None:
        """Fold hourly cells into daily ones (totals unchanged), drop days past retention.

        Flushes only add to the current hours (hits carry the collector's clock), so
        they never touch the rows this moves; two roll-ups at once would count the same
        hours twice, hence the lock.
        """
        with self.transaction() as cursor:
            self.lock_roll_up(cursor)
            cursor.execute(ROLLUP, (site, hourly_before))
            cursor.execute("DELETE FROM cells WHERE site = ? AND grain = 'h' AND period < ?",
                           (site, hourly_before))
            cursor.execute("DELETE FROM cells WHERE site = ? AND period < ?",
                           (site, delete_before))
            cursor.execute("DELETE FROM consents WHERE site = ? AND day < ?",
                           (site, delete_before))
            cursor.execute("DELETE FROM costs WHERE site = ? AND day < ?",
                           (site, delete_before))

    def add_cost(self, site: str, day: int, source: str, medium: str, campaign: str,
                 currency: str, amount: int) -> None:
        """Record spend for a campaign and day; a second call for the same day replaces it."""
        self.add_costs(site, [(day, source, medium, campaign, currency, amount)])

    def add_costs(self, site: str, rows: Sequence[tuple[int, str, str, str, str, int]]
                  ) -> None:
        """Record (day, source, medium, campaign, currency, amount) rows, all or none."""
        with self.transaction() as cursor:
            cursor.executemany(UPSERT_COST, [(site, *row) for row in rows])

    # -- sessions ---------------------------------------------------------------

    def add_session(self, digest: str, expires: int) -> None:
        with self.transaction() as cursor:
            cursor.execute("INSERT INTO sessions (digest, expires) VALUES (?, ?)",
                           (digest, expires))

    def session_alive(self, digest: str, now: float) -> bool:
        return bool(self.fetch("SELECT 1 FROM sessions WHERE digest = ? AND expires > ?",
                               (digest, int(now))))

    def end_session(self, digest: str) -> None:
        with self.transaction() as cursor:
            cursor.execute("DELETE FROM sessions WHERE digest = ?", (digest,))

    def end_sessions(self) -> int:
        """End every session, e.g. when the admin secret is rotated."""
        with self.transaction() as cursor:
            cursor.execute("DELETE FROM sessions")
            return int(cursor.rowcount)

    def forget_sessions(self, now: float | None = None) -> int:
        """Delete the sessions past their lifetime."""
        now = time.time() if now is None else now
        with self.transaction() as cursor:
            cursor.execute("DELETE FROM sessions WHERE expires <= ?", (int(now),))
            return int(cursor.rowcount)

    # -- reading ----------------------------------------------------------------

    def totals(self, site: str, start: int, end: int, groups: Iterable[str],
               events: Sequence[str] = ()) -> list[tuple[Any, ...]]:
        """(group values…, event, currency, count, value) for a site and time range."""
        exprs = [GROUPS[group] for group in groups]
        keys = [*exprs, "event", "currency"]
        # A cell whose hits all moved to their value (crowd.py) counts nothing.
        where = "site = ? AND period >= ? AND period < ? AND count <> 0"
        params: list[Any] = [site, start, end]
        if events:
            where += f" AND event IN ({', '.join('?' * len(events))})"
            params += list(events)
        return self.fetch(
            f"SELECT {', '.join(keys)}, {summed('count')}, {summed('value')} FROM cells "
            f"WHERE {where} GROUP BY {', '.join(keys)} ORDER BY {', '.join(keys)}", params)

    def consent_totals(self, site: str, start: int, end: int) -> list[tuple[Any, ...]]:
        """(day, category, choice, count) for a site and time range."""
        return self.fetch(
            f"SELECT day, category, choice, {summed('count')} FROM consents "
            "WHERE site = ? AND day >= ? AND day < ? "
            "GROUP BY day, category, choice ORDER BY day, category, choice",
            (site, start, end))

    def cost_totals(self, site: str, start: int, end: int) -> list[tuple[Any, ...]]:
        """(day, source, medium, campaign, currency, amount) for a site and time range."""
        return self.fetch(
            "SELECT day, source, medium, campaign, currency, amount FROM costs "
            "WHERE site = ? AND day >= ? AND day < ? ORDER BY day, campaign",
            (site, start, end))

    def drop_totals(self, sites: Sequence[str], start: int, end: int
                    ) -> list[tuple[Any, ...]]:
        """(site, reason, detail, count) for these sites over a time range, most first."""
        marks = ", ".join("?" * len(sites))
        return self.fetch(
            f"SELECT site, reason, detail, {summed('count')} FROM drops "
            f"WHERE site IN ({marks}) AND day >= ? AND day < ? "
            f"GROUP BY site, reason, detail ORDER BY 4 DESC, site, reason, detail",
            (*sites, start, end))

    def sites(self) -> list[str]:
        return [row[0] for row in self.fetch("SELECT DISTINCT site FROM cells ORDER BY site")]

    def cell_count(self) -> int:
        return int(self.fetch("SELECT COUNT(*) FROM cells")[0][0])

