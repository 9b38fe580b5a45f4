"""The consent manager in real Chromium: modes and Global Privacy Control, versions and
expiry, withdrawal, held scripts and embeds, Consent Mode, languages, accessibility and
a strict Content-Security-Policy."""

from __future__ import annotations

import datetime
from collections import Counter
from typing import Any, Callable, Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Page, expect

from .conftest import CollectorProcess, PageServer, Visit

GPC_SCRIPT = ("Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', "
              "{get: () => true, configurable: true});")


def site(mode: str = "opt-in", extra: str = "", name: str = "demo") -> str:
    return f"""
[sites.{name}]
origins = ["http://localhost:*"]
mode = "{mode}"
count_automation = true
{extra}
[sites.{name}.categories.analytics]
cookies = ["_demo_stats*"]
[sites.{name}.categories.ads]
cookies = ["_demo_ads*"]
"""


def open_page(context: BrowserContext, collector: CollectorProcess, pages: PageServer,
              name: str) -> Visit:
    pages.collector = collector.url
    seen = Visit(context.new_page(), collector)
    seen.page.goto(pages.page(name))
    return seen


def ready(page: Page) -> None:
    page.wait_for_function("window.cpx && cpx('consent') !== undefined")


def dialog(page: Page):  # type: ignore[no-untyped-def]
    return page.get_by_role("dialog")


def decide(page: Page, choice: str, banner: bool) -> None:
    """Accept, reject, or turn on only `ads`; from the banner, or from the preferences."""
    if choice == "none":
        return
    if not banner:
        page.click("#prefs")
    box = dialog(page)
    expect(box).to_be_visible()
    if choice in ("accept", "reject"):
        box.locator(f"[data-a={choice}]").click()
    else:
        if banner:
            box.locator("[data-a=prefs]").click()
        box.locator("input[value=analytics]").set_checked(False)
        box.locator("input[value=ads]").set_checked(True)
        box.locator("[data-a=save]").click()
    expect(box).to_be_hidden()


@pytest.fixture
def gpc_context(browser: Browser) -> Iterator[BrowserContext]:
    created = browser.new_context(extra_http_headers={"Sec-GPC": "1"})
    created.add_init_script(GPC_SCRIPT)
    yield created
    created.close()


# mode, Global Privacy Control, choice -> granted (analytics, ads), events counted.
# One visit to shop.html: the automatic page view, then one download (an ads event).
MATRIX = [
    ("opt-in", False, "none", (False, False), []),
    ("opt-in", False, "accept", (True, True), ["pageview", "download"]),
    ("opt-in", False, "reject", (False, False), []),
    ("opt-in", False, "ads", (False, True), ["download"]),
    ("opt-in", True, "none", (False, False), []),
    ("opt-in", True, "accept", (True, False), ["pageview"]),      # accept keeps GPC
    ("opt-in", True, "reject", (False, False), []),
    ("opt-in", True, "ads", (False, True), ["download"]),         # explicit: counted
    ("opt-out", False, "none", (True, True), ["pageview", "download"]),
    ("opt-out", False, "accept", (True, True), ["pageview", "download"]),
    ("opt-out", False, "reject", (False, False), ["pageview"]),   # sent before refusal
    ("opt-out", False, "ads", (False, True), ["pageview", "download"]),
    ("opt-out", True, "none", (True, False), ["pageview"]),
    ("opt-out", True, "accept", (True, False), ["pageview"]),
    ("opt-out", True, "reject", (False, False), ["pageview"]),
    ("opt-out", True, "ads", (False, True), ["pageview", "download"]),
]


@pytest.mark.parametrize("mode, gpc, choice, granted, counted", MATRIX,
                         ids=[f"{m}-{'gpc' if g else 'nogpc'}-{c}" for m, g, c, *_ in MATRIX])
