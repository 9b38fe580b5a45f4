"""The privacy rules: personal data becomes placeholders; ordinary paths stay readable."""

from __future__ import annotations

import ipaddress
import re

import pytest
from hypothesis import given, settings, strategies as st

from consentpixel import privacy
from consentpixel.privacy import classify, clean_host, clean_label, clean_path

from .helpers import PII_CASES


@pytest.mark.parametrize("case", [c for c in PII_CASES if c["where"] in ("path", "query",
                                                                          "fragment")],
                         ids=lambda c: c["input"][:40])
def test_shared_cases_never_survive_a_path(case: dict[str, object]) -> None:
    raw = str(case["input"])
    path = raw if raw.startswith("/") else "/landing" + raw
    cleaned = clean_path(path).lower()
    for absent in case["absent"]:  # type: ignore[union-attr]
        assert absent not in cleaned


@pytest.mark.parametrize("raw, expected", [
    ("/account/marie.curie@sorbonne.example/orders", "/account/:email/orders"),
    ("/u/MARIE.CURIE%40SORBONNE.EXAMPLE", "/u/:email"),
    ("/invoice/5500-0000-0000-0004/pdf", "/invoice/:card/pdf"),
    ("/reset/9f8e7d6c5b4a39281706f5e4d3c2b1a0", "/reset/:token"),
    ("/reset/abcdefabcdefabcdefabcdefabcdefab", "/reset/:token"),
    ("/users/550e8400-e29b-41d4-a716-446655440000/profile", "/users/:uuid/profile"),
    ("/customer/00493012345678", "/customer/:phone"),
    ("/customer/+49%2030%20123456", "/customer/:phone"),
    ("/iban/DE89370400440532013000", "/iban/:iban"),
    ("/order/1234567890", "/order/:id"),
    ("/host/192.168.1.20/status", "/host/:ip/status"),
    ("/host/2001:db8:85a3::8a2e:370:7334", "/host/:ip"),
    ("/cart;jsessionid=ABC123DEF456", "/cart"),
    ("/s/eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJ1aWQiOjQyfQ.sig", "/s/:token"),
    ("https://shop.example/products/beans?email=a@b.example#top", "/products/beans"),
    ("//evil.example/x", "/x"),
    ("/deliver/221B-Baker-Street", "/deliver/:address"),
])
def test_personal_segments_become_placeholders(raw: str, expected: str) -> None:
    assert clean_path(raw) == expected


@pytest.mark.parametrize("path", [
    "/", "/products/coffee-beans", "/blog/2024/11/28/best-espresso-at-home",
    "/en-us/checkout/", "/c/shoes", "/iphone-15-pro-max-256gb", "/top-10-laptops-2024",
    "/docs/v2.3/install", "/café/crème", "/summer-collection-for-women-2024",
    "/thank-you", "/search", "/products/12345",
])
def test_ordinary_paths_are_kept(path: str) -> None:
    assert clean_path(path) == path


def test_paths_are_bounded() -> None:
    long = "/" + "/".join(f"part{i}" for i in range(40))
    assert clean_path(long).count("/") <= privacy.MAX_SEGMENTS
    assert len(clean_path("/" + "a" * 5000)) <= privacy.MAX_PATH
    assert clean_path("/a\x00b/\x1bc") == "/ab/c"
    assert clean_path("/%ff%fe") == "/\ufffd\ufffd"


