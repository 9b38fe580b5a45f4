"""How the tag loads in real Chromium: which files, how many requests in sequence before
the banner or the first pixel, how many bytes, the Referer they carry, and the one global.

"Requests in sequence" is the depth of Chromium's own initiator chain (DevTools
protocol): the page is 0, t.js 1, what t.js asks for 2, and so on; a request made by
code that a script called counts from the deepest script on the stack. The pages are
served on localhost and the collector on 127.0.0.1, another host, as on most sites; a
page on the collector's host is served on 127.0.0.1 too (another port: a cookie knows
none), where the tag's request carries the visitor's cookies.
"""

from __future__ import annotations

import gzip
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from consentpixel.testing.chains import chain_depth
from tests.test_tag import FIRST_VISIT_BUDGET, RETURNING_BUDGET

from .conftest import CollectorProcess, PageServer, start_collector

CONFIG = """
[sites.demo]
origins = ["http://localhost:*", "http://127.0.0.1:*"]
count_automation = true
[sites.demo.categories.analytics]
[sites.demo.categories.ads]
"""
SECRET_QUERY = "?email=jane.doe%40example.com&reset_token=s3cr3t"
HELD_SCRIPTS_ONLY = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Held scripts</title>
<script async src="{{collector}}/t.js?site=demo"></script>
<script type="text/plain" data-cpx-category="ads">window.ran = true;</script>
</head><body><h1>Held scripts, no embed</h1></body></html>"""


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    running = start_collector(tmp_path_factory.mktemp("loading"), CONFIG)
    yield running
    running.stop()


class Requests:
    """What the page asked the collector for, with each request's depth in the chain."""

    def __init__(self, page: Page, collector: str) -> None:
        self.collector = collector
        self.depths: dict[str, int] = {}
        self.seen: list[dict[str, Any]] = []
        self.cdp = page.context.new_cdp_session(page)
        self.cdp.on("Network.requestWillBeSent", self.on_request)
        self.cdp.send("Network.enable")

    def on_request(self, event: dict[str, Any]) -> None:
        url = event["request"]["url"]
        depth = chain_depth(event, self.depths)
        if url.startswith(self.collector):
            self.seen.append({"url": url, "depth": depth,
                              "referer": event["request"]["headers"].get("Referer", "")})

    def files(self) -> list[str]:
        return [f"{urlsplit(r['url']).path}?{urlsplit(r['url']).query}" for r in self.seen]

    def deepest(self) -> int:
        return max(r["depth"] for r in self.seen)


def gzipped(page: Page, urls: list[str]) -> int:
    """gzip -9 of the bodies the collector served, as tests/test_tag.py measures them:
    asked again from the page's origin, with the context's cookies."""
    total = 0
    for url in urls:
        response = page.request.get(url, headers={"Accept-Encoding": "identity",
                                                  "Referer": page.url})
        total += len(gzip.compress(response.body(), 9))
    return total


def open_page(context: BrowserContext, pages: PageServer, collector: CollectorProcess,
              name: str, host: str = "localhost") -> tuple[Page, Requests]:
    pages.collector = collector.url
    page = context.new_page()
    requests = Requests(page, collector.url)
    page.goto(pages.page(name).replace("localhost", host))
    return page, requests


