"""The collector as an ASGI app, built by a factory so tests can give it a temporary store.

    app = create_app(config)            # the store comes from config.db
    uvicorn.run(app)                    # serving.py does this for `consentpixel serve`

The pixel endpoints are answered by pixel.Pixels before any routing; everything else
is a Starlette route.
"""

from __future__ import annotations

import os
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from . import __version__, api, auth, dashboard, demo, metrics, tag
from .collector import Collector, collector_of
from .config import Config, Link
from .pixel import Pixels
from .proxies import Proxies
from .public_url import PublicURL
from .store import Store, open_store
from .templating import templates

HERE = os.path.dirname(__file__)


def create_app(config: Config, store: Store | None = None) -> Pixels:
    collector = Collector(config, store or open_store(config.db))
    routes: list[BaseRoute] = [
        Route("/", index),
        Route("/t.js", tag_file),
        Route("/h.js", tag_file),
        Route("/w.js", tag_file),
        Route("/p/{site}.js", site_parts),
        Route("/s/{site}.js", site_script),
        Route("/s/{site}.css", site_stylesheet),
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
    app = Starlette(routes=routes, lifespan=collector.lifespan,
                    middleware=[Middleware(PublicURL, url=config.public_url),
                                auth.middleware(collector.secret.current, collector.sessions,
                                                collector.failures)],
                    exception_handlers={401: auth.unauthorized})
    app.state.collector = collector
    return Pixels(app, collector.ingest,
                  Proxies(config.forwarded_allow_ips, config.forwarded_header))


async def index(request: Request) -> Response:
    collector = collector_of(request)
    return templates.TemplateResponse(request, "index.html", {
        "version": __version__, "sites": sorted(collector.config.sites),
        "demo": collector.config.demo})


async def tag_file(request: Request) -> Response:
    return collector_of(request).tag.response(request)


async def site_parts(request: Request) -> Response:
    files = collector_of(request).tag.sites.get(request.path_params["site"])
    if files is None:  # the tag told the site owner already, in the console
        return Response("/* consentpixel: no such site */", 404, media_type=tag.JS)
    return files.parts(request)


async def site_script(request: Request) -> Response:
    files = collector_of(request).tag.sites.get(request.path_params["site"])
    if files is None:
        return Response("/* consentpixel: no such site */", 404, media_type=tag.JS)
    return files.settings_script(request)


async def site_stylesheet(request: Request) -> Response:
    files = collector_of(request).tag.sites.get(request.path_params["site"])
    if files is None:
        return Response("/* consentpixel: no such site */", 404, media_type=tag.CSS)
    return files.stylesheet.response(request)


async def consent_mode_script(request: Request) -> Response:
    files = collector_of(request).tag.sites.get(request.path_params["site"])
    if files is None:
        return Response("/* consentpixel: no such site */", 404, media_type=tag.JS)
    return files.consent_mode.response(request)


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
    """ok, degraded or down for anyone (a load balancer); the store's state and its last
    error (a path, a database user and host) only with the admin secret, and in the log."""
    health = collector_of(request).flusher.health()
    shown = health if auth.signed_in(request) else {"status": health["status"]}
    return JSONResponse(shown, 503 if health["status"] == "down" else 200,
                        headers={"Cache-Control": "no-store"})