def test_modes_signals_and_choices(collector_with: Callable[[str], CollectorProcess],
                                   pages: PageServer, context: BrowserContext,
                                   gpc_context: BrowserContext, mode: str, gpc: bool,
                                   choice: str, granted: tuple[bool, bool],
                                   counted: list[str]) -> None:
    collector = collector_with(site(mode))
    seen = open_page(gpc_context if gpc else context, collector, pages, "shop.html")
    ready(seen.page)
    banner = mode == "opt-in"
    if banner:
        expect(dialog(seen.page)).to_be_visible()
        gpc_note = dialog(seen.page).locator(".cpx-gpc")
        expect(gpc_note).to_have_count(1 if gpc else 0)
    else:
        seen.settle()
        expect(dialog(seen.page)).to_have_count(0)  # opt-out never asks first
    decide(seen.page, choice, banner)
    if choice == "none" and banner:
        seen.page.evaluate("cpx('track', 'download')")  # the modal banner is still open
    else:
        seen.page.click("#download")
    # A conversion first fetches the attribution (a.js): wait for the pixels expected,
    # then a moment for any that should not come.
    seen.page.wait_for_function("n => performance.getEntriesByType('resource').filter("
                                "e => e.name.includes('/p.gif?')).length >= n", arg=len(counted))
    seen.settle()
    state = seen.page.evaluate("cpx('consent')")
    assert (state["analytics"], state["ads"]) == granted
    assert sorted(seen.events()) == sorted(counted)
    if gpc and "download" in counted:
        (download,) = [p for p in seen.fired() if p["e"] == "download"]
        assert download["x"] == "1"  # the visitor turned ads on under the signal
    if counted:
        collector.wait_for(lambda: collector.counts() == Counter(counted))
    else:
        seen.settle(1500)
        assert collector.counts() == {}
    assert seen.errors == []


def test_a_higher_policy_version_asks_again(collector_with: Callable[[str], CollectorProcess],
                                            pages: PageServer,
                                            context: BrowserContext) -> None:
    first = collector_with(site())
    seen = open_page(context, first, pages, "shop.html")
    decide(seen.page, "accept", banner=True)
    first.stop()
    same = collector_with(site())
    again = open_page(context, same, pages, "shop.html")
    ready(again.page)
    again.settle()
    expect(dialog(again.page)).to_have_count(0)
    same.stop()
    bumped = collector_with(site(extra="policy_version = 2"))
    asked = open_page(context, bumped, pages, "shop.html")
    expect(dialog(asked.page)).to_be_visible()
    assert asked.page.evaluate("cpx('consent')")["decided"] is False
    decide(asked.page, "reject", banner=True)
    assert context.cookies()[0]["value"].startswith("2.")


@pytest.mark.parametrize("days_later, asked", [(181, False), (183, True)])
def test_a_decision_expires(context: BrowserContext, collector: CollectorProcess,
                            pages: PageServer, days_later: int, asked: bool) -> None:
    seen = open_page(context, collector, pages, "shop.html")
    decide(seen.page, "accept", banner=True)
    later = context.new_page()
    later.clock.install(time=datetime.datetime.now() + datetime.timedelta(days=days_later))
    pages.collector = collector.url
    later.goto(pages.page("shop.html"))
    ready(later)
    later.wait_for_timeout(400)
    expect(dialog(later)).to_have_count(1 if asked else 0)
    assert later.evaluate("cpx('consent')")["decided"] is not asked


def test_withdrawal_deletes_the_category_cookies_and_the_touch(
        context: BrowserContext, collector: CollectorProcess, pages: PageServer) -> None:
    pages.collector = collector.url
    page = context.new_page()
    page.goto(pages.page("cookies.html?utm_source=newsletter&utm_campaign=spring"))
    decide(page, "accept", banner=True)
    page.wait_for_function("window.adsCookiesSet && window.statsCookiesSet")
    names = {c["name"] for c in context.cookies()}
    assert {"_demo_ads_id", "_demo_ads_deep", "_demo_adsx", "_demo_stats_id"} <= names
    assert "utm_campaign=spring" in page.evaluate("localStorage.cpx_touch")
    page.click("#prefs")
    box = dialog(page)
    box.locator("input[value=ads]").set_checked(False)
    box.locator("[data-a=save]").click()
    names = {c["name"] for c in context.cookies()}
    assert not {"_demo_ads_id", "_demo_ads_deep", "_demo_adsx"} & names
    assert {"_demo_stats_id", "cpx"} <= names
    assert page.evaluate("localStorage.cpx_touch") is None


def order(page: Page) -> list[str]:
    return page.evaluate("window.order")  # type: ignore[no-any-return]


def test_held_scripts_and_embeds_wait_and_run_in_order(
        context: BrowserContext, collector: CollectorProcess, pages: PageServer) -> None:
    seen = open_page(context, collector, pages, "gating.html")
    expect(dialog(seen.page)).to_be_visible()
    seen.settle()
    assert order(seen.page) == []
    frame = seen.page.locator("iframe")
    assert frame.get_attribute("src") is None
    box = dialog(seen.page)
    box.locator("[data-a=prefs]").click()
    box.locator("input[value=analytics]").set_checked(True)
    box.locator("[data-a=save]").click()
    seen.page.wait_for_function("window.order.length == 3")
    assert order(seen.page) == ["a", "c", "d"]
    placeholder = seen.page.locator(".cpx-ph")
    expect(placeholder).to_be_visible()
    expect(frame).to_be_hidden()
    placeholder.get_by_role("button").click()  # allow ads for this embed
    seen.page.wait_for_function("window.order.length == 4")
    assert order(seen.page) == ["a", "c", "d", "b"]
    expect(seen.page.frame_locator("iframe").locator("#embedded")).to_have_text(
        "The embedded video")
    expect(placeholder).to_have_count(0)
    assert seen.page.evaluate("cpx('consent')") == {"decided": True, "analytics": True,
                                                     "ads": True}


