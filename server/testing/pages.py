"""Pages for tests, served on http://localhost:PORT with the collector's URL filled in."""

from __future__ import annotations

import http.server
import mimetypes
import re
import threading
from pathlib import Path
from typing import Any

TEXT_TYPES = ("text/", "application/javascript", "application/json")


class PageServer:
    """Serves pages on http://localhost:PORT: files under root, and pages added with
    add(). "{{collector}}" in them becomes the collector's URL. The collector answers
    on 127.0.0.1, so every hit crosses origins as it does on a real site."""

    def __init__(self, root: Path | None = None, collector: str = "") -> None:
        self.root = root.resolve() if root else None
        self.collector = collector
        self.headers: dict[str, dict[str, str]] = {}  # page name → extra response headers
        self.added: dict[str, str] = {}
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.url = f"http://localhost:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def add(self, name: str, html: str) -> str:
        """Serve html as /name; returns its URL."""
        self.added[name.lstrip("/")] = html
        return self.page(name)

    def page(self, name: str) -> str:
        return f"{self.url}/{name.lstrip('/')}"

    def body(self, name: str) -> tuple[bytes, str] | None:
        if name in self.added:
            return self.fill(self.added[name]).encode(), "text/html; charset=utf-8"
        if self.root is None:
            return None
        file = (self.root / name).resolve()
        if self.root not in file.parents or not file.is_file():
            return None
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        if kind.startswith(TEXT_TYPES):
            return self.fill(file.read_text()).encode(), f"{kind}; charset=utf-8"
        return file.read_bytes(), kind

    def fill(self, text: str) -> str:
        return text.replace("{{collector}}", self.collector)

    def handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                name = self.path.split("?", 1)[0].split("#", 1)[0].lstrip("/") or "index.html"
                if name == "favicon.ico":
                    return self.empty(204)
                found = server.body(name)
                if found is None:
                    return self.send_error(404)
                body, kind = found
                nonce = re.search(rb'nonce="([^"]+)"', body)
                self.send_response(200)
                self.send_header("Content-Type", kind)
                for key, value in server.headers.get(name, {}).items():
                    self.send_header(key, server.fill(value).replace(
                        "{{nonce}}", nonce.group(1).decode() if nonce else ""))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802
                # Beacons and forms: read and forget; the browser's side is what counts.
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.empty(204)

            def empty(self, status: int) -> None:
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)
