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
    ("https://mail.example/inbox?search=x", "mail.example"),  # its registrable part: crowd.py
    ("ftp://files.example.org/x", ":url"),
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
    for name, pattern in privacy.TAG_RULES:
        assert name in privacy.PLACEHOLDERS
        re.compile(pattern)
        assert "(?" not in pattern.replace("(?=", "")


@settings(max_examples=500)
@given(st.text(alphabet="0123456789 ().+/-\tab:_", max_size=40))
def test_the_tags_id_rule_sees_nine_digits_whatever_separates_them(text: str) -> None:
    # "+49 30 123456", "5500-0000-0000-0004": one pattern the tag applies as it is.
    pattern = dict(privacy.TAG_RULES)[":id"]
    flat = re.sub(privacy.SEPARATORS, "", text)
    assert bool(re.search(pattern, text, re.I)) == bool(re.search(r"\d{9}", flat))


# -- decode before judging ----------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("campbelljavier%2540example.com", ":email"),  # encoded twice
    ("campbelljavier%252540example.com", ":email"),  # three times
    ("%2b49%20437%20905%20754", ":phone"),
    ("ada.lovelace\uff20analytical.example", ":email"),  # full-width ＠
    ("ada&#64;analytical&#46;example", ":email"),
    ("ada&commat;analytical.example", ":email"),
    ("ada (at) analytical [dot] example", ":email"),
    ("ada [at] analytical.example", ":email"),
    ("\uff14\uff11\uff15\uff18 6834 4978 6909", ":card"),  # full-width digits
    ("+91 \u0969\u0966\u0967 \u096a\u096b\u096c \u096d\u096e\u096f\u0966", ":phone"),
    ("NTgyLTIxLTI5NzQ=", ":id"),  # base64 of an SSN
    ("YWRhQGIuY28", ":email"),  # base64 of ada@b.co, unpadded
    ("QWRhIExvdmVsYWNl", "qwrhiexvdmvsywnl"),  # base64 of a name: for the crowd to judge
])
def test_labels_are_judged_decoded(raw: str, expected: str) -> None:
    assert clean_label(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    ("/u/ada%2540analytical.example/orders", "/u/:email/orders"),
    ("/account/NTgyLTIxLTI5NzQ=/settings", "/account/:id/settings"),
    ("/account/10%2F27%2F1943/settings", "/account/:date/settings"),
    ("/account/10/27/1943/settings", "/account/:date/settings"),
    ("/members/ysampaio&#64;example&#46;net/settings", "/members/:email/settings"),
    ("/caf%C3%A9/cr%C3%A8me", "/café/crème"),
    ("/a%252Fb", "/a/b"),  # a slash encoded twice is a slash
])
def test_paths_are_judged_decoded(raw: str, expected: str) -> None:
    assert clean_path(raw) == expected


def test_lowercasing_never_hides_what_the_original_case_shows() -> None:
    # base64 is read in the case it was sent in; lowercased it would decode to garbage.
    assert clean_label("YWRhQGIuY28=") == ":email"
    assert clean_label("MARIE.CURIE%40SORBONNE.EXAMPLE") == ":email"
    assert clean_label("İstanbul") == "i̇stanbul"


# -- what is personal, whoever sends it, and what is not ---------------------------------

