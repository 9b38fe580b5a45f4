"""Measure the collector against a bare GIF app, and the tag, User-Agents, the store and a report.

    python -m bench [--seconds 10] [--connections 32] [--workers 1 2]
                    [--postgres postgresql:///postgres?host=/var/run/postgresql]
    python -m bench banner [--banner-rounds 9]   # only the banner beside vanilla-cookieconsent

Run from a checkout with consentpixel installed. Each server runs in turn on this machine,
loaded by the same client (wrk where installed, else an asyncio client); its CPU time
is read from /proc. --postgres adds collectors on a scratch database created (and
dropped) on that server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from . import agents, banner, load, mix, process, stores

LOAD = mix.requests("/load")
EXACT_PREFIX = "/exact"


@dataclass
class Target:
    server: str
    workers: int
    command: process.Command
    db: str = ""  # the collector's store; the bare app has none
    rates: list[float] = field(default_factory=list)
    p99s: list[float] = field(default_factory=list)
    cpu_us: list[float] = field(default_factory=list)
    errors: int = 0
    exact: str = "n/a"


def main() -> None:
    args = parse()
    print(machine(), flush=True)
    if args.what == "banner":
        print(banner.run(args.banner_rounds))
        return
    with tempfile.TemporaryDirectory(prefix="consentpixel-bench-") as scratch:
        targets = []
        for workers in args.workers:
            group = [Target("bare GIF app", workers, process.baseline(workers))]
            group += [Target(label, workers, process.collector(url, workers), url)
                      for label, url in databases(args, Path(scratch))]
            measure(args, group)
            targets += group
        print()
        print(f"Median of {args.rounds} interleaved rounds of {args.seconds:g} s, "
              f"{args.connections} connections, client {load.client_name()}:")
        print(table(targets))
        print()
        print(stores.tag_sizes())
        print()
        print("User-Agent classification per hit: the first hit of an agent, and the next:")
        print(agents.table())
        print()
        for label, url in databases(args, Path(scratch)):
            print(stores.report(label, url))
        print()
        print(banner.run(args.banner_rounds))


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("what", nargs="?", choices=("all", "banner"), default="all",
                        help="everything (default), or only the banner beside "
                             "vanilla-cookieconsent")
    parser.add_argument("--banner-rounds", type=int, default=9,
                        help="interleaved rounds of the banner comparison (at least 7)")
    parser.add_argument("--seconds", type=float, default=10.0, help="load per round")
    parser.add_argument("--rounds", type=int, default=3,
                        help="rounds per server, taken in turn so that other load on the "
                             "machine hits every server alike")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--exact", type=int, default=20000,
                        help="requests of the count check, every answer awaited")
    parser.add_argument("--postgres", default=os.environ.get("CONSENTPIXEL_BENCH_POSTGRES"),
                        help="a PostgreSQL URL whose role may create databases")
    return parser.parse_args()


def databases(args: argparse.Namespace, scratch: Path) -> list[tuple[str, str]]:
    """(label, URL) of a fresh store per database."""
    found = [("collector, SQLite", f"sqlite:///{scratch / f'bench-{time.time_ns()}.db'}")]
    if args.postgres:
        found.append(("collector, PostgreSQL", stores.scratch_database(args.postgres)))
    return found


def measure(args: argparse.Namespace, targets: list[Target]) -> None:
    """Load every server in turn, round after round; then check the counts."""
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(process.Server(target.command)) for target in targets]
        for server in servers:
            load.run(server.url, LOAD, 2, args.connections)  # warm up
        for _ in range(args.rounds):
            for target, server in zip(targets, servers):
                before = server.cpu_seconds()
                result = load.run(server.url, LOAD, args.seconds, args.connections)
                cpu = server.cpu_seconds() - before
                target.rates.append(result.rate)
                target.p99s.append(result.p99_ms)
                target.cpu_us.append(cpu / result.answered * 1e6 if result.answered else 0)
                target.errors += result.errors
                print(f"  {target.server}, {target.workers} worker(s): "
                      f"{result.rate:,.0f} requests/s", flush=True)
        for target, server in zip(targets, servers):
            if target.db:
                answered = asyncio.run(load.exactly(
                    server.url, mix.requests(EXACT_PREFIX, args.exact), args.connections))
                server.stop()  # SIGTERM: the collector writes what it holds, then exits
                stored = stores.stored(target.db, EXACT_PREFIX)
                target.exact = (f"{'yes' if stored == answered else 'NO'} "
                                f"({stored:,} of {answered:,})")
    for target in targets:
        if target.db:
            stores.drop(target.db)


def table(targets: list[Target]) -> str:
    lines = ["| server | workers | requests/s | p99 ms | CPU µs/request | vs bare app "
             "| stored = answered |",
             "|---|---:|---:|---:|---:|---:|---|"]
    bare = {t.workers: statistics.median(t.rates) for t in targets if not t.db}
    for target in targets:
        rate = statistics.median(target.rates)
        errors = f" ({target.errors} errors)" if target.errors else ""
        lines.append(f"| {target.server} | {target.workers} | {rate:,.0f}{errors} | "
                     f"{statistics.median(target.p99s):.1f} | "
                     f"{statistics.median(target.cpu_us):.0f} | "
                     f"{rate / bare[target.workers]:.0%} | {target.exact} |")
    return "\n".join(lines)


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory = next((int(line.split()[1]) // 1024 ** 2 for line in
                   Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0)
    import uvicorn

    return (f"consentpixel bench, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC\n"
            f"machine: {cpu}, {os.cpu_count()} cores, {memory} GB, {platform.system()} "
            f"{platform.release()}; Python {platform.python_version()}, uvicorn "
            f"{uvicorn.__version__}; client: {load.client_name()}; load average before: "
            f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
