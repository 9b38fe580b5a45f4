"""A collector for tests: `consentpixel serve` started on a free port with a store of
its own, or one already running, and what its store counts.

Counts are read in this process through the report layer, as `consentpixel report
--format json` reads them, from the store opened once: polling them costs a query,
not a process. An assertion about counts that fails says why hits were not counted.

A collector started with the user's config runs on a copy made for the tests
(`counting_config`): the test pages' loopback origins are allowed and automated
browsers counted, since the tests' own browser is one. The user's file is never changed.
"""

from __future__ import annotations

import json
import re
import tomllib
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

from .. import demo, reports
from ..config import Site, load
from ..store import Store, StoreError, open_store

STARTUP = 20.0  # seconds `consentpixel serve` may take to say where it listens
DAYS = 30       # the period counts cover: the report command's default
# Where PageServer serves the test pages, and cpx_open's browsers open them.
TEST_ORIGINS = ["http://localhost:*", "http://127.0.0.1:*"]


class CollectorProcess:
    """A collector the tests talk to: one started for them, or yours (no process then)."""

    def __init__(self, url: str, db: str | None, config: Path | None = None,
                 process: subprocess.Popen[str] | None = None,
                 output: list[str] | None = None, reader: threading.Thread | None = None
                 ) -> None:
        self.url = url.rstrip("/")
        self.db_url = db
        sqlite = db[len("sqlite:///"):] if db and db.startswith("sqlite:///") else ""
        self.db = Path(sqlite) if sqlite else None
        self.config = config
        self.process = process
        self.output = output if output is not None else []
        self.reader = reader
        self.settings = load(config) if config else demo.config()
        self.sites = self.settings.sites
        self.site = next(iter(self.sites))
        self.opened: Store | None = None  # by the first count

    def report(self, site: str | None = None, *by: str) -> list[dict[str, Any]]:
        """Rows as `consentpixel report --format json --min-count 1` prints them: counts
        and values per event (and per each of `by`), small cells not merged."""
        name = site or self.site
        if name not in self.sites:
            raise AssertionError(f"no site {name!r} in the collector's config "
                                 f"({', '.join(self.sites)})")
        rows = reports.breakdown(self.store(), replace(self.sites[name], min_count=1),
                                 reports.Period.last(DAYS), by or ["event"])
        plain: list[dict[str, Any]] = json.loads(json.dumps(rows, default=as_json))
        return plain

    def counts(self, site: str | None = None) -> dict[str, int]:
        """Events and their counts in the store, e.g. {"pageview": 2, "purchase": 1}."""
        return {row["event"]: row["count"] for row in self.report(site)}

    def store(self) -> Store:
        """The collector's store, opened once, for reading."""
        if not self.db_url:
            raise RuntimeError("counts need the collector's database: pass --cpx-db URL")
        if self.opened is None:
            self.opened = open_store(self.db_url, create=False)
        return self.opened

    def wait_for(self, check: Callable[[], bool], timeout: float = 5.0) -> None:
        """Poll until check() holds: the collector writes its buffer every second."""
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"not reached within {timeout} s; store: {self.dump()}"
                                     + self.not_counted())
            time.sleep(0.2)

    def expect_count(self, event: str, count: int, site: str | None = None,
                     timeout: float = 10.0) -> None:
        """Wait until the store counts exactly `count` of `event`."""
        seen: dict[str, int] = {}

        def reached() -> bool:
            seen.update(self.counts(site))
            return seen.get(event, 0) == count

        try:
            self.wait_for(reached, timeout)
        except AssertionError:
            raise AssertionError(f"the store counts {seen.get(event, 0)} {event}, not {count}; "
                                 f"all counts: {seen}" + self.not_counted(site)) from None

    def not_counted(self, site: str | None = None) -> str:
        """Why the collector did not count hits, as lines for a failure message (empty
        when it counted everything, or its store cannot be read)."""
        try:
            rows = reports.not_counted(self.store(), self.settings, site or self.site,
                                       reports.Period.last(DAYS))
        except (RuntimeError, StoreError):
            return ""
        if not rows:
            return ""
        return "\nthe collector did not count:" + "".join(
            f"\n  {row.count} × {row.reason}: {row.fix}" for row in rows)

    def dump(self) -> str:
        """Everything in a SQLite store, as text: what privacy tests search."""
        if self.db is None or not self.db.exists():
            return ""
        connection = sqlite3.connect(self.db)
        try:
            lines = [f"{name}: {row}" for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")
                for row in connection.execute(f"SELECT * FROM {name}")]  # noqa: S608
        finally:
            connection.close()
        return "\n".join(lines)

    def stored_bytes(self) -> bytes:
        """The raw bytes of a SQLite store and its write-ahead log, lowercased."""
        if self.db is None:
            return b""
        return b"".join(path.read_bytes() for path in self.db.parent.glob(self.db.name + "*")
                        ).lower()

    def stop(self) -> None:
        """Close the store, and stop the process if this one started it."""
        if self.opened is not None:
            self.opened.close()
            self.opened = None
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.reader:
            self.reader.join(timeout=5)
        if self.process.stdout:
            self.process.stdout.close()


