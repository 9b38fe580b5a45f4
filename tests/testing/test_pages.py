"""The page server: pages and files with the collector's URL filled in, nothing outside
its folder, and the response headers a test asks for."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest

from consentpixel.testing import PageServer

COLLECTOR = "http://127.0.0.1:8000"


@pytest.fixture
def pages(tmp_path: Path) -> Iterator[PageServer]:
    root = tmp_path / "site"
    (root / "js").mkdir(parents=True)
    (root / "index.html").write_text('<script src="{{collector}}/t.js?site=demo">'
                                     '</script><script nonce="n0nce">x()</script>')
    (root / "js" / "app.js").write_text("load('{{collector}}/s/demo.js');")
    (root / "logo.png").write_bytes(b"\x89PNG{{collector}}")
    (tmp_path / "secret.txt").write_text("not served")
    server = PageServer(root, COLLECTOR)
    yield server
    server.close()


def get(url: str, data: bytes | None = None) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=10) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_files_and_added_pages_point_at_the_collector(pages: PageServer) -> None:
    assert pages.url.startswith("http://localhost:")  # another origin than 127.0.0.1
    status, headers, body = get(pages.url + "/")
    assert (status, headers["Content-Type"]) == (200, "text/html; charset=utf-8")
    assert body.startswith(b'<script src="http://127.0.0.1:8000/t.js?site=demo"')
    assert get(pages.page("js/app.js?v=1"))[2] == b"load('http://127.0.0.1:8000/s/demo.js');"
    assert get(pages.page("logo.png"))[2] == b"\x89PNG{{collector}}"  # bytes stay bytes
    added = pages.add("/thanks.html", "<h1>{{collector}}</h1>")
    assert added == pages.url + "/thanks.html"
    assert get(added)[2] == b"<h1>http://127.0.0.1:8000</h1>"


@pytest.mark.parametrize("path, status", [("/../secret.txt", 404), ("/%2e%2e/secret.txt", 404),
                                          ("/missing.html", 404), ("/favicon.ico", 204)])
def test_nothing_outside_the_folder(pages: PageServer, path: str, status: int) -> None:
    assert get(pages.url + path)[0] == status


def test_headers_a_test_asks_for(pages: PageServer) -> None:
    pages.headers["index.html"] = {
        "Content-Security-Policy": "script-src {{collector}} 'nonce-{{nonce}}'"}
    headers = get(pages.page("index.html"))[1]
    assert headers["Content-Security-Policy"] == "script-src http://127.0.0.1:8000 'nonce-n0nce'"


def test_beacons_are_read_and_forgotten(pages: PageServer) -> None:
    assert get(pages.page("collect"), data=b'{"email": "a@b.example"}')[0] == 204
