"""A hit becomes a cell, or a reason for not counting it."""

from __future__ import annotations

from typing import Any, Mapping
from urllib.parse import urlencode

import pytest

from consentpixel import config as config_module
from consentpixel.buffer import Buffer, Cell
from consentpixel.config import Config, Link
from consentpixel.ingest import Drop, Ingest, parse_minor_units, parse_query

from .helpers import ORIGIN, headers, hit

NOW = 1_795_900_000.0  # 2026-11-28T18:…Z
HOUR = int(NOW) // 3600 * 3600


def site_config(**site: Any) -> Config:
    body = {"origins": ["https://shop.example"], **site}
    return config_module.parse({"sites": {"shop": body}})


@pytest.fixture
def ingest(demo_config: Config) -> Ingest:
    return Ingest(demo_config, Buffer(), salt=b"test-salt")


def query(params: Mapping[str, Any]) -> bytes:
    """The query string of a pixel request carrying params."""
    return urlencode(params).encode()


def cells(ingest: Ingest) -> dict[Cell, list[int]]:
    return ingest.buffer.batch.cells


def test_a_page_view_becomes_a_cell(ingest: Ingest) -> None:
    ingest.pixel(query(hit(p="/products/beans", r="www.google.com")), headers(), now=NOW)
    assert cells(ingest) == {
        Cell(site="demo", period=HOUR, event="pageview", path="/products/beans",
             source="google", medium="organic", device="desktop"): [1, 0]}
    assert ingest.accepted == 1


def test_values_are_rounded_to_the_currency_and_summed(ingest: Ingest) -> None:
    for value in ("49.90", "10.005", "0.1"):
        ingest.pixel(query(hit(e="purchase", v=value, c="eur")), headers(), now=NOW)
    ingest.pixel(query(hit(e="purchase", v="1000", c="JPY")), headers(), now=NOW)
    by_currency = {cell.currency: entry for cell, entry in cells(ingest).items()}
    assert by_currency == {"EUR": [3, 4990 + 1000 + 10], "JPY": [1, 1000]}


def test_a_value_without_currency_takes_the_site_default(ingest: Ingest) -> None:
    ingest.pixel(query(hit(e="purchase", v="5")), headers(), now=NOW)
    (cell,) = cells(ingest)
    assert cell.currency == "EUR"


@pytest.mark.parametrize("raw", ["nan", "inf", "-1", "1e308", "1e3", "12,50", "99999999999",
                                 "0x10", "1_000", " 5", ""])
def test_malformed_values_are_refused(raw: str) -> None:
    with pytest.raises(Drop) as refused:
        parse_minor_units(raw, "EUR")
    assert refused.value.reason == "value"


def test_bounds_and_minor_units() -> None:
    assert parse_minor_units("10000000", "EUR") == 1_000_000_000
    assert parse_minor_units("1.2345", "BHD") == 1234
    assert parse_minor_units("1.5", "JPY") == 2


@pytest.mark.parametrize("params, header, reason", [
    ({"s": "nope"}, {}, "site"),
    ({}, {"referer": "https://evil.example/"}, "origin"),
    ({}, {"referer": ""}, "origin"),
    ({"e": "signup_hedy.lamarr@film.example"}, {}, "event"),
    ({"e": "never_declared"}, {}, "event"),
    ({"e": ""}, {}, "event"),
    ({"a": "analytics"}, {}, "consent"),            # ads not granted, purchase needs ads
    ({"a": None}, {}, "consent"),                   # no tag: a <noscript> pixel
    ({}, {"gpc": True}, "gpc"),                     # ads under GPC, not turned on explicitly
    ({"c": "XYZ", "v": "5"}, {}, "currency"),
    ({"v": "-5"}, {}, "value"),
])
def test_drop_reasons(params: dict[str, Any], header: dict[str, Any], reason: str) -> None:
    config = site_config()
    ingest = Ingest(config, Buffer())
    base = {"s": "shop", "e": "purchase", "a": "analytics-ads", **params}
    base = {key: value for key, value in base.items() if value is not None}
    with pytest.raises(Drop) as dropped:
        ingest.pixel(query(base), headers(**{"referer": "https://shop.example/cart", **header}),
                     now=NOW)
    assert dropped.value.reason == reason
    assert not ingest.buffer.batch.cells and not ingest.buffer.batch.orders


