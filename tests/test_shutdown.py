"""Stopping a collector under load: nothing answered is lost, on both stores.

SIGTERM and Ctrl-C (SIGINT) stop it gracefully: it stops accepting, answers what it
has, and writes what it holds. kill -9 gives it no chance: what arrived since its last
write (at most one flush interval, a second by default) is lost, nothing before.
"""

from __future__ import annotations

import signal

import pytest

from .servers import ServeProcess, Load, pixel, stored_by_path, stored_hits

PATHS = [pixel(f"/page/{index}") for index in range(10)]


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_under_load_writes_every_answered_hit(database: str, number: int) -> None:
    with ServeProcess("--db", database) as collector:
        load = Load(collector.url, PATHS, threads=6)
        collector.wait_until(lambda: sum(load.answered) > 1500, "loaded")
        status = collector.signal(number)  # the load goes on until the port is closed
        answered = load.stop()
    assert status in (0, 130, -number), collector.log()
    assert stored_hits(database) == answered
    assert stored_by_path(database) == load.by_path()


def test_kill_9_loses_at_most_what_came_after_the_last_write(database: str) -> None:
    with ServeProcess("--db", database) as collector:
        before = Load(collector.url, PATHS, threads=3, each=200).join()
        collector.wait_until(lambda: stored_hits(database) == before, "a write")
        after = Load(collector.url, PATHS, threads=3, each=100).join()
        collector.signal(signal.SIGKILL)
    assert (before, after) == (600, 300)
    assert before <= stored_hits(database) <= before + after
