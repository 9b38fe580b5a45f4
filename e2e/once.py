"""A result computed once per test run, whichever pytest-xdist worker asks for it first.

The audit's end-to-end modules audit all their fixture pages in one run and let many
small tests read the report. Under `pytest -n 2` a module's tests are shared out between
the workers, and a module-scoped fixture would run in each. `once` runs it in the first
worker that needs it, under a lock in the run's common temporary directory, and hands
the others its JSON-able result (pytest-xdist's own recipe for session fixtures).
"""

from __future__ import annotations

import fcntl
import json
from pathlib import Path
from typing import Any, Callable

import pytest

Result = dict[str, Any]


def once(name: str, request: pytest.FixtureRequest, compute: Callable[[Path], Result]
         ) -> Result:
    """compute(folder), once per run: folder is kept for the other workers to read."""
    factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
    worker: str = request.getfixturevalue("worker_id")
    if worker == "master":  # not distributed: nobody to share with
        return compute(factory.mktemp(name))
    root = factory.getbasetemp().parent / f"once-{request.getfixturevalue('testrun_uid')}"
    root.mkdir(exist_ok=True)
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = root / f"{name}.json"
        if done.exists():
            result: Result = json.loads(done.read_text())
            return result
        folder = root / name
        folder.mkdir(exist_ok=True)
        result = compute(folder)
        done.write_text(json.dumps(result))
        return result
