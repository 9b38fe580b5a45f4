"""The collector as an ASGI app, built by a factory so tests can give it a temporary store.

    app = create_app(config)            # the store comes from config.db
    uvicorn.run(app)

The pixel endpoints are answered by pixel.Pixels before any routing; everything else
is a Starlette route.
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import replace
from contextlib import asynccontextmanager
from typing import AsyncIterator
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from . import __version__, api, config as config_module, dashboard, demo, metrics, tag
from .buffer import Buffer
from .config import Config, Link
from .flusher import Flusher
from .ingest import Ingest
from .pixel import Pixels
from .store import Store, open_store

HERE = os.path.dirname(__file__)
templates = Jinja2Templates(directory=os.path.join(HERE, "templates"))


class Collector:
    """Everything one collector process holds: settings, store, buffer and counters."""

    def __init__(self, config: Config, store: Store) -> None:
        self.config = config
        self.store = store
        self.buffer = Buffer(config.max_cells_per_hour, config.max_buffer_cells)
        self.ingest = Ingest(config, self.buffer, store.salt())
        self.flusher = Flusher(config, store, self.buffer, self.ingest)
        self.tag = tag.Tag()
        self.site_scripts = {name: tag.site_script(site) for name, site in config.sites.items()}
        self.consent_mode = {name: tag.consent_mode_script(site)
                             for name, site in config.sites.items()}
        self.started = time.time()
        self.admin_secret = (config.admin_secret or os.environ.get("CONSENTPIXEL_ADMIN_SECRET")
                             or secrets.token_urlsafe(18))

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        self.flusher.start()
        try:
            yield
        finally:
            await self.flusher.stop()
            self.store.close()


def create_app(config: Config, store: Store | None = None) -> Pixels:
    collector = Collector(config, store or open_store(config.db))
    routes: list[BaseRoute] = [
        Route("/", index),
        Route("/t.js", tag_file),
        Route("/b.js", tag_file),
        Route("/b.css", tag_file),
        Route("/s/{site}.js", site_script),
        Route("/gcm/{site}.js", consent_mode_script),
        Route("/go/{site}/{link}", click),
        Route("/healthz", healthz),
        Route("/favicon.ico", favicon),
        *api.routes(),
        *dashboard.routes(),
        Route("/metrics", metrics.endpoint),
    ]
    if config.demo:
        routes += demo.routes()
    routes.append(Mount("/static", StaticFiles(directory=os.path.join(HERE, "assets")),
                        name="static"))
    app = Starlette(routes=routes, lifespan=collector.lifespan)
    app.state.collector = collector
    app.state.templates = templates
    return Pixels(app, collector.ingest)


def collector_of(request: Request) -> Collector:
    return request.app.state.collector  # type: ignore[no-any-return]


async def index(request: Request) -> Response:
    collector = collector_of(request)
    return templates.TemplateResponse(request, "index.html", {
        "version": __version__, "sites": sorted(collector.config.sites),
        "demo": collector.config.demo})


async def tag_file(request: Request) -> Response:
    return collector_of(request).tag.response(request)


async def site_script(request: Request) -> Response:
    script = collector_of(request).site_scripts.get(request.path_params["site"])
    if script is None:
        return Response("/* consentpixel: no such site */", 404, media_type=tag.JS)
    return script.response(request)


async def consent_mode_script(request: Request) -> Response:
    script = collector_of(request).consent_mode.get(request.path_params["site"])
    if script is None:
        return Response("/* consentpixel: no such site */", 404, media_type=tag.JS)
    return script.response(request)


async def click(request: Request) -> Response:
    """A campaign's click link: count the click, send the visitor on with UTM labels."""
    collector = collector_of(request)
    site = collector.config.sites.get(request.path_params["site"])
    link = site.links.get(request.path_params["link"]) if site else None
    if site is None or link is None:
        return templates.TemplateResponse(request, "not_found.html", {}, status_code=404)
    collector.ingest.click(site, link, request.scope["headers"],
                           request.client.host if request.client else "")
    return RedirectResponse(destination(link), status_code=302,
                            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


def destination(link: Link) -> str:
    """The link's configured URL with its campaign labels; nothing comes from the request."""
    parts = urlsplit(link.url)
    labels = {"utm_source": link.source, "utm_medium": link.medium,
              "utm_campaign": link.campaign, "utm_content": link.content}
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
             if k not in labels]
    query += [(k, v) for k, v in labels.items() if v]
    return urlunsplit(parts._replace(query=urlencode(query)))


async def favicon(request: Request) -> Response:
    # Browsers ask every page's origin for one; the demo shop and the dashboard share it.
    return FileResponse(os.path.join(HERE, "assets", "favicon.svg"),
                        media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})


async def healthz(request: Request) -> Response:
    health = collector_of(request).flusher.health()
    return JSONResponse(health, headers={"Cache-Control": "no-store"})


def app_from_environment() -> Pixels:
    """The factory `serve --workers N` gives uvicorn: settings come from the environment."""
    path = os.environ.get("CONSENTPIXEL_CONFIG")
    db = os.environ.get("CONSENTPIXEL_DB")
    if path:
        config = config_module.load(path)
        if db:
            config = replace(config, db=db)
    else:
        config = config_module.demo(db or "sqlite:///consentpixel.db",
                                    os.environ.get("CONSENTPIXEL_DEMO_URL",
                                                   "http://127.0.0.1:8000"))
    return create_app(config)
