"""The demo shop that `consentpixel serve` runs without a config, in real Chromium."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, expect

from .conftest import CollectorProcess, Visit


def test_the_demo_shop_counts_a_whole_visit(context: BrowserContext,
                                            collector: CollectorProcess) -> None:
    seen = Visit(context.new_page(), collector)
    page = seen.page
    page.goto(collector.url + "/demo/")
    page.get_by_role("dialog").get_by_role("button", name="Accept all").click()
    page.get_by_role("link", name="House espresso").click()
    page.get_by_role("button", name="Add to cart").click()
    page.get_by_role("button", name="Buy now").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Thank you")
    page.reload()  # the same order again: counted once
    expect(page.get_by_role("heading", level=1)).to_contain_text("Thank you")
    page.get_by_label("Coffee news, once a month").fill("grace.hopper@navy.example")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.locator(".flash")).to_be_visible()
    assert "grace" not in page.url and "navy" not in page.url  # posted, never in a URL
    expected = {"pageview": 5, "add_to_cart": 1, "begin_checkout": 1, "purchase": 1,
                "signup": 1}
    collector.wait_for(lambda: collector.counts() == expected)
    (purchase,) = [row for row in collector.report() if row["event"] == "purchase"]
    assert (purchase["value"], purchase["currency"]) == (49.9, "EUR")
    assert [p["e"] for p in seen.fired()].count("purchase") == 2  # sent twice, counted once
    stored = collector.stored_bytes()
    assert b"grace.hopper" not in stored and b"navy.example" not in stored
    assert seen.errors == []
