"""Write the buffer's deltas to the store every interval, retrying through outages.

When the store is unreachable the deltas go back into the buffer (which stays bounded)
and the next attempts back off; when it returns, the counts are exact. On shutdown the
last deltas are written before the process exits.
"""

from __future__ import annotations

import asyncio
import logging
import time

from .buffer import Buffer
from .config import Config
from .ingest import Ingest
from .store import Store

log = logging.getLogger("consentpixel")

MAX_BACKOFF = 30.0
HOUSEKEEPING = 600.0  # seconds between order purges and roll-ups
SHUTDOWN_RETRIES = 10


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
        self.repeats = 0  # conversions whose order ID the store had already seen
        self.last_error = ""
        self.last_flush = 0.0
        self.last_duration = 0.0
        self.last_housekeeping = 0.0
        self.stopping = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.get_running_loop().create_task(self.run())

    async def stop(self) -> None:
        self.stopping.set()
        if self.task:
            await self.task
        for attempt in range(SHUTDOWN_RETRIES):
            if await self.flush():
                return
            await asyncio.sleep(min(0.5 * 2 ** attempt, 5))
        lost = self.buffer.batch.hits()
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
        """Write what the buffer holds; on failure put it back. True when written."""
        batch = self.buffer.take()
        if not batch and self.healthy:
            return True
        started = time.perf_counter()
        try:
            if batch:
                self.repeats += await asyncio.to_thread(self.store.write, batch)
            else:
                await asyncio.to_thread(self.store.schema_version)  # is it back?
        except Exception as exc:  # any driver error: keep the deltas, try again later
            self.buffer.restore(batch)
            self.failed(exc)
            return False
        self.last_duration = time.perf_counter() - started
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

    async def housekeep(self) -> None:
        """Purge order digests past 48 hours; roll up and expire cells per site."""
        self.last_housekeeping = time.time()
        try:
            await asyncio.to_thread(self.housekeep_now, self.last_housekeeping)
        except Exception as exc:
            log.warning("consentpixel: housekeeping failed, will retry: %s", exc)

    def housekeep_now(self, now: float) -> None:
        self.store.forget_orders(now)
        today = int(now) // 86400 * 86400
        for site in self.config.sites.values():
            self.store.roll_up(site.name, today - site.hourly_days * 86400,
                               today - site.retention_days * 86400)

    def health(self) -> dict[str, object]:
        return {
            "status": "ok" if self.healthy else "degraded",
            "store": "ok" if self.healthy else "unreachable",
            "error": self.last_error,
            "buffered_cells": len(self.buffer),
            "last_flush": round(self.last_flush, 3),
        }