@pytest.mark.parametrize("value, expected", [
    ("138-73-1034", ":id"),  # US SSN
    ("ZZ 91 41 77 T", ":id"),  # UK National Insurance number
    ("08223810E", ":id"), ("X7201009P", ":id"),  # Spanish NIF, NIE
    ("BCCFRC15M25E852P", ":id"),  # codice fiscale
    ("031.182.674-10", ":id"), ("84092396025", ":id"),  # Brazilian CPF, Polish PESEL
    ("961121-5824", ":id"), ("172023201312126", ":id"),  # Swedish, French numbers
    ("456857601359", ":id"),  # Aadhaar
    ("ABCDE1234F", ":id"),  # Indian PAN
    ("0161 496 0631", ":phone"), ("+49(0)7066 907439", ":phone"),
    ("090-1777-6317", ":phone"), ("32 776 31 70", ":phone"), ("3306317069", ":id"),
    ("4158683449786909", ":card"), ("36907366258519", ":card"), ("180017812865703", ":card"),
    ("GB29NXAQ37783533740681", ":iban"),
    ("10/27/1943", ":date"), ("27.10.1943", ":date"), ("1943-10-27", ":date"),
    ("1943/10/27", ":date"), ("27 October 1943", ":date"), ("October 27, 1943", ":date"),
    ("1943年10月27日", ":date"), ("27/10/43", ":date"),
    ("4b85:eba5:2ec8:3d41:2300:1b59:cfaf:aca2", ":ip"), ("120.128.199.23", ":ip"),
])
def test_strict_kinds(value: str, expected: str) -> None:
    assert classify(value) == expected
    assert clean_label(value) == expected


@pytest.mark.parametrize("value", [
    "Via Elisa, 991", "ulica Leśna 74/39", "Skolvägen 669", "Lolahof 7", "Sterresingel 35",
    "Callejón Desiderio Valbuena 77", "Rua das Flores 12", "Jens-Drubin-Straße 47-26",
    "0681 Crystal Stream Suite 158", "rue de la Paix 4",
])
def test_street_addresses_in_many_languages(value: str) -> None:
    assert classify(value) == ":address"
    assert clean_label(value.replace(" ", "+")) == ":address"


@pytest.mark.parametrize("value", [
    "summer sale 2024", "top 10 laptops", "buy 2 get 1 free", "route 66", "iphone 15 pro",
    "drive-safe-2-pack", "park-bench-2",
])
def test_words_and_a_number_are_no_address(value: str) -> None:
    assert classify(value) is None


@pytest.mark.parametrize("value", [
    "newsletter-2026-03-24", "spring-sale-2024-05-03", "webinar 24.03.2026", "2022-05-03",
    "88008110", "4006381333931", "9783161484100", "978-3-16-148410-0", "1-5114-7913-2",
    "04337386", "sku-4821-xl", "v2.3.1", "v10.13.28", "iphone-15-pro-max-256gb", "10001",
    "top-10-laptops-2024", "week-12-2026", "black-friday-2025",
])
def test_what_names_a_thing_is_kept(value: str) -> None:
    assert classify(value) is None
    assert clean_label(value) == value


@pytest.mark.parametrize("path", [
    "/events/2022-05-03/tickets", "/product/88008110", "/p/4006381333931",
    "/books/978-3-16-148410-0", "/blog/2024/11/28/best-espresso-at-home", "/order/1234567",
])
def test_paths_keep_dates_and_product_numbers(path: str) -> None:
    assert clean_path(path) == path


# -- the site's path templates ---------------------------------------------------------

@pytest.mark.parametrize("path, expected", [
    ("/account/eric-nichols/settings", "/account/:user/settings"),
    ("/account/eric%20nichols/", "/account/:user/"),
    ("/account/eric", "/account/:user"),
    ("/account", "/account"),  # too short for the template: judged as usual
    ("/orders/A-1234", "/orders/:id"),
    ("/orders/A-1234/invoice", "/orders/A-1234/invoice"),  # no *: the length must match
    ("/account/ada@analytical.example/orders", "/account/:user/orders"),
    ("/shop/account/eric", "/shop/account/eric"),
])
def test_templates_name_segments_before_any_rule(path: str, expected: str) -> None:
    templates = tuple(privacy.parse_template(t) for t in ("/account/:user/*", "/orders/:id"))
    assert privacy.clean_site_path(path, templates) == expected


@pytest.mark.parametrize("template, error", [
    ("account/:user", "does not start with /"),
    ("/a/*/b", "comes last"),
    ("/a/:User", "name a segment"),
    ("/team/ada@analytical.example", "looks personal"),
])
def test_templates_are_checked(template: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        privacy.parse_template(template)


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
