"""The tag trusts nothing the page or the cookie hands it, in real Chromium: a polluted
Object.prototype, a page whose Image, RegExp or cookie setter throws, a browser without
<dialog> or CustomEvent, decision cookies that are not ours to believe, and values and
currencies that are not values and currencies."""

from __future__ import annotations

import time
from typing import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from .conftest import CollectorProcess, PageServer, Visit, start_collector

CONFIG = """
[sites.demo]
origins = ["http://localhost:*"]
count_automation = true
[sites.demo.categories.analytics]
[sites.demo.categories.ads]
consent_mode = ["ad_storage"]

[sites.modal]
origins = ["http://localhost:*"]
count_automation = true
banner = "modal"

[sites.untallied]
origins = ["http://localhost:*"]
count_automation = true
consent_tallies = false
"""
POLLUTED = ("Object.prototype.uid = 'jane.doe@example.com'; "
            "Object.prototype.utm_campaign = 'polluted'; Object.prototype.value = '99';")
GCM_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>GCM</title>
<script src="{{collector}}/gcm/demo.js"></script>
<script async src="{{collector}}/t.js?site=demo"></script>
</head><body><h1>Consent Mode</h1></body></html>"""
SITE_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>%s</title>
<script async src="{{collector}}/t.js?site=%s"></script>
</head><body><h1>%s</h1></body></html>"""
MODAL_PAGE = SITE_PAGE % ("Modal", "modal", "Modal")


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    running = start_collector(tmp_path_factory.mktemp("hostile"), CONFIG)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def hostile_pages(pages: PageServer) -> PageServer:
    pages.add("gcm.html", GCM_PAGE)
    pages.add("modal.html", MODAL_PAGE)
    pages.add("untallied.html", SITE_PAGE % ("Untallied", "untallied", "Untallied"))
    return pages


def visit(browser: Browser, pages: PageServer, collector: CollectorProcess, name: str,
          init: str = "") -> tuple[BrowserContext, Visit]:
    pages.collector = collector.url
    context = browser.new_context()
    if init:
        context.add_init_script(init)
    seen = Visit(context.new_page(), collector)
    seen.page.goto(pages.page(name))
    return context, seen


def test_a_polluted_prototype_leaks_into_no_pixel_and_keeps_the_consent_mode_default(
        browser: Browser, hostile_pages: PageServer, collector: CollectorProcess) -> None:
    context, seen = visit(browser, hostile_pages, collector, "gcm.html", POLLUTED)
    try:
        assert seen.page.evaluate("dataLayer[0][0] + ' ' + dataLayer[0][1]") == "consent default"
        seen.page.get_by_role("button", name="Accept all").click()
        seen.page.evaluate("cpx('track', 'purchase', {currency: 'EUR'})")
        seen.page.wait_for_function("dataLayer.length >= 2")
        seen.settle()
        urls = " ".join(pixel["url"] for pixel in seen.pixels)
        assert sorted(seen.events()) == ["pageview", "purchase"]
        assert "uid" not in urls and "polluted" not in urls and "jane" not in urls
        assert "&v=" not in urls  # the value came from the prototype, not the call
        assert seen.errors == []
    finally:
        context.close()


# The tag's own keys, short and long, on Object.prototype: none stands in for a missing one.
POLLUTED_KEYS = "".join(f"Object.prototype[{key!r}] = {value};" for key, value in [
    ("t", "{title: 'polluted', reject: 'polluted'}"), ("languages", "['de']"), ("asked", "1"),
    ("a", "1"), ("l", "1"), ("texts", "{}")])


def test_a_prototype_with_the_tags_own_keys_changes_nothing(
        browser: Browser, hostile_pages: PageServer, collector: CollectorProcess) -> None:
    context, seen = visit(browser, hostile_pages, collector,
                          "shop.html?utm_source=news&utm_campaign=spring", POLLUTED_KEYS)
    try:
        seen.page.get_by_role("button", name="Reject all").wait_for()
        seen.page.get_by_role("button", name="Accept all").click()
        seen.settle()
        landing = [pixel["url"] for pixel in seen.pixels if "e=pageview" in pixel["url"]]
        assert len(landing) == 1 and "utm_campaign=spring" in landing[0]
        assert seen.errors == []
    finally:
        context.close()


