"""Where the aggregates live: chosen by a database URL."""

from __future__ import annotations

from .base import Store, StoreError


def open_store(url: str) -> Store:
    """A migrated store for sqlite:///path or postgresql://… URLs."""
    if url.startswith("sqlite:///"):
        from .sqlite import SQLiteStore

        store: Store = SQLiteStore(url)
    elif url.startswith(("postgresql://", "postgres://")):
        try:
            from .postgres import PostgresStore
        except ImportError as exc:
            raise StoreError("PostgreSQL needs psycopg: pip install 'consentpixel[postgres]'"
                             ) from exc
        store = PostgresStore(url)
    else:
        raise StoreError(f"{url!r}: use sqlite:///path/to.db or postgresql://user@host/db")
    store.migrate()
    return store


__all__ = ["Store", "StoreError", "open_store"]
