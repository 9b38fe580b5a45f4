"""Consent gating in real Chromium: no pixel before a decision, none after refusal."""

from __future__ import annotations

from typing import Callable

import pytest
from playwright.sync_api import BrowserContext, Route, expect

from .conftest import CollectorProcess, PageServer, Visit


def banner(visit: Visit):  # type: ignore[no-untyped-def]
    return visit.page.get_by_role("dialog")


def choose(visit: Visit, choice: str) -> None:
    """Answer the banner: accept, reject, or a custom set of categories."""
    dialog = banner(visit)
    expect(dialog).to_be_visible()
    if choice == "accept":
        dialog.get_by_role("button", name="Accept all").click()
    elif choice == "reject":
        dialog.get_by_role("button", name="Reject all").click()
    else:
        dialog.get_by_role("button", name="Preferences").click()
        for category in ("Analytics", "Advertising"):
            switch = dialog.get_by_role("switch", name=category)
            switch.set_checked(category.lower()[:2] in choice)
        dialog.get_by_role("button", name="Save choices").click()
    expect(dialog).to_be_hidden()


# choice -> the events the collector must count for one visit with one download click
CASES = [
    ("none", []),
    ("reject", []),
    ("accept", ["download", "pageview"]),
    ("analytics", ["pageview"]),
    ("advertising", ["download"]),
]


@pytest.mark.parametrize("choice, counted", CASES, ids=[c[0] for c in CASES])
def test_pixels_fire_only_for_granted_categories(visit: Callable[..., Visit],
                                                  collector: CollectorProcess, choice: str,
                                                  counted: list[str]) -> None:
    seen = visit("shop.html")
    expect(banner(seen)).to_be_visible()
    seen.settle()
    assert seen.fired() == [], "a pixel fired before the visitor decided"
    if choice != "none":
        choose(seen, choice)
        seen.page.click("#download")
    else:  # the open dialog is modal: the page itself asks
        seen.page.evaluate("cpx('track', 'download')")
    seen.settle()
    assert sorted(seen.events()) == counted
    if counted:
        collector.wait_for(lambda: sorted(collector.counts()) == counted)
    else:
        seen.settle(1500)  # longer than a flush
        assert collector.counts() == {}
    assert seen.errors == []


@pytest.mark.parametrize("choice", ["reject", "accept"])
def test_a_decision_holds_after_reload(visit: Callable[..., Visit], choice: str) -> None:
    seen = visit("shop.html")
    choose(seen, choice)
    seen.page.reload()
    seen.page.wait_for_function("window.cpx && window.cpx('consent')")
    seen.settle()
    expect(banner(seen)).to_have_count(0)
    consent = seen.page.evaluate("cpx('consent')")
    assert consent == {"decided": True, "analytics": choice == "accept",
                       "ads": choice == "accept"}
    seen.page.click("#download")
    seen.settle()
    expected = ["pageview", "pageview", "download"] if choice == "accept" else []
    assert seen.events() == expected


def test_the_cookie_holds_no_identifier(visit: Callable[..., Visit],
                                        context: BrowserContext) -> None:
    seen = visit("shop.html")
    choose(seen, "analytics")
    (cookie,) = context.cookies()
    version, seconds, granted, gpc = cookie["value"].split(".")
    assert (cookie["name"], version, granted, gpc) == ("cpx", "1", "analytics", "")
    assert seconds.isdigit() and cookie["sameSite"] == "Lax"
    assert seen.page.evaluate("Object.keys(localStorage)") == []


def test_preferences_reopen_and_changes_take_effect(visit: Callable[..., Visit]) -> None:
    seen = visit("shop.html")
    choose(seen, "analytics")
    seen.page.click("#download")
    seen.settle()
    assert seen.events() == ["pageview"]
    seen.page.click("#prefs")
    dialog = banner(seen)
    expect(dialog.get_by_role("switch", name="Analytics")).to_be_checked()
    expect(dialog.get_by_role("switch", name="Advertising")).not_to_be_checked()
    dialog.get_by_role("switch", name="Advertising").check()
    dialog.get_by_role("button", name="Save choices").click()
    seen.page.click("#download")
    seen.settle()
    assert seen.events() == ["pageview", "download"]
    assert [p.get("y") for p in seen.fired("c.gif")] == ["analytics", "analytics-ads"]