# What the page breaks before the tag runs -> the banner still works, nothing is thrown.
BROKEN = [
    ("image", "window.Image = function () { throw new Error('no images here'); };"),
    ("regexp", "window.RegExp = function () { throw new Error('no patterns here'); };"),
    ("cookie", "Object.defineProperty(Document.prototype, 'cookie', {configurable: true, "
               "get: () => '', set: () => { throw new Error('no cookies here'); }});"),
    ("custom-event", "delete window.CustomEvent;"),
]


@pytest.mark.parametrize("name, init", BROKEN, ids=[case[0] for case in BROKEN])
def test_a_page_that_throws_gets_a_banner_that_closes(
        browser: Browser, hostile_pages: PageServer, collector: CollectorProcess, name: str,
        init: str) -> None:
    context, seen = visit(browser, hostile_pages, collector, "shop.html", init)
    try:
        box = seen.page.get_by_role("dialog")
        expect(box).to_be_visible()
        box.get_by_role("button", name="Accept all").click()
        expect(box).to_have_count(0)
        assert seen.page.evaluate("cpx('consent')") == {"decided": True, "analytics": True,
                                                         "ads": True}
        seen.page.click("#download")
        assert seen.errors == []
    finally:
        context.close()


def test_without_dialog_support_the_banner_is_a_plain_element(
        browser: Browser, hostile_pages: PageServer, collector: CollectorProcess) -> None:
    init = ("for (const m of ['show', 'showModal', 'close']) "
            "delete HTMLDialogElement.prototype[m]; delete window.HTMLDialogElement;")
    context, seen = visit(browser, hostile_pages, collector, "modal.html", init)
    try:
        box = seen.page.get_by_role("dialog")
        expect(box).to_be_visible()
        assert box.evaluate("b => b.matches(':modal')") is False
        expect(box).to_be_focused()
        box.get_by_role("button", name="Reject all").click()
        expect(box).to_have_count(0)
        assert seen.page.evaluate("cpx('consent').decided") is True
        assert seen.errors == []
    finally:
        context.close()


# After a refusal, what the tag sends: the tally (site, granted and refused categories and
# the page's counter, nothing else), or nothing at all where the site turned tallies off.
TALLIES = [
    ("shop.html", "Reject all", [{"s": "demo", "n": "analytics-ads"}]),
    ("shop.html", "Accept all", [{"s": "demo", "y": "analytics-ads"}]),
    ("untallied.html", "Reject all", []),
    ("untallied.html", "Accept all", []),
]


@pytest.mark.parametrize("page, button, tallies", TALLIES,
                         ids=[f"{page[:-5]}-{button.split()[0].lower()}"
                              for page, button, _ in TALLIES])
def test_a_decision_is_tallied_only_where_the_site_counts_them(
        browser: Browser, hostile_pages: PageServer, collector: CollectorProcess, page: str,
        button: str, tallies: list[dict[str, str]]) -> None:
    context, seen = visit(browser, hostile_pages, collector, page)
    try:
        seen.page.get_by_role("button", name=button).click()
        seen.page.wait_for_function("cpx('consent').decided")
        if button == "Accept all":  # the page view waits for the decision; the tally comes first
            seen.page.wait_for_function("performance.getEntriesByType('resource')"
                                        ".some(e => e.name.includes('/p.gif'))")
        seen.settle()
        sent = [{k: v for k, v in pixel.items() if k not in ("file", "url", "z")}
                for pixel in seen.fired("c.gif")]
        assert sent == tallies
        assert all(set(pixel) <= {"file", "url", "s", "y", "n", "z"}
                   for pixel in seen.fired("c.gif"))
        assert seen.errors == []
    finally:
        context.close()


def now() -> int:
    return int(time.time())


# The decision cookie as someone else wrote it -> whether the tag believes it.
COOKIES = [
    ("ours", lambda: f"1.{now() - 60}.analytics.", True),
    ("from the future", lambda: f"1.{now() + 86400}.analytics-ads.", False),
    ("a higher policy version", lambda: f"2.{now() - 60}.analytics-ads.", False),
    ("past its days", lambda: f"1.{now() - 183 * 86400}.analytics-ads.", False),
    ("cut short", lambda: "1.9999999999", False),
    ("a trailing g twice", lambda: f"1.{now() - 60}.analytics-ads.gg", False),
    ("a g with more after it", lambda: f"1.{now() - 60}.analytics-ads.g.ads", False),
    ("a capital G", lambda: f"1.{now() - 60}.analytics-ads.G", False),
]


