"""Many visitors at once in one browser: each visit is a generator that yields what it
waits for, and one loop waits for all of them together.

Playwright's synchronous API makes one call at a time, but most of a visit is waiting:
for a page to load, a banner to appear, the network to fall quiet. A visit written as a
generator yields a `Wait` at each of those points and gets back whether it came true;
`run` checks every pending wait a few times a second while the browser goes on
delivering every page's events, so six visitors that each wait two seconds take two
seconds, not twelve. `drive` runs one visit alone, the same way.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Generator, Iterable, TypeVar

T = TypeVar("T")

POLL = 0.05  # seconds between two looks at the pending waits


@dataclass(frozen=True)
class Wait:
    """Until done() is true, for at most `seconds`, looking every `every` seconds."""

    done: Callable[[], bool]
    seconds: float
    every: float = POLL


# A visit: yields Waits, is sent whether each came true, returns its result.
Steps = Generator[Wait, bool, T]
# A task of `run`: may return more tasks, which then run too.
Task = Generator[Wait, bool, "list[Task] | None"]
# Waits a moment while the browser delivers events (page.wait_for_timeout, in seconds).
Pump = Callable[[float], None]


@dataclass
class Pending:
    task: Task
    wait: Wait
    deadline: float
    next_look: float = 0.0


def run(tasks: Iterable[Task], pump: Pump, limit: int) -> None:
    """Every task to its end, at most `limit` at once, in the order given; the tasks a
    task returns are queued behind it."""
    queue: deque[Task] = deque(tasks)
    pending: list[Pending] = []

    def advance(task: Task, value: Any) -> None:
        try:
            wait = task.send(value)
        except StopIteration as done:
            queue.extendleft(reversed(done.value or []))
            return
        now = time.monotonic()
        pending.append(Pending(task, wait, now + wait.seconds))

    while queue or pending:
        while queue and len(pending) < limit:
            advance(queue.popleft(), None)
        if not pending:
            continue
        pump(POLL)
        for item in list(pending):
            now = time.monotonic()
            if now < item.next_look:
                continue
            item.next_look = now + item.wait.every
            met = item.wait.done()
            if met or now >= item.deadline:
                pending.remove(item)
                advance(item.task, met)


def drive(steps: Steps[T], pump: Pump) -> T:
    """One visit alone, to its end: its result."""
    result: list[T] = []

    def task() -> Task:
        result.append((yield from steps))
        return None

    run([task()], pump, 1)
    return result[0]
