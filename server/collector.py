"""The collector's state: what one process holds, how a request finds it, the admin
secret it checks (resolved by secret.py, the environment's first), and the config a
worker process reads from its environment.

Everything that answers requests (app.py, the API, the dashboard, /metrics) imports
this module; it imports none of them.
"""

from __future__ import annotations

import os
import time
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import HTTPConnection

from . import auth, demo, tag
from .buffer import Buffer
from .config import Config
from .flusher import Flusher
from .ingest import Ingest
from .secret import AdminSecret
from .sessions import Sessions
from .store import Store

# How `serve --workers N` hands its settings to the worker processes uvicorn starts.
CONFIG_VARIABLE = "CONSENTPIXEL_CONFIG"
DB_VARIABLE = "CONSENTPIXEL_DB"
DEMO_URL_VARIABLE = "CONSENTPIXEL_DEMO_URL"


class Collector:
    """Everything one collector process holds: settings, store, buffer and counters."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store
        self.buffer = Buffer(config.max_cells_per_hour, config.max_buffer_cells,
                             config.max_orders_per_hour)
        self.ingest = Ingest(config, self.buffer, store.salt())
        self.ingest.crowd.learn_costs(store)  # recorded spend names known campaigns
        self.flusher = Flusher(config, store, self.buffer, self.ingest)
        self.tag = tag.TagFiles(config.sites)
        self.started = time.time()
        self.secret = AdminSecret(config)
        self.sessions = Sessions(store, self.secret.current, config.session_hours * 3600)
        self.failures = auth.Failures(config.admin_max_failures)

    @property
    def admin_secret(self) -> str:
        return self.secret.current()

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self.flusher.start()
        try:
            yield
        finally:
            await self.flusher.stop()
            self.store.close()


def collector_of(conn: HTTPConnection) -> Collector:
    """The one way a request reaches the collector's state."""
    return conn.app.state.collector  # type: ignore[no-any-return]


def config_from_environment() -> Config:
    """A worker process's config: what `serve` put into the environment before it."""
    return demo.config_or_demo(os.environ.get(CONFIG_VARIABLE), os.environ.get(DB_VARIABLE),
                               os.environ.get(DEMO_URL_VARIABLE, demo.BASE_URL))


def worker_environment(config: Config, demo_url: str) -> dict[str, str]:
    """The variables config_from_environment reads back in each worker. The admin secret
    is not among them: each worker resolves it as `serve` did (secret.py), from the
    environment it inherits, the same config, and the same kept file, and so re-reads
    that file after a rotation as a single process does."""
    variables = {DB_VARIABLE: config.db, DEMO_URL_VARIABLE: demo_url}
    if config.path:
        variables[CONFIG_VARIABLE] = str(Path(config.path).resolve())
    return variables
