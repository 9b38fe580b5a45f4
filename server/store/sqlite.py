"""SQLite: the embedded default, one file, safe for several processes on one host."""

from __future__ import annotations

import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from .base import NoStore, Store, StoreError

# Seconds a write waits for another process's lock. Writes take milliseconds, so a
# longer wait means something holds the file: fail, keep the deltas, retry later.
BUSY_TIMEOUT = 5.0


class SQLiteStore(Store):
    def __init__(self, url: str, create: bool = True) -> None:
        self.url = url
        self.path = url.removeprefix("sqlite:///") or "consentpixel.db"
        if self.path != ":memory:":
            self.path = str(Path(self.path).expanduser())
            check_place(Path(self.path), create)
        self.lock = threading.Lock()
        self.connection = self.connect()

    def connect(self) -> sqlite3.Connection:
        try:
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None,
                                         check_same_thread=False)
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {exc}") from exc
        return connection

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self.lock:
            cursor = self.connection.cursor()
            try:
                cursor.execute("BEGIN IMMEDIATE")
                yield cursor
                cursor.execute("COMMIT")
            except sqlite3.Error as exc:
                if self.connection.in_transaction:
                    self.connection.rollback()
                raise StoreError(f"{self.path}: {exc}") from exc
            except BaseException:
                if self.connection.in_transaction:
                    self.connection.rollback()
                raise
            finally:
                cursor.close()

    def fetch(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        # Reads use their own connection so a long report never holds up a flush.
        if self.path == ":memory:":
            return super().fetch(sql, params)
        try:
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT)
            try:
                return connection.execute(sql, params).fetchall()
            finally:
                connection.close()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {exc}") from exc

    def describe(self) -> str:
        return self.path if self.path == ":memory:" else str(Path(self.path).resolve())

    def size(self) -> int:
        """Bytes on disk, the write-ahead log included."""
        return sum(p.stat().st_size for p in Path(self.path).parent.glob(
            Path(self.path).name + "*") if p.is_file())

    def close(self) -> None:
        with self.lock:
            self.connection.close()


def check_place(path: Path, create: bool) -> None:
    """A database file to read must exist; one to create needs an existing directory
    (creating directories is the administrator's call, not the collector's)."""
    if path.is_dir():
        raise NoStore(f"{path}: is a directory, not a database file")
    if path.exists():
        return
    if not create:
        raise NoStore(f"no database at {path.resolve()}: `consentpixel serve` creates it; "
                      "name another with --config or --db")
    for ancestor in path.parents:
        if ancestor.exists():
            if not ancestor.is_dir():
                raise NoStore(f"{path}: {ancestor} is not a directory")
            break
    if not path.parent.is_dir():
        raise NoStore(f"{path}: the directory {path.parent} does not exist; create it first")
