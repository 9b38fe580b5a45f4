"""Whose a request is (the tag's, a tracker's, first or third party), what it carries,
and the cookies and storage keys a page leaves."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from consentpixel.audit import trackers
from consentpixel.audit.model import Stored
from consentpixel.audit.traffic import Classifier, Raw, same_site, site_of

from .helpers import CLASSIFIER, COLLECTOR, PAGE, SETTINGS


@pytest.mark.parametrize("url, kind", [
    (COLLECTOR + "t.js", "tag"), (COLLECTOR + "b.js?v=1", "tag"), (COLLECTOR + "b.css?v=1", "tag"),
    (COLLECTOR + "s/demo.js", "tag"), (COLLECTOR + "gcm/demo.js", "tag"),
    (COLLECTOR + "p.gif?s=demo&e=pageview", "pixel"), (COLLECTOR + "c.gif?s=demo&y=", "decision"),
    (COLLECTOR + "i.gif?s=demo", "impression"), (COLLECTOR + "dashboard", "third-party"),
    ("https://cdn.example/p.gif?s=demo", "third-party"),
    ("http://localhost:9000/app.js", "first-party"),
    ("https://www.facebook.com/tr?id=1", "tracker"),
    ("https://connect.facebook.net/en_US/fbevents.js", "tracker-script"),
])
def test_request_kinds(url: str, kind: str) -> None:
    assert CLASSIFIER.kind(url)[0] == kind


@pytest.mark.parametrize("host, site", [("www.shop.example", "shop.example"),
                                        ("shop.example", "shop.example"),
                                        ("static.shop.example.co.uk", "example.co.uk"),
                                        ("127.0.0.1", "127.0.0.1"), ("localhost", "localhost"),
                                        ("[::1]", "[::1]"), ("WWW.Shop.Example.", "shop.example"),
                                        ("shop.vercel.app", "shop.vercel.app"),
                                        ("cdn.shop.vercel.app", "shop.vercel.app"),
                                        ("vercel.app", "vercel.app")])
def test_site_of_a_host(host: str, site: str) -> None:
    assert site_of(host) == site


def test_same_site_is_not_same_origin() -> None:
    assert same_site("https://cdn.shop.example/x.js", "https://www.shop.example/")
    assert not same_site("http://127.0.0.1:8000/t.js", "http://localhost:9000/")


def test_names_under_a_shared_suffix_are_sites_of_their_own() -> None:
    # Anyone can have a name under vercel.app (the public suffix list says so): a
    # tracker there is not the shop's own.
    assert not same_site("https://tracker.vercel.app/p.js", "https://shop.vercel.app/")
    assert same_site("https://www.shop.example/", "https://cdn.shop.example/x.js")
    shop = Classifier("https://shop.vercel.app/", COLLECTOR, trackers.BUILTIN, SETTINGS)
    assert shop.kind("https://tracker.vercel.app/collect")[0] == "third-party"
    assert shop.kind("https://shop.vercel.app/app.js")[0] == "first-party"
    assert shop.cookie("uid", ".tracker.vercel.app", "1").owner == "tracker.vercel.app"


def test_a_pixel_is_decoded_and_masked() -> None:
    url = COLLECTOR + "p.gif?" + urlencode({"s": "demo", "e": "signup", "p": "/thanks",
                                             "a": "analytics-ads", "utm_campaign": "a@b.example"})
    seen = CLASSIFIER.request(Raw(0.25, "decision", "GET", url, "image",
                                  referer="http://localhost:9000/"))
    assert (seen.kind, seen.category, seen.params["e"], seen.params["utm_campaign"]) == (
        "pixel", "ads", "signup", ":email")
    assert "a@b.example" not in seen.url and "a%40b.example" not in seen.url
    assert [(f.kind, f.where) for f in seen.pii] == [("email", "query parameter utm_campaign")]


def test_bodies_are_masked_and_the_audits_own_navigation_is_not_judged() -> None:
    beacon = CLASSIFIER.request(Raw(1.0, "load", "POST", "http://localhost:9000/collect", "ping",
                                    b'{"email": "linus@kernel.example"}'))
    assert beacon.body == '{"email": ":email"}' and beacon.pii
    opened = CLASSIFIER.request(Raw(0.0, "load", "GET", PAGE + "?email=a@b.example", "document",
                                    navigation=True))
    assert opened.pii == []


@pytest.mark.parametrize("name, domain, category, owner", [
    ("cpx", "localhost", "necessary", "consentpixel"),
    ("_demo_stats_id", "localhost", "analytics", "the site"),   # the site's own setting
    ("_fbp", ".localhost", "ads", "Meta Pixel"),
    ("IDE", ".doubleclick.net", "ads", "Google Ads"),
    ("sessionid", "localhost", "", "the site"),
    ("uid", ".tracker.example", "", "tracker.example"),
])
def test_cookie_classification(name: str, domain: str, category: str, owner: str) -> None:
    cookie = CLASSIFIER.cookie(name, domain, "1")
    assert (cookie.category, cookie.owner) == (category, owner)
    assert cookie.value == ("1" if name == "cpx" else "")  # only the decision is shown


def test_storage_classification() -> None:
    assert CLASSIFIER.stored("local", "cpx_touch") == Stored("local", "cpx_touch", "ads",
                                                             "consentpixel")
    assert CLASSIFIER.stored("session", "_hjSession_1").category == "analytics"
    assert CLASSIFIER.stored("local", "cart").category == ""
