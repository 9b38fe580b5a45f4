"""Personal data on the page never reaches the store: checked in the store's bytes."""

from __future__ import annotations

import random
from typing import Callable
from urllib.parse import quote, urlencode

from playwright.sync_api import BrowserContext, expect

from consentpixel.decoding import decoded
from tests import pii_corpus as corpus
from tests.helpers import PII_CASES

from .conftest import CollectorProcess, PageServer, Visit
from .test_consent import choose


def test_personal_data_on_the_page_stays_out_of_the_store(
        visit: Callable[..., Visit], collector: CollectorProcess, pages: PageServer) -> None:
    # Land with personal data in the path, the query, the fragment and the referrer.
    landing = (pages.page("pii.html") + "?email=ada.lovelace%2Bnews%40analytical.example"
               "&tel=%2B49%2030%20123456&iban=DE89370400440532013000&first_name=Grace"
               "&last_name=Hopper&zip=10001&utm_source=mail&utm_campaign=winter"
               "&fbclid=IwAR2xYz0ABCdefGHIjkl&msclkid=3f2a1b0c9d8e"
               "&session=eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJ1aWQiOjQyfQ.sig"
               "#access_token=ya29.a0AfH6SMBx")
    seen = visit("about:blank")
    seen.page.goto(landing, referer="https://mail.example/inbox?search="
                                    "alan.turing%40bletchley.example")
    choose(seen, "accept")
    seen.page.click("#track")
    seen.page.click("#form button")
    seen.page.wait_for_url("**/pii.html?email=*")
    expect(seen.page.get_by_role("heading")).to_be_visible()
    seen.page.wait_for_function("window.cpx && cpx('consent').decided")
    for path in ("/account/marie.curie@sorbonne.example/orders",
                 "/invoice/5500-0000-0000-0004/pdf", "/reset/9f8e7d6c5b4a39281706f5e4d3c2b1a0",
                 "/users/550e8400-e29b-41d4-a716-446655440000/profile",
                 "/customer/00493012345678", "/u/MARIE.CURIE%40SORBONNE.EXAMPLE"):
        seen.page.evaluate("p => history.pushState({}, '', p)", path)
    seen.settle()
    # What left the browser was already clean:
    sent = " ".join(p["url"] for p in seen.pixels).lower()
    collector.wait_for(lambda: collector.counts().get("purchase", 0) >= 1
                       and collector.counts().get("pageview", 0) >= 8)
    stored = collector.stored_bytes()
    for case in PII_CASES:
        for absent in case["absent"]:
            assert absent.encode() not in stored, (case["where"], absent)
            if case["where"] not in ("header", "ip"):
                assert absent not in sent, (case["where"], absent)
    paths = {row["path"] for row in collector.report("demo", "path")}
    assert {"/account/:email/orders", "/invoice/:id/pdf", "/users/:uuid/profile",
            "/customer/:id", "/u/:email", "/pii.html"} <= paths
    sources = {row["source"] for row in collector.report("demo", "source")}
    assert "mail" in sources  # the allowed utm_source survived, lowercased
    assert seen.errors == []


CROWD_SITE = """
[sites.demo]
origins = ["http://localhost:*"]
count_automation = true
min_count = 1
paths = ["/account/:user/*"]
"""
TAG_PLACES = ("path", "utm_source", "utm_medium", "utm_campaign", "utm_content",
              "referrer_url", "query", "fragment")
VISITS = 5


def test_realistic_personal_data_through_the_tag_is_stored_by_no_crowd(
        context: BrowserContext, collector_with: Callable[[str], CollectorProcess],
        pages: PageServer) -> None:
    # One browser is one client: under the crowd rule (k = 3) none of its free text
    # may be stored, in any place, whatever the tag let through; every hit still counts.
    collector = collector_with(CROWD_SITE)
    pages.collector = collector.url
    rng = random.Random(12)
    plantings = [p for p in corpus.build(seed=12, k=3, limit=False, places=TAG_PLACES)
                 if p.personal]
    sample = rng.sample(plantings, VISITS * 10)
    page = context.new_page()
    seen = Visit(page, collector)
    for index in range(VISITS):
        batch = sample[index * 10:(index + 1) * 10]
        page.goto(landing(pages, batch), referer=referrer(batch))
        if index == 0:
            choose(seen, "accept")
        page.wait_for_function("window.cpx && cpx('consent').decided")
        for planting in batch:
            if planting.place == "path":
                path = corpus.path_for(planting.kind, quote(planting.encoded(), safe=""))
                page.evaluate("p => history.pushState({}, '', p)", path)
    seen.settle()
    fired = len(seen.fired())
    collector.wait_for(lambda: collector.counts().get("pageview", 0) == fired)
    # The store's bytes and the collector's log, as sent and as a reader would decode them.
    kept = collector.stored_bytes() + "".join(collector.output).lower().encode()
    kept += decoded(kept.decode("utf-8", "replace")).lower().encode()
    for planting in sample:
        for fragment in planting.fragments():
            assert fragment.encode() not in kept, (planting.kind, planting.place, fragment)
    assert seen.errors == []


def landing(pages: PageServer, batch: list[corpus.Planting]) -> str:
    """corpus.html with the batch's labels, query and fragment values in its URL."""
    params = {p.place: p.encoded() for p in batch if p.place.startswith("utm_")}
    params.update({"email": p.encoded() for p in batch if p.place == "query"})
    fragment = next((p.encoded() for p in batch if p.place == "fragment"), "top")
    return pages.page("corpus.html") + "?" + urlencode(params) + "#" + quote(fragment)


def referrer(batch: list[corpus.Planting]) -> str:
    value = next((p.encoded() for p in batch if p.place == "referrer_url"), "")
    return "https://mail.example.net/inbox?search=" + quote(value, safe="")
