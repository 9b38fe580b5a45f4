"""The dashboard: sign-in, CSRF, escaping of what visitors send, the figures shown."""

from __future__ import annotations

import html
import time
from dataclasses import replace
from html.parser import HTMLParser
from typing import Iterator
from urllib.parse import quote, urlencode

import pytest
from starlette.testclient import TestClient

from consentpixel import auth
from consentpixel.app import create_app
from consentpixel.config import COLLECTOR_DEFAULTS, Config
from consentpixel.store import open_store

from .helpers import DAY, ORIGIN, T0, cell, seed

SECRET = "s3cret-for-tests"
MARCH = "from=2026-03-01&to=2026-03-31"


class Page(HTMLParser):
    """What a test needs from a page: its elements, and the text inside ids."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.texts: dict[str, str] = {}
        self.open_ids: list[tuple[str, int]] = []
        self.depth = 0
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self.handle_data(" ")  # cells and blocks read as separate words
        if tag in ("input", "meta", "link", "br", "img"):
            return
        self.depth += 1
        ids = dict(attrs).get("id")
        if ids:
            self.open_ids.append((ids, self.depth))
            self.texts[ids] = ""

    def handle_endtag(self, tag: str) -> None:
        while self.open_ids and self.open_ids[-1][1] >= self.depth:
            self.open_ids.pop()
        self.depth -= 1

    def handle_data(self, data: str) -> None:
        for name, _ in self.open_ids:
            self.texts[name] += data

    def text(self, element_id: str) -> str:
        return " ".join(self.texts[element_id].split())

    def all(self, tag: str, css_class: str = "") -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.elements if name == tag and
                css_class in (attrs.get("class") or "").split() + [""]]


@pytest.fixture
def config(demo_config: Config) -> Config:
    return replace(demo_config, admin_secret=SECRET)


@pytest.fixture
def app_client(config: Config) -> Iterator[TestClient]:
    store = open_store(config.db)
    seed(store, {
        cell("impression", "spring-sale"): (400, 0),
        cell("click", "spring-sale"): (20, 0),
        cell("pageview", "spring-sale", path="/demo/"): (18, 0),
        cell("add_to_cart", "spring-sale", currency="EUR"): (6, 8940),
        cell("purchase", "spring-sale", path="/demo/thanks", currency="EUR"): (4, 19960),
        cell("signup", "spring-sale", period=T0 + DAY): (2, 0),
    })
    store.close()
    with TestClient(create_app(config), base_url=ORIGIN) as client:
        yield client


def sign_in(client: TestClient, secret: str = SECRET) -> int:
    form = Page(client.get("/dashboard/login").text)
    (csrf,) = [a["value"] for t, a in form.elements if t == "input" and a["name"] == "csrf"]
    response = client.post("/dashboard/login", data={"csrf": csrf, "secret": secret},
                           follow_redirects=False)
    return response.status_code


@pytest.fixture
def signed_in(app_client: TestClient) -> TestClient:
    assert sign_in(app_client) == 303
    return app_client


def csrf_of(client: TestClient, query: str = MARCH) -> str:
    page = Page(client.get(f"/dashboard?{query}").text)
    return next(a["value"] or "" for t, a in page.elements
                if t == "input" and a.get("name") == "csrf")


def sign_in_url(requested: str) -> str:
    """Where Starlette's requires() sends a request without the admin scope."""
    return f"{ORIGIN}/dashboard/login?" + urlencode({"next": ORIGIN + requested})


# -- signing in ----------------------------------------------------------------------------


