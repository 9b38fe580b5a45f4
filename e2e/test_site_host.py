"""The collector on the site's own host, as docs/deploy.md sets it up, run: the site's nginx
passes /cpx/ to a real collector with the documentation's own configuration block, and
real Chromium opens the site's pages through it.

A first visit then gets the banner with the tag, after one request, carrying the page's
origin alone as Referer; a returning visitor's tag comes without the banner, and both
page views are counted.
"""

from __future__ import annotations

import os
import pwd
import re
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from playwright.sync_api import Browser, expect

from consentpixel.testing.chains import chain_depth

from .conftest import CollectorProcess, start_collector
from .test_deploy import free_port, nginx_binary

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
        self.directory = directory
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        (directory / "site").mkdir()
        (directory / "site" / "shop.html").write_text(PAGE)
        http_level, location = documented_proxy()
        location = location.replace("https://collect.example/", collector.rstrip("/") + "/")
        user = f"user {pwd.getpwuid(os.geteuid()).pw_name};" if os.geteuid() == 0 else ""
        temp = "\n".join(f"    {kind}_temp_path {directory / kind};"
                         for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
        (directory / "nginx.conf").write_text(
            f"{user}\nworker_processes 1;\npid {directory / 'nginx.pid'};\n"
            f"events {{ worker_connections 64; }}\nhttp {{\n{temp}\n{http_level}\n"
            f"server {{\n    listen 127.0.0.1:{self.port};\n    root {directory / 'site'};\n"
            f"{location}\n}}\n}}\n")
        command = [nginx_binary(), "-p", str(directory), "-c", str(directory / "nginx.conf"),
                   "-e", str(directory / "error.log")]
        checked = subprocess.run([*command, "-t"], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stderr
        self.process = subprocess.Popen([*command, "-g", "daemon off;"],
                                        stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 10
        while not self.answers():
            assert self.process.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)

    def answers(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        if self.process.stderr:
            self.process.stderr.close()


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
        browser: Browser, site: tuple[CollectorProcess, SiteNginx]) -> None:
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
    finally:
        context.close()
