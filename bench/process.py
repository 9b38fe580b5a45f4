"""Servers under test: started as a user starts them, measured through /proc."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import TracebackType

Command = list[str]
TICKS = os.sysconf("SC_CLK_TCK")
SECRET = "bench-admin-secret"  # 16 characters at least


def collector(db: str, workers: int) -> Command:
    return [sys.executable, "-m", "consentpixel", "serve", "--port", "0", "--db", db,
            "--workers", str(workers)]


def baseline(workers: int) -> Command:
    return [sys.executable, "-m", "bench.baseline", "--port", "0", "--workers", str(workers)]


class Server:
    def __init__(self, command: Command) -> None:
        env = dict(os.environ, CONSENTPIXEL_ADMIN_SECRET=SECRET)
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True, env=env,
                                        cwd=Path(__file__).parents[1])
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        if "collecting on " not in first:
            self.stop()
            raise RuntimeError(f"{' '.join(command)} did not start: {first}")
        self.url = first.split("collecting on ", 1)[1].strip()
        self.wait_ready()

    def wait_ready(self) -> None:
        # With --workers, uvicorn binds the port after the announcement.
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(self.url + "/p.gif", timeout=2):
                    return
            except OSError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise
                time.sleep(0.1)

    def cpu_seconds(self) -> float:
        """User and system time of the server and its worker processes."""
        return sum(cpu_of(pid) for pid in [self.process.pid, *children(self.process.pid)])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()


def stat(pid: int) -> list[str]:
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2:].split()  # the fields after "(command name)"


def cpu_of(pid: int) -> float:
    try:
        fields = stat(pid)
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(stat(int(entry.name))[1]) == parent:
                    found.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return found
