"""A visitor arrives through a campaign link and buys: what the reports credit, in Chromium.

The demo shop (served by the collector under /demo/) is the campaign's landing page:
/go/demo/spring-sale counts a click and redirects there with the campaign's labels.
"""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from typing import Any, Callable

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from .conftest import CollectorProcess, PageServer, Visit
from .test_consent import choose


def secret_of(collector: CollectorProcess) -> str:
    """The admin secret `serve` generated, from the file it says it keeps it in."""
    match = re.search(r"admin secret: kept in (\S+)\)", "".join(collector.output))
    assert match, "".join(collector.output)
    return Path(match.group(1)).read_text().strip()


def api(collector: CollectorProcess, path: str) -> Any:
    request = urllib.request.Request(f"{collector.url}/api/v1/{path}",
                                     headers={"Authorization": f"Bearer {secret_of(collector)}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def flushed(collector: CollectorProcess, site: str = "demo") -> None:
    """Wait until everything the collector answered so far is in the store.

    An impression counts without consent, and these flows make none: once this one is
    stored, every hit answered before it is stored too, so what is missing then was
    never counted.
    """
    before = collector.counts(site).get("impression", 0)
    with urllib.request.urlopen(f"{collector.url}/i.gif?s={site}&utm_source=e2e"
                                "&utm_campaign=marker", timeout=10) as response:
        assert response.status == 200
    collector.wait_for(lambda: collector.counts(site).get("impression", 0) == before + 1)


def buy_through_campaign(context: BrowserContext, collector: CollectorProcess,
                         choice: str) -> Visit:
    """Land from the spring-sale link, decide, look at a product, add it, buy it."""
    seen = Visit(context.new_page(), collector)
    seen.page.goto(f"{collector.url}/go/demo/spring-sale")
    assert "utm_campaign=spring-sale" in seen.page.url
    choose(seen, choice)  # accept, reject, or analytics alone
    seen.page.get_by_role("link", name=re.compile("Yirgacheffe")).click()
    seen.page.get_by_role("button", name="Add to cart").click()
    seen.page.get_by_role("button", name="Buy now").click()
    expect(seen.page.get_by_role("heading", name=re.compile("Thank you"))).to_be_visible()
    seen.page.wait_for_load_state("networkidle")
    return seen


def stored_touch(seen: Visit) -> Any:
    return seen.page.evaluate("localStorage.getItem('cpx_touch')")


# choice -> purchases credited to spring-sale, and whether the browser keeps the touch
FLOWS = [
    ("accept", 1, True),
    ("analytics", 0, False),  # advertising refused
    ("reject", 0, False),
]


@pytest.mark.parametrize("choice, purchases, touch", FLOWS, ids=[f[0] for f in FLOWS])
def test_a_campaign_visit_that_buys(context: BrowserContext, collector: CollectorProcess,
                                    choice: str, purchases: int, touch: bool) -> None:
    seen = buy_through_campaign(context, collector, choice)
    flushed(collector)
    counts = collector.counts()
    assert counts.get("click") == 1  # the link counts without consent: no identifier
    assert counts.get("purchase", 0) == purchases
    assert ("purchase" in seen.events()) == bool(purchases)  # the tag held it back
    assert (stored_touch(seen) is not None) == touch
    if touch:
        assert "utm_campaign=spring-sale" in json.loads(stored_touch(seen))["q"]
    if purchases:
        (row,) = [r for r in collector.report("demo", "campaign") if r["event"] == "purchase"]
        assert (row["campaign"], row["count"], row["value"], row["currency"]) == (
            "spring-sale", 1, 14.9, "EUR")
        (funnel,) = [r for r in api(collector, "sites/demo/campaigns?days=1")["rows"]
                     if r["campaign"] == "spring-sale"]
        assert (funnel["clicks"], funnel["conversions"], funnel["conversion_rate"],
                funnel["value"]) == (1, 1, 1.0, {"EUR": 14.9})
    assert seen.errors == []


def test_a_reloaded_thank_you_page_counts_once(context: BrowserContext,
                                               collector: CollectorProcess) -> None:
    seen = buy_through_campaign(context, collector, "accept")
    seen.page.reload()
    seen.page.wait_for_load_state("networkidle")
    seen.page.go_back()  # the product page …
    seen.page.go_forward()  # … and the thank-you page once more
    seen.page.wait_for_load_state("networkidle")
    # The tag sent the purchase three times, with the same hashed order ID …
    purchases = [pixel for pixel in seen.fired() if pixel["e"] == "purchase"]
    assert len(purchases) == 3 and len({pixel["o"] for pixel in purchases}) == 1
    assert "A-" not in purchases[0]["o"] and "D-" not in purchases[0]["o"]
    flushed(collector)
    # … and the collector counted it once, with its value once.
    (row,) = [r for r in collector.report("demo") if r["event"] == "purchase"]
    assert (row["count"], row["value"]) == (1, 14.9)
    assert seen.errors == []


SHOP = """
[sites.shop]
origins = ["http://localhost:*"]
count_automation = true
exempt_events = {exempt}
"""


# exempt_events -> what a page without JavaScript gets counted
NOSCRIPT = [('["purchase"]', {"purchase": 1}), ("[]", {})]


@pytest.mark.parametrize("exempt, counted", NOSCRIPT, ids=["exempt", "not-exempt"])
def test_the_noscript_pixel_counts_only_exempt_events(
        browser: Browser, collector_with: Callable[[str], CollectorProcess], pages: PageServer,
        exempt: str, counted: dict[str, int]) -> None:
    running = collector_with(SHOP.format(exempt=exempt))
    pages.collector = running.url
    context = browser.new_context(java_script_enabled=False)
    requested: list[str] = []
    try:
        page = context.new_page()
        page.on("request", lambda request: requested.append(request.url))
        page.goto(pages.page("noscript.html"))
        page.wait_for_load_state("networkidle")
    finally:
        context.close()
    pixels = sorted(parse_qs(urlsplit(url).query)["e"][0] for url in requested
                    if "/p.gif?" in url)
    assert pixels == ["pageview", "purchase"]  # both images were requested …
    assert not any("/s/shop.js" in url for url in requested)  # … and no tag ran
    flushed(running, "shop")
    assert {event: n for event, n in running.counts("shop").items()
            if event != "impression"} == counted
