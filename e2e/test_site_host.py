"""The collector on the site's own host, as docs/deploy.md sets it up, run: the site's nginx
passes /cpx/ to a real collector with the documentation's own configuration block, and
real Chromium opens the site's pages through it.

A first visit then gets the banner with the tag, after one request, carrying the page's
origin alone as Referer; a returning visitor's tag comes without the banner, and both
page views are counted; neither the visitor's other cookies nor the decision cookie's
value reach the store.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Iterator

import pytest
from playwright.sync_api import Browser, expect

from consentpixel.testing.chains import chain_depth

from .conftest import CollectorProcess, start_collector
from .test_deploy import free_port, start_nginx, stop_nginx

DOCS = Path(__file__).parents[1] / "docs" / "deploy.md"
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Shop</title>
<script async src="/cpx/t.js?site=demo" referrerpolicy="origin"></script>
</head><body><h1>A shop on its own host</h1></body></html>"""


def documented_proxy() -> tuple[str, str]:
    """The nginx block of "On the site's own host": what goes at the http level (the
    map), and the location."""
    section = DOCS.read_text().split("## On the site's own host", 1)[1]
    block = re.search(r"```nginx\n(.*?)```", section, re.S)
    assert block, "docs/deploy.md has no nginx block under On the site's own host"
    text = block.group(1)
    http_level, location = text.split("# In the site's server block", 1)
    return http_level, "# " + location


class SiteNginx:
    """nginx serving a site's pages on 127.0.0.1:PORT, passing /cpx/ to the collector."""

    def __init__(self, directory: Path, collector: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        (directory / "site").mkdir()
        (directory / "site" / "shop.html").write_text(PAGE)
        http_level, location = documented_proxy()
        location = location.replace("https://collect.example/", collector.rstrip("/") + "/")
        server = (f"server {{\n    listen 127.0.0.1:{self.port};\n"
                  f"    root {directory / 'site'};\n{location}\n}}")
        self.process = start_nginx(directory, f"{http_level}\n{server}", self.port)

    def stop(self) -> None:
        stop_nginx(self.process)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[CollectorProcess, SiteNginx]]:
    collector = start_collector(tmp_path, f"""
[collector]
forwarded_allow_ips = ["127.0.0.1"]

[sites.demo]
origins = ["http://127.0.0.1:*"]
count_automation = true
crowd_clients = 1
""")
    nginx = SiteNginx(tmp_path, collector.url)
    yield collector, nginx
    nginx.stop()
    collector.stop()


def test_the_collector_on_the_sites_host_brings_the_banner_with_the_tag(
        browser: Browser, site: tuple[CollectorProcess, SiteNginx], tmp_path: Path) -> None:
    collector, nginx = site
    context = browser.new_context()
    try:
        page = context.new_page()
        seen: list[dict[str, Any]] = []
        depths: dict[str, int] = {}
        cdp = context.new_cdp_session(page)

        def on_request(event: dict[str, Any]) -> None:
            depth = chain_depth(event, depths)
            if "/cpx/" in event["request"]["url"]:
                seen.append({"url": event["request"]["url"], "depth": depth,
                             "referer": event["request"]["headers"].get("Referer", "")})

        cdp.on("Network.requestWillBeSent", on_request)
        cdp.send("Network.enable")
        context.add_cookies([{"name": "session", "value": "s3cr3t-session-id",
                              "url": nginx.url}])
        with page.expect_response(lambda r: "/cpx/t.js" in r.url) as first:
            page.goto(nginx.url + "/shop.html")
        expect(page.get_by_role("button", name="Reject all")).to_be_visible()
        tag = first.value
        assert tag.headers["cache-control"] == "private, max-age=300"
        assert "cpx('_module'" in tag.text()
        assert [(r["url"].split("/cpx/")[1], r["depth"]) for r in seen] == [("t.js?site=demo", 1)]
        assert {r["referer"] for r in seen} == {nginx.url + "/"}  # the origin, not the URL

        page.get_by_role("button", name="Accept all").click()
        page.wait_for_function("document.cookie.includes('cpx=')")
        # The same visitor later, with an empty cache: the decision cookie comes along.
        later = browser.new_context(storage_state=context.storage_state())
        try:
            page = later.new_page()
            with page.expect_response(lambda r: "/cpx/t.js" in r.url) as again:
                page.goto(nginx.url + "/shop.html")
            page.wait_for_function("window.cpx && cpx('consent').decided")
            assert "cpx('_module'" not in again.value.text()
            expect(page.get_by_role("button", name="Reject all")).to_have_count(0)
        finally:
            later.close()
        collector.wait_for(lambda: collector.counts().get("pageview") == 2)
        decision = next(c["value"] for c in context.cookies() if c["name"] == "cpx")
        stored = b"".join(path.read_bytes() for path in collector_files(tmp_path))
        assert b"s3cr3t-session-id" not in stored and decision.encode() not in stored
        assert b"shop.html" in stored  # the page, counted, so the store was read
    finally:
        context.close()


def collector_files(directory: Path) -> list[Path]:
    """The store's files: the database and its write-ahead log."""
    return [path for path in directory.glob("store.db*") if path.is_file()]