def sites_of(config: Path | None) -> dict[str, Site]:
    """The sites of the collector's config; without one it runs the demo site."""
    return (load(config) if config else demo.config()).sites


def counting_config(config: Path, tmp: Path) -> Path:
    """A copy of the user's config in tmp that counts the tests' own pages: every site
    also allows the loopback origins PageServer serves from, counts automation, and
    stores what one client sends (a test's browser is one client: under the crowd rule
    its paths and labels would all be :rare)."""
    load(config)  # a mistake in the user's file is reported against that file
    raw = tomllib.loads(config.read_text(encoding="utf-8"))
    for site in raw.get("sites", {}).values():
        site["origins"] = [*site.get("origins", []), *TEST_ORIGINS]
        site["count_automation"] = True
        site["crowd_clients"] = 1
    derived = tmp / f"{config.stem}.for-tests.toml"
    derived.write_text(f"# {config} as the tests' collector runs it: their pages' origins "
                       "allowed, automation counted, the crowd rule off.\n"
                       + "".join(f"{toml(key)} = {toml(value)}\n" for key, value in raw.items()),
                       encoding="utf-8")
    return derived


def toml(value: Any) -> str:
    """A value read by tomllib, written back as TOML (inline tables, one line each)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON's escapes are TOML's
    if isinstance(value, list):
        return "[" + ", ".join(toml(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml(str(k))} = {toml(v)}" for k, v in value.items()) + "}"
    return str(value.isoformat())  # dates and times


def as_json(value: Any) -> Any:
    """A value as the report command writes it in JSON: amounts as numbers."""
    return float(value) if isinstance(value, Decimal) else str(value)


def start_collector(tmp: Path, config_text: str | None = None,
                    config: Path | None = None, counting: bool = False) -> CollectorProcess:
    """`python -m consentpixel serve` on a free port, with a store in tmp; with
    counting, on counting_config(config) so that the tests' own pages count."""
    db = tmp / "store.db"
    args = [sys.executable, "-m", "consentpixel", "serve", "--port", "0",
            "--db", f"sqlite:///{db}"]
    if config_text is not None:
        config = tmp / "consentpixel.toml"
        config.write_text(config_text)
    if config is not None and counting:
        config = counting_config(config, tmp)
    if config is not None:
        args += ["--config", str(config)]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    output: list[str] = []
    assert process.stdout is not None
    deadline = time.monotonic() + STARTUP
    url = None
    while time.monotonic() < deadline and url is None:
        line = process.stdout.readline()
        if not line:
            break
        output.append(line)
        match = re.search(r"collecting on (http://\S+)", line)
        if match:
            url = match.group(1)
    if url is None:
        process.kill()
        rest = process.stdout.read() or ""
        process.wait()
        process.stdout.close()
        raise RuntimeError("consentpixel serve did not start:\n" + "".join(output) + rest)
    reader = threading.Thread(target=lambda: output.extend(process.stdout or []), daemon=True)
    reader.start()
    return CollectorProcess(url, f"sqlite:///{db}", config, process, output, reader)