@pytest.mark.parametrize("raw, expected", [
    ("Spring Sale", "spring sale"),
    ("newsletter", "newsletter"),
    ("ada.lovelace+news@analytical.example", ":email"),
    ("+49 30 123456", ":phone"),
    ("call me on +33 1 23 45 67 89", ":phone"),
    ("221B Baker Street, London NW1 6XE", ":address"),
    ("Hauptstraße 5", ":address"),
    ("https://mail.example/inbox?search=x", "mail.example"),
    ("  many   spaces\t", "many spaces"),
    ("summer sale " * 20, ("summer sale " * 20)[:privacy.MAX_LABEL]),
    ("x" * 30, ":token"),
    ("", ""),
    (None, ""),
])
def test_labels(raw: str | None, expected: str) -> None:
    assert clean_label(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    ("https://mail.example/inbox?search=alan.turing%40bletchley.example", "mail.example"),
    ("www.google.com", "google.com"),
    ("news.ycombinator.com:443", "news.ycombinator.com"),
    ("203.0.113.77", ":ip"),
    ("[2001:db8::1]", ":ip"),
    ("203-0-113-77.dsl.isp.example", ":id"),
    ("user@host.example", "host.example"),
    ("not a host", ""),
    ("", ""),
])
def test_referrer_hosts(raw: str, expected: str) -> None:
    assert clean_host(raw) == expected


def test_tag_rules_are_valid_in_both_languages() -> None:
    # The tag builds RegExp(pattern, "i") from the same strings: keep to the syntax
    # both engines read alike (no possessive quantifiers, no inline flags).
    for name, pattern, _ in privacy.TAG_RULES:
        assert name in privacy.PLACEHOLDERS
        re.compile(pattern)
        assert "(?" not in pattern.replace("(?=", "")


# -- properties: personal data in any position never survives --------------------------

SEGMENT = st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=12)
EMAILS = st.emails()
PHONES = st.builds(lambda cc, rest: f"+{cc} {rest[:3]} {rest[3:]}",
                   st.integers(1, 999), st.text("0123456789", min_size=7, max_size=11))
IPV4 = st.ip_addresses(v=4).map(str)
IPV6 = st.ip_addresses(v=6).filter(lambda a: a.exploded.count(":") >= 3).map(
    lambda a: a.exploded)
UUIDS = st.uuids().map(str)
CARDS = st.text("0123456789", min_size=15, max_size=15).map(
    lambda body: body + str(luhn_digit(body)))


def luhn_digit(body: str) -> int:
    total = 0
    for index, char in enumerate(reversed(body)):
        digit = int(char) * (2 if index % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return (10 - total % 10) % 10


PERSONAL = st.one_of(EMAILS, PHONES, IPV4, UUIDS, CARDS)


@settings(max_examples=300)
@given(before=st.lists(SEGMENT, max_size=3), secret=PERSONAL, after=st.lists(SEGMENT, max_size=3))
def test_personal_data_never_survives_in_a_path(before: list[str], secret: str,
                                                after: list[str]) -> None:
    from urllib.parse import quote

    for encoded in (secret, quote(secret, safe="")):
        cleaned = clean_path("/" + "/".join([*before, encoded, *after]))
        assert secret.lower() not in cleaned.lower()
        assert encoded.lower() not in cleaned.lower()


@settings(max_examples=300)
@given(words=st.lists(SEGMENT, max_size=3), secret=PERSONAL)
def test_personal_data_never_survives_in_a_label(words: list[str], secret: str) -> None:
    label = clean_label(" ".join([*words, secret]))
    assert secret.lower() not in label


@given(address=st.one_of(IPV4, IPV6))
def test_ip_addresses_are_never_referrers(address: str) -> None:
    host = clean_host(f"http://{address}/" if ":" not in address else f"http://[{address}]/")
    assert host == ":ip"
    assert ipaddress.ip_address(address).exploded not in host


@given(st.text(max_size=300))
def test_any_text_gives_a_bounded_clean_path(text: str) -> None:
    cleaned = clean_path(text)
    assert cleaned.startswith("/")
    assert len(cleaned) <= privacy.MAX_PATH
    assert "?" not in cleaned and "#" not in cleaned
    assert not privacy.CONTROL.search(cleaned)
    assert "@" not in cleaned


@given(st.text(max_size=300))
def test_any_text_gives_a_bounded_label(text: str) -> None:
    label = clean_label(text)
    assert len(label) <= privacy.MAX_LABEL
    assert "@" not in label and "://" not in label
    assert classify(label) is None or label in privacy.PLACEHOLDERS