AS_FIRST_PUBLISHED = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>First published</title>
<script async src="{{collector}}/t.js" data-site="demo"></script>
</head><body><h1>The tag as first published</h1></body></html>"""

# page, its host, then the files the tag asks for before the banner paints and the
# requests in sequence they take
FIRST_VISITS = [
    ("shop.html", "localhost", ["/p/demo.js?b=en", "/t.js?site=demo"], 2),
    ("shop.html", "127.0.0.1", ["/t.js?site=demo"], 1),  # the page on the collector's host
    ("first-published.html", "localhost", ["/p/demo.js?b=en", "/t.js?", "/t.js?site=demo"], 3),
]


@pytest.mark.parametrize("name, host, files, depth", FIRST_VISITS)
def test_a_first_visit_paints_the_banner_after_the_requests_it_needs(
        context: BrowserContext, pages: PageServer, collector: CollectorProcess, name: str,
        host: str, files: list[str], depth: int) -> None:
    pages.add("first-published.html", AS_FIRST_PUBLISHED)
    page, requests = open_page(context, pages, collector, name, host)
    expect(page.get_by_role("button", name="Reject all")).to_be_visible()
    assert sorted(requests.files()) == files
    assert requests.deepest() == depth
    if name == "shop.html":
        assert gzipped(page, [r["url"] for r in requests.seen]) <= FIRST_VISIT_BUDGET


def test_a_page_in_another_language_than_the_browsers_gets_its_own_texts(
        browser: Browser, pages: PageServer, collector: CollectorProcess) -> None:
    # On the collector's host the tag brings texts in the browser's language (English
    # here); the page is German and the site speaks German: the module asks for them.
    context = browser.new_context(locale="en-US")
    try:
        page, requests = open_page(context, pages, collector, "lang-de.html", "127.0.0.1")
        expect(page.get_by_role("button", name="Alle ablehnen")).to_be_visible()
        assert sorted(requests.files()) == ["/p/demo.js?b=de", "/t.js?site=demo"]
        expect(page.get_by_role("button", name="Reject all")).to_have_count(0)
    finally:
        context.close()


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_a_returning_visitor_sends_the_first_pixel_after_one_request(
        context: BrowserContext, pages: PageServer, collector: CollectorProcess,
        host: str) -> None:
    page, _ = open_page(context, pages, collector, "shop.html", host)
    page.get_by_role("button", name="Accept all").click()
    page, requests = open_page(context, pages, collector, "shop.html", host)
    page.wait_for_function("window.cpx && cpx('consent') && cpx('consent').decided")
    page.wait_for_timeout(200)
    # Chromium names no script as an image's initiator: what came before the pixel tells.
    first_pixel = next(i for i, r in enumerate(requests.seen) if "/p.gif" in r["url"])
    scripts = requests.seen[:first_pixel]
    assert [(r["url"].split("/")[-1], r["depth"]) for r in scripts] == [("t.js?site=demo", 1)]
    assert gzipped(page, [r["url"] for r in scripts]) <= RETURNING_BUDGET
    expect(page.get_by_role("button", name="Reject all")).to_have_count(0)


def test_a_refusing_visitor_loads_the_module_only_for_a_placeholder(
        context: BrowserContext, pages: PageServer, collector: CollectorProcess) -> None:
    pages.add("held-scripts.html", HELD_SCRIPTS_ONLY)
    page, _ = open_page(context, pages, collector, "held-scripts.html")
    page.get_by_role("button", name="Reject all").click()
    page, requests = open_page(context, pages, collector, "held-scripts.html")
    page.wait_for_function("window.cpx && cpx('consent') && cpx('consent').decided")
    page.wait_for_timeout(300)
    assert sorted(requests.files()) == ["/t.js?site=demo"]  # nothing to release
    page, requests = open_page(context, pages, collector, "gating.html")
    expect(page.locator(".cpx-ph")).to_be_visible()  # the embed needs its placeholder
    assert "/p/demo.js?b=en" in requests.files()


def test_every_request_of_the_tag_names_only_the_pages_origin(
        context: BrowserContext, pages: PageServer, collector: CollectorProcess) -> None:
    # The page allows its full URL as Referer; the tag's own requests keep to the origin.
    pages.headers["queue.html"] = {"Referrer-Policy": "unsafe-url"}
    try:
        page, requests = open_page(context, pages, collector, "queue.html" + SECRET_QUERY)
        page.get_by_role("button", name="Accept all").click()
        page.wait_for_function("window.cpx && cpx('consent').decided")
        page.wait_for_timeout(300)
    finally:
        del pages.headers["queue.html"]
    ours = [r for r in requests.seen if "/t.js" not in r["url"]]
    kinds = {urlsplit(r["url"]).path for r in ours}
    assert {"/p/demo.js", "/p.gif", "/c.gif"} <= kinds
    assert {r["referer"] for r in ours} == {pages.url + "/"}


def test_the_tag_adds_one_global(browser: Browser, pages: PageServer,
                                 collector: CollectorProcess) -> None:
    context = browser.new_context()
    try:
        pages.collector = collector.url
        page = context.new_page()
        page.goto(pages.page("embed.html"))
        before = set(page.evaluate("Object.keys(window)"))
        page.goto(pages.page("gating.html"))
        page.get_by_role("button", name="Accept all").click()
        page.wait_for_function("window.order.length == 4")
        page.click("#prefs")
        expect(page.get_by_role("dialog")).to_be_visible()
        after = set(page.evaluate("Object.keys(window).filter(k => isNaN(k))"))  # not frames
        assert after - before == {"cpx", "order"}  # order is the page's own
    finally:
        context.close()


def test_the_banner_and_placeholders_need_no_inline_style(
        context: BrowserContext, pages: PageServer, collector: CollectorProcess) -> None:
    page, _ = open_page(context, pages, collector, "gating.html")
    page.get_by_role("button", name="Reject all").click()
    expect(page.locator(".cpx-ph")).to_be_visible()
    page.click("#prefs")
    assert page.evaluate("document.querySelectorAll('[style]').length") == 0