@pytest.mark.parametrize("choice, sent", [("accept", ["pageview", "signup", "purchase"]),
                                          ("reject", []),
                                          ("analytics", ["pageview"])])
def test_events_before_the_decision_wait_for_it(visit: Callable[..., Visit],
                                                collector: CollectorProcess, choice: str,
                                                sent: list[str]) -> None:
    seen = visit("queue.html")
    expect(banner(seen)).to_be_visible()
    seen.settle()
    assert seen.fired() == []
    choose(seen, choice)
    seen.settle()
    assert sorted(seen.events()) == sorted(sent)
    if "purchase" in sent:
        (purchase,) = [p for p in seen.fired() if p["e"] == "purchase"]
        assert (purchase["v"], purchase["c"]) == ("49.9", "EUR")
        collector.wait_for(lambda: collector.counts().get("purchase") == 1)
        (row,) = [r for r in collector.report() if r["event"] == "purchase"]
        assert (row["value"], row["currency"]) == (49.9, "EUR")


def test_single_page_navigation_counts_page_views(visit: Callable[..., Visit]) -> None:
    seen = visit("spa.html")
    choose(seen, "analytics")
    for button in ("#a", "#b", "#same"):
        seen.page.click(button)
    seen.page.go_back()  # undoes the hash change: same page, no page view
    seen.page.go_back()
    seen.settle()
    assert [p["p"] for p in seen.fired()] == ["/spa.html", "/spa/a", "/spa/b", "/spa/a"]
    assert all("order" not in p["url"] for p in seen.fired())


def test_escape_keeps_a_pending_decision(visit: Callable[..., Visit]) -> None:
    seen = visit("shop.html")
    dialog = banner(seen)
    expect(dialog).to_be_visible()
    seen.page.keyboard.press("Escape")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Preferences").click()
    seen.page.keyboard.press("Escape")  # back from the preferences, not out of the banner
    expect(dialog.get_by_role("button", name="Preferences")).to_be_focused()
    seen.settle()
    assert seen.fired() == []


def test_a_taken_name_is_left_alone(visit: Callable[..., Visit]) -> None:
    seen = visit("foreign.html")
    seen.settle(800)
    assert seen.page.evaluate("window.cpx") == {"owner": "another library"}
    expect(banner(seen)).to_have_count(0)
    assert seen.fired() == [] and seen.errors == []


def test_the_tag_twice_counts_once(visit: Callable[..., Visit]) -> None:
    seen = visit("twice.html")
    choose(seen, "accept")
    seen.settle()
    assert seen.events() == ["pageview"]
    expect(banner(seen)).to_have_count(0)
    assert seen.errors == []


def test_the_banner_waits_for_a_body_held_back_by_a_slow_script(
        context: BrowserContext, collector: CollectorProcess, pages: PageServer) -> None:
    # The blocking script in <head> is answered only once the consent module and its
    # styles have loaded: the module is then ready while the page has no <body> yet.
    pages.collector = collector.url
    page = context.new_page()
    held: list[Route] = []
    page.route("**/slow-head.js", lambda route: held.append(route))
    with page.expect_response(lambda response: "/p/demo.js?b=" in response.url):
        page.goto(pages.page("slow-head.html"), wait_until="commit")
    assert page.evaluate("document.body") is None
    assert held, "the blocking script was never requested"
    held[0].fulfill(body="window.slowHeadRan = true;", content_type="application/javascript")
    expect(page.get_by_role("dialog")).to_be_visible()
    assert page.evaluate("window.slowHeadRan") is True
