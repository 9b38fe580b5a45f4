"""`consentpixel serve`: the collector under uvicorn, in one process or several.

One process serves on a socket bound here, so a busy port is a one-line error and port 0
picks a free one. With `--workers N`, uvicorn's supervisor binds the port and starts N
processes; each builds its app with app_from_environment() from what serve put into
the environment (collector.worker_environment) and resolves the admin secret as serve
did (secret.py).

Each connection is served by connections.HttpToolsConnection, which bounds request
heads and their time; uvicorn's own proxy handling is off (proxies.Proxies decides who
the client is, trusting no proxy unless told), and so are WebSockets, which nothing uses.
"""

from __future__ import annotations

import os
import resource
import socket
from typing import Any

import uvicorn

from . import __version__, connections
from .app import create_app
from .collector import config_from_environment, worker_environment
from .config import Config
from .demo import config_or_demo
from .pixel import Pixels
from .secret import AdminSecret
from .store import open_store, redacted

KEEP_ALIVE = 5  # seconds an idle keep-alive connection stays open
OPTIONS: dict[str, Any] = dict(log_level="warning", access_log=False, server_header=False,
                               timeout_graceful_shutdown=10, lifespan="on",
                               http=connections.PROTOCOL, ws="none", proxy_headers=False,
                               timeout_keep_alive=KEEP_ALIVE,
                               h11_max_incomplete_event_size=4 * connections.LIMITS.max_head)
FACTORY = "consentpixel.serving:app_from_environment"  # what each worker runs
# Descriptors a process needs besides its connections: the listening socket, the store,
# log files, the tag's resources.
SPARE_FILES = 64


class ServeError(Exception):
    """The collector cannot start, worded for the person who started it."""


def serve(config_path: str | None, db: str | None, host: str, port: int,
          workers: int = 1) -> None:
    sock = listen(host, port)
    port = sock.getsockname()[1]
    demo_url = f"http://127.0.0.1:{port}"
    config = config_or_demo(config_path, db, demo_url)
    open_store(config.db).close()  # create or migrate the schema once, before the workers
    connections_cap = fit_file_limit(config.max_connections)
    # Checked, or generated and kept, once before the workers, which read the same.
    announce(config, public_url(host, port), AdminSecret(config), connections_cap)
    # uvicorn refuses when connections reach its limit, the new one included: one more.
    options = dict(OPTIONS, limit_concurrency=connections_cap + 1)
    if workers == 1:
        server = uvicorn.Server(uvicorn.Config(create_app(config), **options))
        server.run(sockets=[sock])
        return
    sock.close()  # uvicorn's supervisor binds again and shares the socket with the workers
    os.environ.update(worker_environment(config, demo_url))
    uvicorn.run(FACTORY, factory=True, host=host, port=port, workers=workers, **options)


def fit_file_limit(max_connections: int) -> int:
    """Raise the soft file-descriptor limit as far as the connections need (the hard
    limit at most); the connections that fit, which serve announces when fewer."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max_connections + SPARE_FILES
    if soft != resource.RLIM_INFINITY and soft < wanted:
        raised = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        if raised > soft:
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, hard))
            soft = raised
    if soft == resource.RLIM_INFINITY:
        return max_connections
    return max(1, min(max_connections, soft - SPARE_FILES))


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


def announce(config: Config, url: str, secret: AdminSecret,
             connections_cap: int | None = None) -> None:
    """What serve prints first: where it collects, the tag, and where the dashboard's
    secret is. The secret itself is never printed: a generated one is in a file only its
    owner reads, which a log or a terminal shared on screen is not. And, when the
    file-descriptor limit leaves room for fewer connections than configured, that."""
    lines = [f"consentpixel {__version__} collecting on {url}",
             f"  store      {redacted(config.db)}",
             f"  config     {config.path or 'none: the demo site'}",
             f"  sites      {', '.join(sorted(config.sites))}"]
    if config.demo:
        lines.append(f"  demo shop  {url}/demo/")
    site = next(iter(config.sites))
    public = config.public_url or url
    lines.append(f'  the tag    <script async src="{public}/t.js?site={site}" '
                 f'referrerpolicy="origin"></script>')
    lines.append(f"  dashboard  {public}/dashboard  (admin secret: {secret.described})")
    if connections_cap is not None and connections_cap < config.max_connections:
        lines.append(f"  warning    the file-descriptor limit leaves room for "
                     f"{connections_cap} connections, not max_connections = "
                     f"{config.max_connections}: raise the hard limit (LimitNOFILE, "
                     "docs/deploy.md)")
    lines.append("Ctrl-C stops it; counts still in memory are written first.")
    print("\n".join(lines), flush=True)
