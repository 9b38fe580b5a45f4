"""Visitors side by side: each a generator of waits, all waited for together."""

from __future__ import annotations

import time

from consentpixel.audit.scheduler import Steps, Task, Wait, drive, run


def pump(seconds: float) -> None:
    time.sleep(seconds)


def test_a_wait_is_met_by_what_another_visit_does() -> None:
    seen: dict[str, bool] = {}

    def waiting() -> Task:
        seen["met"] = yield Wait(lambda: seen.get("done", False), 5.0)
        return None

    def doing() -> Task:
        yield Wait(lambda: True, 5.0)
        seen["done"] = True
        return None

    run([waiting(), doing()], pump, limit=2)
    assert seen["met"] is True


def test_a_wait_that_runs_out_says_so() -> None:
    def waiting() -> Steps[bool]:
        met = yield Wait(lambda: False, 0.1)
        return met

    assert drive(waiting(), pump) is False


def test_at_most_limit_visits_at_once_and_their_follow_ups_run_too() -> None:
    running: list[int] = []
    most = [0]
    done: list[str] = []

    def visit(name: str, then: list[Task]) -> Task:
        running.append(1)
        most[0] = max(most[0], len(running))
        yield Wait(lambda: True, 1.0)
        yield Wait(lambda: False, 0.05)
        running.pop()
        done.append(name)
        return then

    run([visit("a", [visit("a1", []), visit("a2", [])]), visit("b", []), visit("c", [])],
        pump, limit=2)
    assert most[0] == 2
    assert sorted(done) == ["a", "a1", "a2", "b", "c"]
    assert done.index("a") < done.index("a1")
