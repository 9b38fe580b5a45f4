"""Many collectors, one store: every hit answered is counted exactly once.

Real `consentpixel serve` processes, real HTTP from several threads, real stores.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from .servers import ServeProcess, Load, pixel, stored_by_path, stored_hits

PATHS = [pixel(f"/page/{index}") for index in range(10)]


def children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat[stat.rindex(")") + 2:].split()[1]) == parent:
            found.append(int(entry.name))
    return found


@pytest.mark.postgres
def test_two_collectors_on_one_postgres_count_exactly(postgres_url: str) -> None:
    """Both write the same cells at the same time, and each its own."""
    with ServeProcess("--db", postgres_url) as first, ServeProcess("--db", postgres_url) as second:
        loads = [Load(first.url, [*PATHS, pixel("/first")], threads=3, each=400),
                 Load(second.url, [*PATHS, pixel("/second")], threads=3, each=400)]
        answered = [load.join() for load in loads]
        time.sleep(1.5)  # a flush or two while both run, not only the final ones
    assert answered == [1200, 1200]
    assert stored_hits(postgres_url) == 2400
    assert stored_by_path(postgres_url) == loads[0].by_path() + loads[1].by_path()


@pytest.mark.parametrize("store", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_workers_count_exactly(store: str, tmp_path: Path, request: pytest.FixtureRequest
                               ) -> None:
    db = (f"sqlite:///{tmp_path / 'workers.db'}" if store == "sqlite"
          else str(request.getfixturevalue("postgres_url")))
    with ServeProcess("--db", db, "--workers", "2") as collector:
        collector.wait_until(lambda: len(children(collector.process.pid)) >= 2, "two workers")
        load = Load(collector.url, PATHS, threads=6, each=300)
        answered = load.join()
        assert answered == 1800
        status = collector.signal(signal.SIGTERM)
    assert status in (0, -signal.SIGTERM), collector.log()
    assert stored_hits(db) == answered