def test_accepting_all_runs_everything_in_document_order(
        context: BrowserContext, collector: CollectorProcess, pages: PageServer) -> None:
    seen = open_page(context, collector, pages, "gating.html")
    decide(seen.page, "accept", banner=True)
    seen.page.wait_for_function("window.order.length == 4")
    assert order(seen.page) == ["a", "b", "c", "d"]
    seen.page.reload()
    seen.page.wait_for_function("window.order && window.order.length == 4")
    assert order(seen.page) == ["a", "b", "c", "d"]  # a returning visit runs them at once


def test_a_refused_embed_keeps_its_placeholder_on_return(
        context: BrowserContext, collector: CollectorProcess, pages: PageServer) -> None:
    seen = open_page(context, collector, pages, "gating.html")
    decide(seen.page, "reject", banner=True)
    seen.page.reload()
    expect(seen.page.locator(".cpx-ph")).to_be_visible()
    assert seen.page.locator("iframe").get_attribute("src") is None
    seen.settle()
    assert order(seen.page) == []


def test_consent_mode_defaults_come_first_and_every_decision_updates(
        context: BrowserContext, collector: CollectorProcess, pages: PageServer) -> None:
    seen = open_page(context, collector, pages, "consent-mode.html")
    expect(dialog(seen.page)).to_be_visible()
    layer = "dataLayer.map(a => Array.from(a))"
    calls = seen.page.evaluate(layer)
    assert [c[:2] for c in calls[:3]] == [["consent", "default"], ["js", calls[1][1]],
                                          ["config", "G-EXAMPLE"]]
    assert calls[0][2] == {"ad_storage": "denied", "analytics_storage": "denied",
                           "ad_user_data": "denied", "ad_personalization": "denied",
                           "wait_for_update": 500}
    decide(seen.page, "accept", banner=True)
    update = seen.page.evaluate(layer)[-1]
    assert update == ["consent", "update", {"analytics_storage": "granted",
                                            "ad_storage": "granted", "ad_user_data": "granted",
                                            "ad_personalization": "granted"}]
    seen.page.click("body")
    seen.page.evaluate("cpx('consent', {ads: false})")
    seen.page.wait_for_function(f"{layer}.slice(-1)[0][2].ad_storage == 'denied'")
    update = seen.page.evaluate(layer)[-1]
    assert update[2]["analytics_storage"] == "granted"
    returning = open_page(context, collector, pages, "consent-mode.html")
    ready(returning.page)
    returning.page.wait_for_function(f"{layer}.length >= 4")
    calls = returning.page.evaluate(layer)
    assert calls[0][:2] == ["consent", "default"]
    assert calls[-1] == ["consent", "update", {"analytics_storage": "granted",
                                               "ad_storage": "denied", "ad_user_data": "denied",
                                               "ad_personalization": "denied"}]


@pytest.mark.parametrize("name, locale, accept, reject", [
    ("lang-de.html", "en-US", "Alle akzeptieren", "Alle ablehnen"),
    ("lang-none.html", "fr-FR", "Tout accepter", "Tout refuser"),
    ("lang-none.html", "es-ES", "Aceptar todo", "Rechazar todo"),
    ("lang-none.html", "ja-JP", "Accept all", "Reject all"),  # no Japanese: the first language
])
def test_the_banner_speaks_the_page_or_browser_language(
        browser: Browser, collector: CollectorProcess, pages: PageServer, name: str, locale: str,
        accept: str, reject: str) -> None:
    context = browser.new_context(locale=locale)
    try:
        seen = open_page(context, collector, pages, name)
        box = dialog(seen.page)
        expect(box.locator("[data-a=accept]")).to_have_text(accept)
        expect(box.locator("[data-a=reject]")).to_have_text(reject)
        assert box.get_attribute("dir") == "ltr"
    finally:
        context.close()


