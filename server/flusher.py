"""Write the buffer's deltas to the store every interval, retrying through outages.

Each write is one transaction carrying a batch ID. When the store is unreachable the
batch is kept and retried, under the same ID, with growing pauses, while new hits keep
aggregating in the buffer (which stays bounded); when the store returns the counts are
exact, even if a commit went through whose acknowledgement was lost. On shutdown the
last deltas are written before the process exits; a crash (kill -9) loses what arrived
since the last write, at most one flush interval.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
import time

from .buffer import Batch, Buffer
from .config import Config
from .ingest import Ingest
from .store import Store

log = logging.getLogger("consentpixel")

MAX_BACKOFF = 10.0  # a returning store is noticed within seconds; one attempt costs little
HOUSEKEEPING = 600.0  # seconds between order purges and roll-ups
SHUTDOWN_PATIENCE = 30.0  # seconds a stopping collector keeps trying an unreachable store
STALLED = 5.0  # a write taking longer than this (or three intervals) makes /healthz degraded


class Flusher:
    def __init__(self, config: Config, store: Store, buffer: Buffer, ingest: Ingest) -> None:
        self.config = config
        self.store = store
        self.buffer = buffer
        self.ingest = ingest
        self.interval = config.flush_interval
        self.healthy = True
        self.failures = 0  # in a row
        self.failures_total = 0
        self.flushes = 0
        self.flush_seconds = 0.0  # summed over successful writes, for /metrics
        self.repeats = 0  # conversions whose order ID the store had already seen
        self.last_error = ""
        self.last_flush = 0.0
        self.last_duration = 0.0
        self.last_housekeeping = 0.0
        # A batch whose write failed is retried as it is, under its ID, never merged into
        # newer hits: if its commit did go through, the store recognises it and skips it.
        self.pending: Batch | None = None
        self.writing_since = 0.0
        self.prefix = secrets.token_hex(8)
        self.sequence = itertools.count(1)
        self.stopping = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        self.stopping.set()
        if self.task:
            await self.task
        deadline = time.monotonic() + SHUTDOWN_PATIENCE
        for attempt in itertools.count():
            if await self.flush():
                return
            left = deadline - time.monotonic()
            if left <= 0:
                break
            await asyncio.sleep(min(0.5 * 2 ** attempt, 5, left))
        lost = self.buffer.batch.hits() + (self.pending.hits() if self.pending else 0)
        log.error("consentpixel: the store is unreachable; %d buffered hits are lost", lost)

    async def run(self) -> None:
        delay = self.interval
        while not self.stopping.is_set():
            try:
                await asyncio.wait_for(self.stopping.wait(), timeout=delay)
            except asyncio.TimeoutError:
                pass
            if self.stopping.is_set():
                return
            flushed = await self.flush()
            delay = self.interval if flushed else min(self.interval * 2 ** self.failures,
                                                      MAX_BACKOFF)
            if flushed and time.time() - self.last_housekeeping > HOUSEKEEPING:
                await self.housekeep()

    async def flush(self) -> bool:
        """Write the batch that failed last time, then what the buffer holds.

        True when the store has everything counted so far.
        """
        if self.pending is not None and not await self.write(self.pending):
            return False
        batch = self.buffer.take()
        if not batch:
            return True
        batch.id = f"{self.prefix}-{next(self.sequence)}"
        self.pending = batch
        return await self.write(batch)

    async def write(self, batch: Batch) -> bool:
        started = time.perf_counter()
        self.writing_since = time.monotonic()
        try:
            self.repeats += await asyncio.to_thread(self.store.write, batch)
        except Exception as exc:  # any driver error: keep the batch, try again later
            self.failed(exc)
            return False
        finally:
            self.writing_since = 0.0
        self.pending = None
        self.buffer.release(batch)
        self.last_duration = time.perf_counter() - started
        self.flush_seconds += self.last_duration
        self.last_flush = time.time()
        self.flushes += 1
        if not self.healthy:
            log.warning("consentpixel: the store is back; buffered counts written")
        self.healthy, self.failures, self.last_error = True, 0, ""
        return True

    def failed(self, exc: Exception) -> None:
        if self.healthy:
            log.warning("consentpixel: cannot write to the store, buffering in memory: %s", exc)
        self.healthy = False
        self.failures += 1
        self.failures_total += 1
        self.last_error = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__

    def stalled(self) -> bool:
        """A write has been waiting on the store (a lock, a lost network) for too long."""
        since = self.writing_since
        return bool(since) and time.monotonic() - since > max(STALLED, 3 * self.interval)

    async def housekeep(self) -> None:
        """Purge order digests past 48 hours and old drop tallies; roll up and expire
        cells per site."""
        self.last_housekeeping = time.time()
        try:
            await asyncio.to_thread(self.housekeep_now, self.last_housekeeping)
            # Spend recorded since, by any process, names campaigns the crowd rule knows.
            crowd = self.ingest.crowd
            recorded = await asyncio.to_thread(crowd.recorded_labels, self.store)
            crowd.learn_recorded(recorded)
        except Exception as exc:
            log.warning("consentpixel: housekeeping failed, will retry: %s", exc)

    def housekeep_now(self, now: float) -> None:
        self.store.forget_orders(now)
        self.store.forget_batches(now)
        self.store.forget_sessions(now)
        self.store.forget_drops(now)
        today = int(now) // 86400 * 86400
        for site in self.config.sites.values():
            self.store.roll_up(site.name, today - site.hourly_days * 86400,
                               today - site.retention_days * 86400)

    def state(self) -> str:
        """ok, unreachable (writes fail) or stalled (a write hangs)."""
        if not self.healthy:
            return "unreachable"
        return "stalled" if self.stalled() else "ok"

    def health(self) -> dict[str, object]:
        """ok; degraded while the store fails or hangs and hits wait in memory; down once
        memory is full and hits are lost (buffer_full)."""
        state = self.state()
        status = "ok" if state == "ok" else "down" if self.buffer.full() else "degraded"
        return {
            "status": status,
            "store": state,
            "error": self.last_error,
            "buffered_cells": len(self.buffer),
            "last_flush": round(self.last_flush, 3),
        }
