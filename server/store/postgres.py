"""PostgreSQL: the shared store when many collector processes or hosts write at once.

The SQL is base.Store's; this module brings pooled connections (psycopg 3), the
placeholder style, advisory locks where two processes could race, and StoreError for
every driver error so the flusher can keep the deltas and retry.
"""

from __future__ import annotations

import functools
import logging
from contextlib import contextmanager
from typing import Any, Iterator

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from .base import Store, StoreError, redacted

POOL_SIZE = 4  # a flusher, housekeeping and a few report readers per process
CONNECT_TIMEOUT = 5  # seconds; a flush should fail fast and retry, not hang
# Advisory lock keys, one per critical section, shared by every collector on the database.
LOCKS = {"schema": 0x63707801, "roll_up": 0x63707802}


# The flusher reports an outage once, and its end; the pool would log each of its
# reconnection attempts (and psycopg each broken connection) as a warning.
logging.getLogger("psycopg").setLevel(logging.ERROR)


@functools.lru_cache(maxsize=512)
def translate(sql: str) -> str:
    """base.Store's `?` placeholders in psycopg's style; a literal % is doubled."""
    return sql.replace("%", "%%").replace("?", "%s")



class Cursor:
    """A psycopg cursor that speaks base.Store's `?` placeholders."""

    def __init__(self, cursor: psycopg.Cursor[Any]) -> None:
        self.cursor = cursor

    def execute(self, sql: str, params: Any = ()) -> None:
        self.cursor.execute(translate(sql), params)

    def executemany(self, sql: str, rows: Any) -> None:
        self.cursor.executemany(translate(sql), rows)

    def fetchone(self) -> tuple[Any, ...] | None:
        return self.cursor.fetchone()

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.cursor.fetchall()

    @property
    def rowcount(self) -> int:
        return self.cursor.rowcount


class PostgresStore(Store):
    def __init__(self, url: str) -> None:
        self.url = url
        self.name = redacted(url)
        self.probe()
        self.pool = ConnectionPool(
            url, min_size=1, max_size=POOL_SIZE, open=True, timeout=CONNECT_TIMEOUT,
            kwargs={"connect_timeout": CONNECT_TIMEOUT, "application_name": "consentpixel"},
            # A connection broken by a server restart is noticed here, not mid-flush.
            check=ConnectionPool.check_connection, name="consentpixel")

    def probe(self) -> None:
        """Connect once up front, so a wrong URL is one clear line at startup."""
        try:
            psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT).close()
        except psycopg.Error as exc:
            raise StoreError(f"{self.name}: {first_line(exc)}") from None

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        try:
            with self.pool.connection() as connection:
                with connection.cursor() as cursor:
                    # The pool commits on a clean exit and rolls back on an exception.
                    yield Cursor(cursor)
        except PoolTimeout as exc:
            raise StoreError(f"{self.name}: no connection within {CONNECT_TIMEOUT} s "
                             f"({first_line(exc)})") from exc
        except psycopg.Error as exc:
            raise StoreError(f"{self.name}: {first_line(exc)}") from exc

    def describe(self) -> str:
        return self.name

    def lock_schema(self, cursor: Any) -> None:
        cursor.execute("SELECT pg_advisory_xact_lock(?)", (LOCKS["schema"],))

    def lock_roll_up(self, cursor: Any) -> None:
        cursor.execute("SELECT pg_advisory_xact_lock(?)", (LOCKS["roll_up"],))

    def size(self) -> int:
        """Bytes of the store's tables and indexes (the database holds other things too)."""
        rows = self.fetch("SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) "
                          "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                          "WHERE n.nspname = current_schema() AND c.relkind = 'r'")
        return int(rows[0][0])

    def close(self) -> None:
        self.pool.close()


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
