"""Where a hit came from: campaign labels win, then a click ID, then the referrer."""

from __future__ import annotations

import json

import pytest

from consentpixel import attribution
from consentpixel.attribution import labels, referral
from consentpixel.privacy import clean_label


def test_campaign_labels_win_over_the_referrer() -> None:
    assert labels({"utm_source": "Newsletter", "utm_medium": "email",
                   "utm_campaign": "Spring Sale", "utm_content": "hero",
                   "r": "mail.example", "k": "gclid"}) == (
        "newsletter", "email", "spring sale", "hero")


def test_a_campaign_without_a_source_says_so() -> None:
    assert labels({"utm_campaign": "spring"}) == ("(not set)", "(not set)", "spring", "")


@pytest.mark.parametrize("click_id, source, medium", [
    ("gclid", "google", "cpc"), ("fbclid", "facebook", "paid-social"),
    ("msclkid", "bing", "cpc"), ("ttclid", "tiktok", "paid-social"),
    ("li_fat_id", "linkedin", "paid-social"),
])
def test_a_click_id_name_becomes_its_network(click_id: str, source: str, medium: str) -> None:
    assert labels({"k": click_id, "r": "example.org"})[:2] == (source, medium)


@pytest.mark.parametrize("referrer, source, medium", [
    ("", "direct", "(none)"), ("google.co.uk", "google", "organic"),
    ("duckduckgo.com", "duckduckgo", "organic"), ("t.co", "twitter", "social"),
    ("l.facebook.com", "facebook", "social"), ("blog.example.org", "example.org", "referral"),
    ("203.0.113.9", "(referral)", "referral"),
    # The public suffix list, not a guess, says where a site's name ends.
    ("www.google.com.br", "google", "organic"), ("google.de", "google", "organic"),
    ("https://www.bing.com/search", "bing", "organic"), ("cn.bing.com", "bing", "organic"),
    ("de.search.yahoo.com", "yahoo", "organic"), ("search.brave.com", "brave", "organic"),
    ("m.youtube.com", "youtube", "social"), ("facebook.com", "facebook", "social"),
    ("lm.facebook.com", "facebook", "social"), ("old.reddit.com", "reddit", "social"),
    ("x.com", "twitter", "social"), ("mastodon.social", "mastodon", "social"),
    # Someone's blog on a shared host, Google's webmail, a look-alike: referrals, as
    # the registrable domain only (the labels in front of it may be anyone's name).
    ("google.blogspot.com", "blogspot.com", "referral"),
    ("mail.google.com", "google.com", "referral"),
    ("google.evil.example.net", "example.net", "referral"),
    ("travisreeves.example.net", "example.net", "referral"),
    ("https://alan:turing@news.example.co.uk/inbox", "example.co.uk", "referral"),
    # Under no public suffix: not a place on the web, and not stored.
    ("blog.example", "(referral)", "referral"), ("intranet.local", "(referral)", "referral"),
    ("ftp://files.example.org/", "direct", "(none)"),
])
def test_referrers(referrer: str, source: str, medium: str) -> None:
    assert labels({"r": referrer} if referrer else {}) == (source, medium, "", "")


def test_the_referrer_list_names_its_source() -> None:
    data = json.loads(attribution.REFERRERS_FILE.read_text())
    assert "matomo-org/searchengine-and-social-list" in data["source"]
    assert set(data) == {"source", "organic", "social"}


def test_every_listed_host_is_found_with_its_label() -> None:
    for host, (source, medium) in attribution.REFERRERS.items():
        assert medium in ("organic", "social")
        assert source == clean_label(source) and 0 < len(source) <= 40, source
        if "{}" not in host:
            assert referral(host) == (source, medium), host
