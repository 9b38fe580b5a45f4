"""Absolute URLs from the configured public URL, never from a client's Host header.

Starlette builds absolute URLs (a trailing-slash redirect, url_for in the pages, the
index page's and the demo's tag snippets) from the request's Host header, which any
client may set. With `public_url` set, every request is seen as addressed to it; and
whatever builds them, pages and redirects are marked `Vary: Host`, so that no cache
serves one client's Host to another.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class PublicURL:
    def __init__(self, app: ASGIApp, url: str = "") -> None:
        self.app = app
        parts = urlsplit(url)
        self.scheme = parts.scheme
        self.host = parts.netloc.encode("latin-1")
        port = parts.port or (443 if parts.scheme == "https" else 80)
        self.server = (parts.hostname or "", port)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.host:
            scope = dict(scope, scheme=self.scheme, server=self.server,
                         headers=[(b"host", self.host)] +
                         [(name, value) for name, value in scope["headers"] if name != b"host"])

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start" and depends_on_host(message):
                MutableHeaders(scope=message).add_vary_header("Host")
            await send(message)

        await self.app(scope, receive, send_marked)


def depends_on_host(start: Message) -> bool:
    """Redirects and HTML pages: what may carry a URL built from the request."""
    for name, value in start.get("headers", ()):
        name = name.lower()
        if name == b"location" or (name == b"content-type" and value.startswith(b"text/html")):
            return True
    return False
