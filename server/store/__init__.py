"""Where the aggregates live: chosen by a database URL."""

from __future__ import annotations

from .base import NoStore, Store, StoreError, redacted


def open_store(url: str, create: bool = True) -> Store:
    """A migrated store for sqlite:///path or postgresql://… URLs.

    With create=False (every command that only reads, or adds to what is there) a
    store must already exist: NoStore rather than a new, empty database.
    """
    if url.startswith("sqlite:///"):
        from .sqlite import SQLiteStore

        store: Store = SQLiteStore(url, create)
    elif url.startswith(("postgresql://", "postgres://")):
        try:
            from .postgres import PostgresStore
        except ImportError as exc:
            raise NoStore("PostgreSQL needs psycopg: pip install '.[postgres]' in the "
                          "consentpixel checkout") from exc
        store = PostgresStore(url)
    else:
        raise NoStore(f"{redacted(url)!r}: use sqlite:///path/to.db or postgresql://user@host/db")
    if not create and not store.initialized():
        store.close()
        raise NoStore(f"{store.describe()}: no consentpixel store there yet "
                      "(`consentpixel serve` creates it)")
    store.migrate()
    return store


__all__ = ["NoStore", "Store", "StoreError", "open_store", "redacted"]
