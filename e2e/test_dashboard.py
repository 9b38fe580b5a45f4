"""The dashboard in Chromium: it refuses strangers, and shows a campaign's sale after sign-in."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from playwright.sync_api import BrowserContext, ConsoleMessage, Dialog, Page, expect

from .conftest import CollectorProcess
from .test_campaigns import buy_through_campaign, flushed, secret_of

ARTIFACTS = Path(__file__).parent / "artifacts"


class Watch:
    """What a page must never do: log an error, break its CSP, or open a dialog."""

    def __init__(self, page: Page) -> None:
        self.errors: list[str] = []
        page.on("console", self.console)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("dialog", self.dialog)

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error":  # CSP violations are reported here too
            self.errors.append(message.text)

    def dialog(self, dialog: Dialog) -> None:
        self.errors.append(f"dialog: {dialog.message}")
        dialog.dismiss()


def sign_in(page: Page, collector: CollectorProcess, secret: str) -> None:
    page.goto(f"{collector.url}/dashboard")
    page.get_by_label("Admin secret").fill(secret)
    page.get_by_role("button", name="Sign in").click()


def sign_in_url(collector: CollectorProcess) -> str:
    """Where the dashboard sends a browser without a session (Starlette's requires())."""
    return f"{collector.url}/dashboard/login?" + urlencode({"next": f"{collector.url}/dashboard"})


def hit(collector: CollectorProcess, query: str, times: int = 1) -> None:
    request = urllib.request.Request(f"{collector.url}/{query}",
                                     headers={"Referer": collector.url + "/"})
    for _ in range(times):
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200


@pytest.mark.parametrize("secret", ["", "wrong", "not-the-secret-either"])
def test_the_dashboard_refuses_without_the_secret(context: BrowserContext,
                                                  collector: CollectorProcess, secret: str) -> None:
    page = context.new_page()
    watch = Watch(page)
    page.goto(f"{collector.url}/dashboard")
    expect(page).to_have_url(sign_in_url(collector))
    if secret:
        page.get_by_label("Admin secret").fill(secret)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_have_text("That is not the admin secret.")
        watch.errors = [e for e in watch.errors if "401" not in e]  # the refusal itself
    expect(page.locator("#campaigns")).to_have_count(0)
    assert [c["name"] for c in context.cookies()] in ([], ["cpx_login"])
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{collector.url}/api/v1/sites", timeout=10)
    assert refused.value.code == 401
    refused.value.close()
    assert watch.errors == []


def test_the_dashboard_shows_the_campaigns_sale(context: BrowserContext,
                                                collector: CollectorProcess) -> None:
    hit(collector, "i.gif?s=demo&utm_source=newsletter&utm_medium=email"
                   "&utm_campaign=spring-sale&utm_content=hero", times=19)
    buy_through_campaign(context, collector, "accept").page.close()
    flushed(collector)
    page = context.new_page()
    watch = Watch(page)
    sign_in(page, collector, secret_of(collector))
    expect(page.locator("#total-conversions")).to_have_text("1")
    expect(page.locator("#total-value")).to_have_text("€14.90")
    row = page.locator("#campaigns tbody tr", has_text="spring-sale")
    expect(row).to_contain_text("newsletter / email")
    expect(row.locator("td")).to_have_text([
        "newsletter / email", "spring-sale", "1", "19", "1", "5.3 %", "1", "100.0 %",
        "€14.90", "—", "—", "—"])
    expect(page.locator("#consents tbody tr", has_text="ads")).to_contain_text("100.0 %")
    bars = page.locator("svg.timeline rect.bar")
    assert bars.count() == 30  # the last 30 days by default, today last
    assert float(bars.last.get_attribute("height") or 0) > 0
    assert {bars.nth(i).get_attribute("height") for i in range(29)} == {"0.0"}

    # Spend recorded in the form turns into CPA and ROAS.
    form = page.locator("form.cost")
    form.get_by_label("Campaign").fill("spring-sale")
    form.get_by_label("Source").fill("newsletter")
    form.get_by_label("Medium").fill("email")
    form.get_by_label("Amount").fill("5")
    form.get_by_role("button", name="Record").click()
    expect(page.get_by_role("status")).to_have_text("Spend recorded.")
    expect(page.locator("#total-roas")).to_have_text("2.98×")
    expect(row.locator("td").nth(10)).to_have_text("€5.00")  # CPA: one sale for €5
    # The filters: days as the page writes them (ISO), the site selector as large.
    site, first = (page.locator(f".filters {field}").bounding_box()
                   for field in ("select", "input[name=from]"))
    assert site and first and site["height"] == first["height"]
    assert site["width"] >= first["width"]

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert watch.errors == []

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{collector.url}/dashboard/login")
    page.goto(f"{collector.url}/dashboard")
    expect(page).to_have_url(sign_in_url(collector))


HOSTILE = ["<script>alert(document.domain)</script>",
           "\"><img src=x onerror=alert(1)>",
           "</title><svg onload=alert(1)>"]


def test_labels_from_visitors_stay_text(context: BrowserContext,
                                        collector: CollectorProcess) -> None:
    for payload in HOSTILE:
        value = quote(payload, safe="")
        hit(collector, f"p.gif?s=demo&e=signup&a=ads&p=%2F{value}&utm_source={value}"
                       f"&utm_medium={value}&utm_campaign={value}&r={value}", times=3)
    flushed(collector)
    page = context.new_page()
    watch = Watch(page)
    sign_in(page, collector, secret_of(collector))
    expect(page.locator("#total-conversions")).to_have_text("9")
    for payload in HOSTILE:
        expect(page.locator("#campaigns td.campaign", has_text=payload)).to_have_count(1)
    assert page.evaluate("document.scripts.length") == 0
    assert page.locator("#campaigns img, #campaigns svg, #pages img").count() == 0
    assert watch.errors == []  # no dialog opened, no CSP violation reported