def test_without_a_session_the_dashboard_sends_to_sign_in(app_client: TestClient) -> None:
    response = app_client.get(f"/dashboard?{MARCH}", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (
        303, sign_in_url(f"/dashboard?{MARCH}"))
    assert "spring-sale" not in response.text
    app_client.cookies.set(auth.COOKIE, "9999999999.forged")
    assert app_client.get("/dashboard", follow_redirects=False).status_code == 303


def test_signing_in_sets_a_strict_http_only_session(app_client: TestClient) -> None:
    form = app_client.get("/dashboard/login")
    assert form.status_code == 200
    assert "httponly" in form.headers["set-cookie"].lower()
    (csrf,) = [a["value"] for t, a in Page(form.text).elements
               if t == "input" and a["name"] == "csrf"]
    response = app_client.post("/dashboard/login", data={"csrf": csrf, "secret": SECRET},
                               follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, ORIGIN + "/dashboard")
    session = next(c for c in response.headers.get_list("set-cookie")
                   if c.startswith(auth.COOKIE + "="))
    flags = {part.strip().lower() for part in session.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/"} <= flags
    assert not any(flag.startswith("secure") for flag in flags)  # plain http here
    page = app_client.get(f"/dashboard?{MARCH}")
    assert page.status_code == 200 and "spring-sale" in page.text


@pytest.mark.parametrize("secret, status, message", [
    ("wrong", 401, "That is not the admin secret."),
    ("", 401, "That is not the admin secret."),
    (SECRET + "x", 401, "That is not the admin secret."),
])
def test_a_wrong_secret_is_refused(app_client: TestClient, secret: str, status: int,
                                   message: str) -> None:
    form = Page(app_client.get("/dashboard/login").text)
    csrf = next(a["value"] for t, a in form.elements if t == "input" and a["name"] == "csrf")
    response = app_client.post("/dashboard/login", data={"csrf": csrf, "secret": secret},
                               follow_redirects=False)
    assert response.status_code == status and message in response.text
    assert auth.COOKIE not in app_client.cookies
    assert app_client.get("/dashboard", follow_redirects=False).status_code == 303


def test_signing_in_needs_the_forms_token(app_client: TestClient) -> None:
    app_client.get("/dashboard/login")
    response = app_client.post("/dashboard/login", data={"csrf": "forged", "secret": SECRET},
                               follow_redirects=False)
    assert response.status_code == 400 and "expired" in response.text
    app_client.cookies.clear()  # no login cookie: a cross-site post has none
    response = app_client.post("/dashboard/login", data={"csrf": "", "secret": SECRET},
                               follow_redirects=False)
    assert response.status_code == 400
    assert auth.COOKIE not in app_client.cookies


def test_guessing_is_slowed_down(app_client: TestClient,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "clock", lambda: 1_800_000_030.0)  # within one minute
    for _ in range(COLLECTOR_DEFAULTS["admin_max_failures"]):
        assert sign_in(app_client, "guess") == 401
    assert sign_in(app_client, SECRET) == 429  # even the right one, for this minute
    monkeypatch.setattr(auth, "clock", lambda: 1_800_000_090.0)  # the next minute
    assert sign_in(app_client, SECRET) == 303


def test_signing_out(signed_in: TestClient) -> None:
    refused = signed_in.post("/dashboard/logout", data={"csrf": "forged"},
                             follow_redirects=False)
    assert refused.status_code == 400
    response = signed_in.post("/dashboard/logout", data={"csrf": csrf_of(signed_in)},
                              follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (
        303, ORIGIN + "/dashboard/login")
    assert auth.COOKIE not in signed_in.cookies
    assert signed_in.get("/dashboard", follow_redirects=False).status_code == 303


def test_a_signed_out_session_stays_out(signed_in: TestClient) -> None:
    session, token = signed_in.cookies[auth.COOKIE], csrf_of(signed_in)
    assert signed_in.post("/dashboard/logout", data={"csrf": token},
                          follow_redirects=False).status_code == 303
    signed_in.cookies.set(auth.COOKIE, session)  # a copy kept somewhere
    assert signed_in.get("/dashboard", follow_redirects=False).status_code == 303
    refused = signed_in.post("/dashboard/costs", data={
        "csrf": token, "site": "demo", "day": "2026-03-02", "source": "x", "medium": "y",
        "campaign": "z", "amount": "5"}, follow_redirects=False)
    assert refused.status_code == 303 and "/dashboard/login" in refused.headers["location"]


def test_each_sign_in_is_a_session_of_its_own(app_client: TestClient,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "time", lambda: 1_800_000_000.0)  # one and the same second
    assert sign_in(app_client) == 303
    first = app_client.cookies[auth.COOKIE]
    app_client.cookies.clear()
    assert sign_in(app_client) == 303
    assert app_client.cookies[auth.COOKIE] != first


def test_the_right_secret_clears_the_clients_failures(app_client: TestClient) -> None:
    for _ in range(COLLECTOR_DEFAULTS["admin_max_failures"] - 1):
        assert sign_in(app_client, "guess") == 401
    assert sign_in(app_client) == 303
    app_client.cookies.clear()
    assert sign_in(app_client, "guess") == 401
    assert sign_in(app_client) == 303  # the count began again


# -- the page --------------------------------------------------------------------------------


def test_the_page_runs_under_a_strict_csp(signed_in: TestClient) -> None:
    response = signed_in.get(f"/dashboard?{MARCH}")
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert "script-src" not in csp  # default-src 'none' already forbids every script
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY"
    page = Page(response.text)
    assert page.all("script") == [] and page.all("style") == []
    assert not [a for _, a in page.elements if "style" in a or any(k.startswith("on")
                                                                    for k in a)]
    stylesheets = [a["href"] for a in page.all("link") if a.get("rel") == "stylesheet"]
    assert stylesheets == [f"{ORIGIN}/static/dashboard.css"]
    css = signed_in.get("/static/dashboard.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


def test_the_figures(signed_in: TestClient) -> None:
    page = Page(signed_in.get(f"/dashboard?{MARCH}").text)
    assert page.text("total-conversions") == "6"  # 4 purchases + 2 sign-ups, no carts
    assert page.text("total-value") == "€199.60"
    campaigns = page.text("campaigns")
    # source / medium, campaign, page views, impressions, clicks, CTR, conversions, …
    assert "newsletter / email spring-sale 18 400 20 5.0 % 6 30.0 % €199.60" in campaigns
    assert "add_to_cart step 6 €89.40" in page.text("events")
    assert "purchase conversion 4 €199.60" in page.text("events")


def test_the_chart_draws_a_bar_per_day_or_hour(signed_in: TestClient) -> None:
    month = Page(signed_in.get(f"/dashboard?{MARCH}").text)
    bars = month.all("rect", "bar")
    assert len(bars) == 31
    heights = [float(bar["height"] or 0) for bar in bars]
    assert heights[0] > heights[1] > 0 and set(heights[2:]) == {0.0}  # 4, then 2, then 0
    day = Page(signed_in.get("/dashboard?from=2026-03-01&to=2026-03-01").text)
    assert len(day.all("rect", "bar")) == 24
    assert "per hour" in day.text("chart-title")


def test_filters(signed_in: TestClient) -> None:
    later = Page(signed_in.get("/dashboard?from=2026-03-02&to=2026-03-31").text)
    assert later.text("total-conversions") == "2"
    for query, error in (("from=someday", "from: 'someday' is not a day"),
                         ("site=elsewhere", "site: there is no site 'elsewhere'"),
                         ("from=2026-03-09&to=2026-03-01", "is after to"),
                         ("from=2025-01-01&to=2026-03-01", "at most 400 days")):
        response = signed_in.get(f"/dashboard?{query}")
        assert response.status_code == 400 and error in html.unescape(response.text)


def test_consent_rates_are_shown(signed_in: TestClient) -> None:
    for granted in ("analytics-ads", "analytics", "analytics", "analytics"):
        signed_in.get(f"/c.gif?s=demo&y={granted}&n={'' if 'ads' in granted else 'ads'}",
                      headers={"Referer": ORIGIN + "/"})
    deadline = time.monotonic() + 5
    while "analytics 4 0" not in Page(signed_in.get("/dashboard").text).text("consents"):
        assert time.monotonic() < deadline, "the decisions were not flushed"
        time.sleep(0.1)
    rates = Page(signed_in.get("/dashboard").text).text("consents")
    assert "analytics 4 0 100.0 %" in rates and "ads 1 3 25.0 %" in rates


# -- recording spend -------------------------------------------------------------------------


def cost_form(csrf: str, **changes: str) -> dict[str, str]:
    return {"csrf": csrf, "site": "demo", "from": "2026-03-01", "to": "2026-03-31",
            "campaign": "spring-sale", "source": "newsletter", "medium": "email",
            "day": "2026-03-01", "amount": "49.90", "currency": "", **changes}


def test_recording_spend_shows_cpa_and_roas(signed_in: TestClient) -> None:
    response = signed_in.post("/dashboard/costs", data=cost_form(csrf_of(signed_in)),
                              follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == (
        f"{ORIGIN}/dashboard?site=demo&{MARCH}&recorded=1")
    html = signed_in.get(response.headers["location"]).text
    page = Page(html)
    assert "Spend recorded." in html
    assert page.text("total-roas") == "4.00×"
    assert "€49.90 €8.32 4.00×" in page.text("campaigns")  # cost, CPA, ROAS
    assert "2026-03-01 spring-sale newsletter / email €49.90" in page.text("costs")


@pytest.mark.parametrize("token", ["", "forged"])
def test_recording_spend_needs_the_csrf_token(signed_in: TestClient, token: str) -> None:
    response = signed_in.post("/dashboard/costs", data=cost_form(token),
                              follow_redirects=False)
    assert response.status_code == 400
    assert "id=\"costs\"" not in signed_in.get(f"/dashboard?{MARCH}").text


def test_recording_spend_needs_a_session(app_client: TestClient) -> None:
    response = app_client.post("/dashboard/costs", data=cost_form("x"),
                               follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (
        303, sign_in_url("/dashboard/costs"))


def test_bad_spend_is_explained_and_the_form_kept(signed_in: TestClient) -> None:
    response = signed_in.post("/dashboard/costs", data=cost_form(
        csrf_of(signed_in), amount="12,50", campaign="<b>spring</b>"))
    assert response.status_code == 400
    assert "amount: &#39;12,50&#39; is not an amount like 120.50" in response.text
    assert 'value="&lt;b&gt;spring&lt;/b&gt;"' in response.text


# -- stored XSS through the pixel --------------------------------------------------------------

PAYLOADS = ["<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>",
            "'><svg onload=alert(1)>", "</title><script>alert(1)</script>",
            "javascript:alert(1)"]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_what_visitors_send_is_escaped_everywhere(signed_in: TestClient,
                                                  payload: str) -> None:
    hostile = quote(payload, safe="")
    sent = (f"/p.gif?s=demo&e=purchase&a=analytics-ads&v=10&c=EUR&p=%2F{hostile}"
            f"&utm_source={hostile}&utm_medium={hostile}&utm_campaign={hostile}"
            f"&utm_content={hostile}&r={hostile}")
    for _ in range(3):  # enough hits to be shown, not merged away
        signed_in.get(sent, headers={"Referer": ORIGIN + "/"})
    deadline = time.monotonic() + 5
    while Page(signed_in.get("/dashboard").text).text("total-value") != "€30.00":
        assert time.monotonic() < deadline, "the hits were not flushed"
        time.sleep(0.1)
    shown = signed_in.get("/dashboard").text
    page = Page(shown)
    assert page.all("script") == [] and page.all("img") == []
    assert not [a for _, a in page.elements if any(k.startswith("on") for k in a)]
    assert not [a for _, a in page.elements
                if "javascript:" in (a.get("href") or "") + (a.get("src") or "")]
    if "<" in payload:
        assert payload.lower() not in shown.lower()
    # The label is on the page, as text: escaped, not dropped.
    assert payload.lower() in page.text("campaigns")


def test_the_icon(app_client: TestClient) -> None:
    response = app_client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert response.text.startswith("<svg")


def test_dates_are_iso_and_merged_rows_are_said(signed_in: TestClient, config: Config) -> None:
    store = open_store(config.db)
    seed(store, {cell("signup", "whisper"): (1, 0)})  # a rare campaign: merged
    store.close()
    html = signed_in.get(f"/dashboard?{MARCH}").text
    page = Page(html)
    dates = [a for t, a in page.elements if t == "input" and a.get("type") != "hidden"
             and a.get("name") in ("from", "to", "day")]
    assert [a.get("value") for a in dates] == ["2026-03-01", "2026-03-31", "2026-03-31"]
    assert all(a.get("type") is None and a.get("placeholder") == "YYYY-MM-DD" for a in dates)
    assert 'type="date"' not in html  # the browser's locale would show 03/01/2026
    assert ("1 label combination with fewer than 3 hits merged into (other), so that small "
            "groups of visitors are not shown apart (min_count; totals are exact).") in html
    assert "(other) 0 0 0" in page.text("campaigns")  # its page views, impressions, clicks
