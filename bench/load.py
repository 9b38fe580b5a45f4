"""Load generators: wrk where installed, else a small asyncio HTTP/1.1 client.

Both keep `connections` keep-alive connections busy for a while, sending the given
requests in turn, and report requests answered, requests per second and the 99th
percentile latency. `exactly` sends each request once and waits for every answer, so
the store can be checked against it.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import itertools
import random
import subprocess
import tempfile
import time
from typing import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from . import mix

HEADERS = {
    "Referer": "http://127.0.0.1:8000/",
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/130.0 Safari/537.36",
}
WRK_SCRIPT = Path(__file__).with_name("wrk.lua")


@dataclass
class Result:
    answered: int
    seconds: float
    p99_ms: float
    errors: int

    @property
    def rate(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0


def client_name() -> str:
    return "wrk" if shutil.which("wrk") else "asyncio"


def run(base: str, requests: list[str], seconds: float, connections: int) -> Result:
    if shutil.which("wrk"):
        return run_wrk(base, requests, seconds, connections)
    return asyncio.run(run_asyncio(base, requests, seconds, connections))


def run_wrk(base: str, requests: list[str], seconds: float, connections: int) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as listing:
        listing.write("\n".join(requests) + "\n")
        listing.flush()
        command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s",
                   "-s", str(WRK_SCRIPT), *(f"-H{k}: {v}" for k, v in HEADERS.items()),
                   base, "--", listing.name]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
    match = re.search(r"^BENCH (\d+) (\d+) (\d+) (\d+)$", done.stdout, re.M)
    if not match:
        raise RuntimeError(f"unexpected wrk output:\n{done.stdout}{done.stderr}")
    answered, duration_us, p99_us, errors = map(int, match.groups())
    return Result(answered, duration_us / 1e6, p99_us / 1000, errors)


async def run_asyncio(base: str, requests: list[str], seconds: float,
                      connections: int) -> Result:
    deadline = time.perf_counter() + seconds
    cycle = itertools.cycle(requests)
    rng = random.Random()
    latencies: list[float] = []
    started = time.perf_counter()

    def next_request() -> str | None:
        return mix.fresh(next(cycle), rng) if time.perf_counter() < deadline else None

    outcomes = await asyncio.gather(*(connection(base, next_request, latencies)
                                      for _ in range(connections)), return_exceptions=True)
    elapsed = time.perf_counter() - started
    errors = sum(1 for outcome in outcomes if isinstance(outcome, BaseException))
    return Result(len(latencies), elapsed, percentile(latencies, 99) * 1000, errors)


async def exactly(base: str, requests: list[str], connections: int) -> int:
    """Send each request once over `connections`; the number answered with a 200."""
    rng = random.Random()
    pending: Iterator[str] = (mix.fresh(request, rng) for request in requests)
    latencies: list[float] = []
    await asyncio.gather(*(connection(base, lambda: next(pending, None), latencies)
                           for _ in range(connections)), return_exceptions=True)
    return len(latencies)


async def connection(base: str, next_request: Callable[[], str | None],
                     latencies: list[float]) -> None:
    """One keep-alive connection sending requests until next_request() has none."""
    parts = urlsplit(base)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    head = "".join(f"{k}: {v}\r\n" for k, v in HEADERS.items())
    try:
        while (target := next_request()) is not None:
            sent = time.perf_counter()
            writer.write(f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n{head}\r\n"
                         .encode())
            if await read_response(reader) == 200:
                latencies.append(time.perf_counter() - sent)
    finally:
        writer.close()
        await writer.wait_closed()


async def read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
    if length:
        await reader.readexactly(int(length.group(1)))
    return status


def percentile(values: list[float], which: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * which / 100))]