def test_right_to_left_with_the_site_texts(collector_with: Callable[[str], CollectorProcess],
                                           pages: PageServer, context: BrowserContext) -> None:
    collector = collector_with(site(name="shop", extra='languages = ["ar", "en"]') + """
[sites.shop.text.ar]
title = "خيارات الخصوصية"
body = "نحسب الزيارات بشكل إجمالي دون التعرف عليك."
accept = "قبول الكل"
reject = "رفض الكل"
""")
    seen = open_page(context, collector, pages, "lang-ar.html")
    box = dialog(seen.page)
    expect(box.get_by_role("heading")).to_have_text("خيارات الخصوصية")
    expect(box.locator("[data-a=accept]")).to_have_text("قبول الكل")
    assert (box.get_attribute("dir"), box.get_attribute("lang")) == ("rtl", "ar")
    first, second = (box.locator(f"[data-a={a}]").bounding_box() for a in ("reject", "accept"))
    assert first and second and first["x"] > second["x"]  # laid out right to left


def test_keyboard_only_with_focus_kept_in_the_dialog(
        context: BrowserContext, collector_with: Callable[[str], CollectorProcess],
        pages: PageServer) -> None:
    collector = collector_with(site(extra='banner = "modal"'))
    seen = open_page(context, collector, pages, "shop.html")
    page = seen.page
    box = dialog(page)
    expect(box).to_be_visible()
    inside = "document.activeElement.closest('dialog') !== null"
    assert page.evaluate(inside)
    for _ in range(8):
        page.keyboard.press("Tab")
        assert page.evaluate(inside)
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    # Tab to "Preferences", open them, switch analytics on with the keyboard, save.
    page.locator("[data-a=prefs]").focus()
    page.keyboard.press("Enter")
    expect(page.locator("input[value=analytics]")).to_be_focused()
    page.keyboard.press("Space")
    page.locator("[data-a=save]").focus()
    page.keyboard.press("Enter")
    expect(box).to_be_hidden()
    assert page.evaluate("cpx('consent')")["analytics"] is True
    # Reopened from a control, Esc closes the preferences and focus goes back to it.
    page.locator("#prefs").focus()
    page.keyboard.press("Enter")
    expect(box).to_be_visible()
    page.keyboard.press("Escape")
    expect(box).to_be_hidden()
    expect(page.locator("#prefs")).to_be_focused()


def axe(page: Page, selector: str) -> list[dict[str, Any]]:
    """Serious and critical violations axe-core (as axe-playwright-python ships it)
    finds in the elements the selector names."""
    result = Axe().run(page, context=selector)
    violations: list[dict[str, Any]] = result.response["violations"]
    return [v for v in violations if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("view", ["banner", "preferences", "gpc"])
def test_axe_finds_no_serious_violation(browser: Browser, collector: CollectorProcess,
                                        pages: PageServer, view: str) -> None:
    context = browser.new_context()
    if view == "gpc":
        context.add_init_script(GPC_SCRIPT)
    try:
        seen = open_page(context, collector, pages, "shop.html")
        expect(dialog(seen.page)).to_be_visible()
        if view == "preferences":
            dialog(seen.page).locator("[data-a=prefs]").click()
        assert axe(seen.page, "dialog") == []
    finally:
        context.close()


def test_axe_on_a_held_embed_placeholder(context: BrowserContext, collector: CollectorProcess,
                                         pages: PageServer) -> None:
    seen = open_page(context, collector, pages, "gating.html")
    decide(seen.page, "reject", banner=True)
    expect(seen.page.locator(".cpx-ph")).to_be_visible()
    assert axe(seen.page, ".cpx-ph") == []


def test_a_strict_csp_reports_no_violation(browser: Browser, collector: CollectorProcess,
                                           pages: PageServer) -> None:
    pages.headers["csp.html"] = {"Content-Security-Policy": (
        "default-src 'self'; script-src 'self' {{collector}} 'nonce-csp-n0nce'; "
        "style-src 'self' {{collector}}; img-src 'self' {{collector}}")}
    context = browser.new_context()
    context.add_init_script("window.violations = []; document.addEventListener("
                            "'securitypolicyviolation', e => window.violations.push("
                            "e.violatedDirective + ' ' + e.blockedURI));")
    try:
        seen = open_page(context, collector, pages, "csp.html")
        box = dialog(seen.page)
        expect(box).to_be_visible()
        assert box.evaluate("b => getComputedStyle(b).position") == "fixed"  # styled
        decide(seen.page, "accept", banner=True)
        seen.page.wait_for_function("() => window.order.length == 2")  # no eval under CSP
        assert order(seen.page) == ["inline", "c"]
        expect(seen.page.frame_locator("iframe").locator("#embedded")).to_be_visible()
        seen.page.click("#download")
        seen.page.click("#prefs")
        expect(box).to_be_visible()
        seen.page.keyboard.press("Escape")
        seen.settle()
        assert sorted(seen.events()) == ["download", "pageview", "signup"]
        assert seen.page.evaluate("window.violations") == []
        assert seen.errors == []
    finally:
        context.close()
        del pages.headers["csp.html"]
