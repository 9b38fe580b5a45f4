"""The hot path: pixel requests are answered here, in front of any routing.

Every request for a pixel gets the same 43-byte GIF, whatever it carries; what it
carries is only counted, or counted as dropped with a reason. Before anything else,
the client address of every request is settled here (proxies.Proxies), once.
"""

from __future__ import annotations

import base64
import logging
from typing import Callable, Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from .ingest import Drop, Ingest
from .proxies import Proxies

log = logging.getLogger("consentpixel")

GIF = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
HEADERS = [
    (b"content-type", b"image/gif"),
    (b"content-length", str(len(GIF)).encode()),
    (b"cache-control", b"no-store"),
    (b"cross-origin-resource-policy", b"cross-origin"),
    (b"x-content-type-options", b"nosniff"),
]
START = {"type": "http.response.start", "status": 200, "headers": HEADERS}
BODY = {"type": "http.response.body", "body": GIF}
NO_BODY = {"type": "http.response.body", "body": b""}

# A pixel's handler takes the raw query string, the headers and the client's address.
Handler = Callable[[bytes, Iterable[tuple[bytes, bytes]], str], None]


class Pixels:
    def __init__(self, app: ASGIApp, ingest: Ingest, proxies: Proxies | None = None) -> None:
        self.app = app
        self.ingest = ingest
        self.proxies = proxies or None  # None when no proxy is trusted: nothing to do
        self.handlers: dict[str, Handler] = {
            "/p.gif": ingest.pixel,
            "/i.gif": ingest.impression,
            "/c.gif": ingest.consent,
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if self.proxies is not None:
                self.proxies.resolve(scope)
            handler = self.handlers.get(scope["path"])
            if handler is not None:
                self.count(handler, scope)
                await send(START)
                await send(NO_BODY if scope["method"] == "HEAD" else BODY)
                return
        await self.app(scope, receive, send)

    def count(self, handler: Handler, scope: Scope) -> None:
        if scope["method"] != "GET":
            self.ingest.drop("method")
            return
        try:
            client = scope.get("client")
            handler(scope["query_string"], scope["headers"], client[0] if client else "")
        except Drop as drop:
            self.ingest.drop(drop.reason, drop.site, drop.detail)
        except Exception:  # the pixel must answer whatever happens
            log.exception("pixel request failed")
            self.ingest.drop("error")
