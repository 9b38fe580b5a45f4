"""/metrics: the collector's counters in Prometheus' text format, behind the admin secret.

The numbers are this process's: with `serve --workers N` each worker counts its own
hits, and a scrape reads whichever worker answers (the `pid` label tells them apart).
Run one process per port and scrape each when exact per-process series matter.
"""

from __future__ import annotations

import os
from typing import Iterable

from starlette.authentication import requires
from starlette.requests import Request
from starlette.responses import Response

from . import auth
from .buffer import Buffer
from .collector import collector_of
from .flusher import Flusher
from .ingest import Ingest

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
STATES = ("ok", "unreachable", "stalled")


@requires(auth.ADMIN, status_code=401)  # answered by auth.unauthorized
async def endpoint(request: Request) -> Response:
    collector = collector_of(request)
    text = render(collector.ingest, collector.buffer, collector.flusher)
    return Response(text, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})


def render(ingest: Ingest, buffer: Buffer, flusher: Flusher) -> str:
    pid = f'pid="{os.getpid()}"'
    state = flusher.state()
    lines = [
        *metric("hits_accepted_total", "counter",
                "Hits accepted; those a repeated order then kept out of the store are "
                "counted in order_repeats_total too.", [(pid, ingest.accepted)]),
        *metric("hits_dropped_total", "counter",
                "Hits answered but not counted, by reason.",
                [(f'{pid},reason="{reason}"', count)
                 for reason, count in sorted(ingest.dropped.items())]),
        *metric("consent_decisions_total", "counter", "Consent decisions counted.",
                [(pid, ingest.decisions)]),
        *metric("order_repeats_total", "counter",
                "Accepted conversions not counted again: the same order, event, value and "
                "labels were already waiting or stored.",
                [(pid, buffer.repeats + flusher.repeats)]),
        *metric("buffer_cells", "gauge",
                "Entries held in memory, waiting for the store (a batch being written "
                "included).", [(pid, len(buffer))]),
        *metric("buffer_max_cells", "gauge", "The bound on buffer_cells (max_buffer_cells).",
                [(pid, buffer.max_cells)]),
        *metric("flushes_total", "counter", "Batches written to the store.",
                [(pid, flusher.flushes)]),
        *metric("flush_failures_total", "counter",
                "Writes that failed and will be retried.", [(pid, flusher.failures_total)]),
        *metric("flush_duration_seconds", "summary", "Time of successful writes.",
                [(pid, flusher.flush_seconds)], suffix="_sum"),
        *metric("flush_duration_seconds", "", "", [(pid, flusher.flushes)], suffix="_count"),
        *metric("flush_last_duration_seconds", "gauge", "Time of the last successful write.",
                [(pid, flusher.last_duration)]),
        *metric("flush_last_success_timestamp_seconds", "gauge",
                "When the last write succeeded (0: none yet).", [(pid, flusher.last_flush)]),
        *metric("store_up", "gauge", "1 while the store takes writes, else 0.",
                [(pid, int(state == "ok"))]),
        *metric("store_state", "gauge", "The store's state: ok, unreachable or stalled.",
                [(f'{pid},state="{name}"', int(state == name)) for name in STATES]),
    ]
    return "\n".join(lines) + "\n"


def metric(name: str, kind: str, help: str, samples: Iterable[tuple[str, float]],
           suffix: str = "") -> list[str]:
    full = "consentpixel_" + name
    head = [f"# HELP {full} {help}", f"# TYPE {full} {kind}"] if kind else []
    return head + [f"{full}{suffix}{{{labels}}} {number(value)}" for labels, value in samples]


def number(value: float) -> str:
    return str(value) if isinstance(value, int) else repr(float(value))
