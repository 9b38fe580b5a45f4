"""`consentpixel serve`: the collector under uvicorn, in one process or several.

One process serves on a socket bound here, so a busy port is a one-line error and port 0
picks a free one. With `--workers N`, uvicorn's supervisor binds the port and starts N
processes; each builds its app with app_from_environment() from what serve put into
the environment (collector.worker_environment) and resolves the admin secret as serve
did (secret.py).
"""

from __future__ import annotations

import os
import socket
from typing import Any

import uvicorn

from . import __version__
from .app import create_app
from .collector import config_from_environment, worker_environment
from .config import Config
from .demo import config_or_demo
from .pixel import Pixels
from .secret import AdminSecret
from .store import open_store

OPTIONS: dict[str, Any] = dict(log_level="warning", access_log=False, server_header=False,
                               timeout_graceful_shutdown=10, lifespan="on")
FACTORY = "consentpixel.serving:app_from_environment"  # what each worker runs


class ServeError(Exception):
    """The collector cannot start, worded for the person who started it."""


def serve(config_path: str | None, db: str | None, host: str, port: int,
          workers: int = 1) -> None:
    sock = listen(host, port)
    port = sock.getsockname()[1]
    demo_url = f"http://127.0.0.1:{port}"
    config = config_or_demo(config_path, db, demo_url)
    open_store(config.db).close()  # create or migrate the schema once, before the workers
    # Checked, or generated and kept, once before the workers, which read the same.
    announce(config, public_url(host, port), AdminSecret(config))
    if workers == 1:
        server = uvicorn.Server(uvicorn.Config(create_app(config), **OPTIONS))
        server.run(sockets=[sock])
        return
    sock.close()  # uvicorn's supervisor binds again and shares the socket with the workers
    os.environ.update(worker_environment(config, demo_url))
    uvicorn.run(FACTORY, factory=True, host=host, port=port, workers=workers, **OPTIONS)


def app_from_environment() -> Pixels:
    """The factory `serve --workers N` gives uvicorn: settings come from the environment."""
    return create_app(config_from_environment())


def listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def public_url(host: str, port: int) -> str:
    """The URL to print: a wildcard address is reached on the loopback one."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else shown}:{port}"


def announce(config: Config, url: str, secret: AdminSecret) -> None:
    """What serve prints first: where it collects, the tag, and where the dashboard's
    secret is. The secret itself is never printed: a generated one is in a file only its
    owner reads, which a log or a terminal shared on screen is not."""
    lines = [f"consentpixel {__version__} collecting on {url}",
             f"  store      {config.db}",
             f"  config     {config.path or 'none: the demo site'}",
             f"  sites      {', '.join(sorted(config.sites))}"]
    if config.demo:
        lines.append(f"  demo shop  {url}/demo/")
    site = next(iter(config.sites))
    lines.append(f'  the tag    <script async src="{url}/t.js" data-site="{site}"></script>')
    lines.append(f"  dashboard  {url}/dashboard  (admin secret: {secret.described})")
    lines.append("Ctrl-C stops it; counts still in memory are written first.")
    print("\n".join(lines), flush=True)