def test_explicit_ads_consent_under_gpc_is_counted() -> None:
    ingest = Ingest(site_config(), Buffer())
    ingest.pixel(query({"s": "shop", "e": "purchase", "a": "analytics-ads", "x": "1"}),
               headers(referer="https://shop.example/", gpc=True), now=NOW)
    assert ingest.accepted == 1


def test_gpc_does_not_touch_analytics() -> None:
    ingest = Ingest(site_config(), Buffer())
    ingest.pixel(query({"s": "shop", "e": "pageview", "a": "analytics"}),
               headers(referer="https://shop.example/", gpc=True), now=NOW)
    assert ingest.accepted == 1


def test_noscript_pixels_count_only_exempt_events() -> None:
    ingest = Ingest(site_config(exempt_events=["signup"]), Buffer())
    shop = headers(referer="https://shop.example/")
    ingest.pixel(query({"s": "shop", "e": "signup"}), shop, now=NOW)
    with pytest.raises(Drop):
        ingest.pixel(query({"s": "shop", "e": "purchase"}), shop, now=NOW)
    assert ingest.accepted == 1


@pytest.mark.parametrize("agent, webdriver", [
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/130.0", None),
    ("Googlebot/2.1 (+http://www.google.com/bot.html)", None),
    ("curl/8.5.0", None),
    ("", None),
    ("Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0 Safari/537.36", "1"),
])
def test_automation_is_not_counted_unless_the_site_says_so(agent: str,
                                                           webdriver: str | None) -> None:
    params = {"s": "shop", "e": "pageview", "a": "analytics"}
    if webdriver:
        params["w"] = webdriver
    counted = Ingest(site_config(count_automation=True), Buffer())
    refused = Ingest(site_config(), Buffer())
    head = headers(referer="https://shop.example/", agent=agent)
    counted.pixel(query(params), head, now=NOW)
    with pytest.raises(Drop) as dropped:
        refused.pixel(query(params), head, now=NOW)
    assert dropped.value.reason == "automation"
    assert counted.accepted == 1


def test_origins_with_wildcards() -> None:
    config = site_config(origins=["https://*.shop.example", "http://localhost:*"])
    site = config.sites["shop"]
    assert site.allows_origin("https://www.shop.example")
    assert site.allows_origin("https://shop.example") is False
    assert site.allows_origin("http://localhost:5173")
    assert not site.allows_origin("https://shop.example.evil.example")
    assert not site.allows_origin("https://evilshop.example")
    assert not site.allows_origin("http://www.shop.example")


def test_orders_are_kept_as_salted_digests_only(ingest: Ingest) -> None:
    order = "ORDER-katherine.johnson@nasa.example"
    ingest.pixel(query(hit(e="purchase", v="10", c="EUR", o=order)), headers(), now=NOW)
    ingest.pixel(query(hit(e="purchase", v="10", c="EUR", o=order)), headers(), now=NOW)
    ((site, digest), (cell, value)), = ingest.buffer.batch.orders.items()
    assert site == "demo" and order not in digest and len(digest) == 32
    assert ingest.digest("demo", order, cell, value) == digest
    assert Ingest(ingest.config, Buffer(), salt=b"other").digest("demo", order, cell, value
                                                                 ) != digest


# what the second conversion with the same order ID changes -> conversions kept
SECOND_SIGHTINGS = [
    ({}, 1),  # a reload of the thank-you page
    ({"p": "/account/orders"}, 1),  # the same conversion seen from another page
    ({"v": "0.01"}, 2),  # a first sighting sent by someone else, for a cent
    ({"utm_campaign": "evil", "utm_source": "evil"}, 2),  # credit for another campaign
    ({"c": "USD"}, 2),
    ({"e": "signup"}, 2),
]