@pytest.mark.parametrize("name, value, believed", COOKIES, ids=[case[0] for case in COOKIES])
def test_only_a_decision_cookie_of_ours_is_believed(
        browser: Browser, hostile_pages: PageServer, collector: CollectorProcess, name: str,
        value: object, believed: bool) -> None:
    hostile_pages.collector = collector.url
    context = browser.new_context()
    context.add_cookies([{"name": "cpx", "value": value(),  # type: ignore[operator]
                          "url": hostile_pages.url}])
    try:
        seen = Visit(context.new_page(), collector)
        seen.page.goto(hostile_pages.page("shop.html"))
        seen.page.wait_for_function("window.cpx && cpx('consent')")
        if believed:
            seen.settle()
            expect(seen.page.get_by_role("dialog")).to_have_count(0)
            assert seen.page.evaluate("cpx('consent')") == {"decided": True, "analytics": True,
                                                             "ads": False}
        else:  # no decision: the banner asks, and nothing gated is sent
            expect(seen.page.get_by_role("dialog")).to_be_visible()
            assert seen.page.evaluate("cpx('consent').decided") is False
            assert seen.fired() == []
        assert seen.errors == []
    finally:
        context.close()


GPC_SCRIPT = ("Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', "
              "{get: () => true, configurable: true});")

# Under Global Privacy Control (which refuses ads on this site): the decision cookie ->
# the consent state. Only the one "g" that the banner writes when the visitor switched
# ads on while the signal was on lets the cookie grant them.
GPC_COOKIES = [
    ("decided without the signal", lambda: f"1.{now() - 60}.analytics-ads.", True, False),
    ("decided under the signal", lambda: f"1.{now() - 60}.analytics-ads.g", True, True),
    ("a g among the categories", lambda: f"1.{now() - 60}.analytics-ads-g.", True, False),
    ("a g glued to a category", lambda: f"1.{now() - 60}.analytics-adsg", False, False),
    ("a g with a version 1.9999999999", lambda: "1.9999999999.g", False, False),
]


@pytest.mark.parametrize("name, value, believed, ads", GPC_COOKIES,
                         ids=[case[0] for case in GPC_COOKIES])
def test_under_gpc_only_our_own_g_grants_what_the_signal_refuses(
        browser: Browser, hostile_pages: PageServer, collector: CollectorProcess, name: str,
        value: object, believed: bool, ads: bool) -> None:
    hostile_pages.collector = collector.url
    context = browser.new_context()
    context.add_init_script(GPC_SCRIPT)
    context.add_cookies([{"name": "cpx", "value": value(),  # type: ignore[operator]
                          "url": hostile_pages.url}])
    try:
        seen = Visit(context.new_page(), collector)
        seen.page.goto(hostile_pages.page("shop.html"))
        seen.page.wait_for_function("window.cpx && cpx('consent')")
        state = seen.page.evaluate("cpx('consent')")
        assert (state["decided"], state["ads"]) == (believed, ads)
        if not believed:
            expect(seen.page.get_by_role("dialog")).to_be_visible()
        assert seen.errors == []
    finally:
        context.close()


# What a page tracks as a conversion's value and currency -> what the pixel carries.
VALUES = [
    ({"value": 49.90, "currency": "eur"}, ("49.9", "EUR")),
    ({"value": "12.50"}, ("12.50", None)),
    ({"value": 0.1 + 0.2, "currency": "USD"}, ("0.3", "USD")),
    ({"value": "1e3", "currency": "EUR"}, (None, None)),
    ({"value": "abc", "currency": "EUR"}, (None, None)),
    ({"value": -5, "currency": "EUR"}, (None, None)),
    ({"value": 1e9, "currency": "EUR"}, (None, None)),
    ({"value": 10, "currency": "euro"}, (None, None)),
    ({"value": 10, "currency": "<b>"}, (None, None)),
    ({"value": "jane.doe@example.com"}, (None, None)),
]


def test_values_and_currencies_are_cleaned(
        browser: Browser, hostile_pages: PageServer, collector: CollectorProcess) -> None:
    context, seen = visit(browser, hostile_pages, collector, "shop.html")
    try:
        seen.page.get_by_role("button", name="Accept all").click()
        for properties, _ in VALUES:
            seen.page.evaluate("p => cpx('track', 'purchase', p)", properties)
        seen.page.wait_for_function(f"performance.getEntriesByType('resource').filter("
                                    f"e => e.name.includes('e=purchase')).length == {len(VALUES)}")
        purchases = [p for p in seen.fired() if p["e"] == "purchase"]
        assert [(p.get("v"), p.get("c")) for p in purchases] == [want for _, want in VALUES]
        assert seen.errors == []
    finally:
        context.close()