@pytest.mark.parametrize("changed, kept", SECOND_SIGHTINGS)
def test_a_repeated_order_suppresses_only_the_same_conversion(
        ingest: Ingest, changed: dict[str, str], kept: int) -> None:
    first = hit(e="purchase", v="49.90", c="EUR", o="1001", p="/thanks",
                utm_source="newsletter", utm_medium="email", utm_campaign="spring-sale")
    ingest.pixel(query(first), headers(), now=NOW)
    ingest.pixel(query({**first, **changed}), headers(), now=NOW)
    assert len(ingest.buffer.batch.orders) == kept
    assert ingest.accepted - ingest.buffer.repeats == kept


def test_query_parsing_is_bounded_and_tolerant() -> None:
    assert parse_query(b"s=demo&e=pageview&e=purchase") == {"s": "demo", "e": "pageview"}
    assert parse_query(b"p=%2Fa%20b&x=%ff%00") == {"p": "/a b", "x": "\ufffd\x00"}
    assert parse_query(b"a&=b&c=") == {"a": "", "c": ""}
    for raw in (b"x=" + b"a" * 5000, b"&".join(b"k%d=1" % i for i in range(100))):
        with pytest.raises(Drop):
            parse_query(raw)


def test_consent_decisions_are_tallied(ingest: Ingest) -> None:
    ingest.consent(query({"s": "demo", "y": "analytics", "n": "ads-bogus"}), headers(),
                   now=NOW)
    assert dict(ingest.buffer.batch.consents) == {
        ("demo", int(NOW) // 86400 * 86400, "analytics", "granted"): 1,
        ("demo", int(NOW) // 86400 * 86400, "ads", "refused"): 1}


def test_impressions_need_a_campaign_and_no_origin(ingest: Ingest) -> None:
    ingest.impression(query({"s": "demo", "utm_campaign": "spring", "utm_source": "newsletter",
                             "utm_content": "hero"}), headers(referer=""), now=NOW)
    with pytest.raises(Drop):
        ingest.impression(query({"s": "demo"}), headers(referer=""), now=NOW)
    (cell,) = cells(ingest)
    assert (cell.event, cell.campaign, cell.content) == ("impression", "spring", "hero")


def test_a_click_link_counts_a_click_with_the_labels_cleaned(ingest: Ingest) -> None:
    site = ingest.sites["demo"]
    link = Link("spring", "https://shop.example/", source="", medium="E-Mail",
                campaign="  Spring   Sale ", content="hedy.lamarr@film.example")
    ingest.click(site, link, headers(referer=""), client="203.0.113.7", now=NOW)
    assert cells(ingest) == {
        Cell(site="demo", period=HOUR, event="click", source="(not set)", medium="e-mail",
             campaign="spring sale", content=":email", device="desktop"): [1, 0]}
    assert ingest.accepted == 1


def test_a_click_not_counted_counts_its_reason_instead() -> None:
    ingest = Ingest(site_config(), Buffer())
    site = ingest.sites["shop"]
    link = Link("spring", "https://shop.example/", "newsletter", "email", "spring")
    ingest.click(site, link, headers(agent="curl/8.5.0"), now=NOW)  # raises nothing
    assert (ingest.accepted, ingest.dropped["automation"]) == (0, 1)
    assert not cells(ingest)


def test_rate_limit_forgets_clients_every_minute() -> None:
    ingest = Ingest(site_config(rate_limit=2), Buffer())
    params = {"s": "shop", "e": "pageview", "a": "analytics"}
    head = headers(referer="https://shop.example/")
    ingest.pixel(query(params), head, client="203.0.113.7", now=NOW)
    ingest.pixel(query(params), head, client="203.0.113.7", now=NOW)
    with pytest.raises(Drop) as dropped:
        ingest.pixel(query(params), head, client="203.0.113.7", now=NOW)
    assert dropped.value.reason == "rate_limit"
    ingest.pixel(query(params), head, client="198.51.100.1", now=NOW)
    ingest.pixel(query(params), head, client="203.0.113.7", now=NOW + 60)
    assert ingest.accepted == 4
    assert all(isinstance(key, int) for key in ingest.limiter.counts)  # no address kept
    assert ORIGIN  # the demo origin is loopback; the rate limit is per site
