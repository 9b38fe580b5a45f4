"""The audit's parts without a browser: personal data, trackers, request classification,
the checks on recorded visits, the reports, and the command's argument errors.

The browser side runs in e2e/test_audit.py against real pages and a real collector.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Callable
from urllib.parse import urlencode

import pytest

from consentpixel import config, tag
from consentpixel.audit import checks, pii, report, trackers
from consentpixel.audit.browser import load_error, plan
from consentpixel.audit.model import (AuditReport, Banner, Check, Cookie, Held, PageAudit,
                                      PageTag, RecordedRequest, Scenario, Step, Stored,
                                      TagSettings)
from consentpixel.audit.traffic import Classifier, Raw, same_site, site_of

# -- personal data ---------------------------------------------------------------------

URL_CASES = [
    # (url, findings as (kind, where))
    ("https://www.facebook.com/tr?id=1&ev=Lead&em=ada.lovelace%40analytical.example",
     {("email", "query parameter em")}),
    ("https://t.example/u/MARIE.CURIE%40SORBONNE.EXAMPLE/orders", {("email", "path")}),
    ("https://t.example/c?email=ada.lovelace%2Bnews%40analytical.example&utm_source=mail",
     {("email", "query parameter email")}),
    ("https://t.example/c?tel=%2B49%2030%20123456", {("phone", "query parameter tel")}),
    ("https://t.example/c?tel=030%201234567", {("phone", "query parameter tel")}),
    ("https://t.example/c?note=call+me+on+%2B33+1+23+45+67+89",
     {("phone", "query parameter note")}),
    ("https://t.example/invoice/5500-0000-0000-0004/pdf", {("card", "path")}),
    ("https://t.example/pay?cc=4111111111111111", {("card", "query parameter cc")}),
    ("https://t.example/c?iban=DE89370400440532013000", {("iban", "query parameter iban")}),
    ("https://t.example/c?iban=DE89+3704+0044+0532+0130+00", {("iban", "query parameter iban")}),
    ("https://t.example/c?ada%40analytical.example=1", {("email", "query parameter name")}),
    # what is not personal data, though it looks like it
    ("https://cdn.example/img/logo@2x.png", set()),
    ("https://cdn.example/npm/package@1.2.3/dist/x.js", set()),
    ("https://www.google-analytics.com/g/collect?v=2&cid=123456789.1700000000&_p=1700000000123",
     set()),
    ("https://t.example/c?z=1700000000000&order=0301234567", set()),
    ("https://t.example/c?cc=4111111111111112", set()),  # fails Luhn
    ("https://t.example/c?iban=DE00370400440532013000", set()),  # fails mod 97
    ("https://t.example/users/550e8400-e29b-41d4-a716-446655440000?t=9f8e7d6c5b4a3928", set()),
]


@pytest.mark.parametrize("url, found", URL_CASES, ids=[c[0][8:60] for c in URL_CASES])
def test_personal_data_in_urls(url: str, found: set[tuple[str, str]]) -> None:
    assert {(f.kind, f.where) for f in pii.scan_url(url).findings} == found


BODY_CASES = [
    ('{"event": "lead", "user": {"email": "linus@kernel.example"}}',
     {("email", "body field email")}),
    ('[{"phone": "+44 20 7946 0958"}]', {("phone", "body field phone")}),
    ('{"tel": "030 1234567", "order": "0301234567"}', {("phone", "body field tel")}),
    ("ev=Lead&em=ada%40analytical.example&ts=1700000000000", {("email", "body field em")}),
    ("Contact: katherine.johnson@nasa.example, IBAN DE89 3704 0044 0532 0130 00",
     {("email", "body"), ("iban", "body")}),
    ('{"cid": "123456789.1700000000", "items": [{"id": "SKU-4111"}], "value": 49.9}', set()),
    ("", set()),
]


@pytest.mark.parametrize("body, found", BODY_CASES, ids=[c[0][:40] for c in BODY_CASES])
def test_personal_data_in_bodies(body: str, found: set[tuple[str, str]]) -> None:
    assert {(f.kind, f.where) for f in pii.scan_body(body).findings} == found


@pytest.mark.parametrize("text, absent", [
    ("https://t.example/tr?em=ada.lovelace%40analytical.example&x=1", ["ada.lovelace"]),
    ("https://t.example/tr?em=ada.lovelace@analytical.example", ["ada.lovelace"]),
    ("https://t.example/c?tel=%2B49%2030%20123456", ["123456"]),
    ("https://t.example/c?tel=%2B49+30+123456", ["123456"]),
    ("https://t.example/invoice/5500-0000-0000-0004/pdf", ["5500"]),
])
def test_masking_removes_the_value_in_every_encoding(text: str, absent: list[str]) -> None:
    masked = pii.scan_url(text).mask(text)
    assert all(value not in masked for value in absent), masked
    assert any(p in masked for p in pii.PLACEHOLDERS.values())


def test_masking_a_body_keeps_its_shape() -> None:
    body = '{"event": "lead", "phone": "+44 20 7946 0958", "email": "linus@kernel.example"}'
    masked = pii.scan_body(body).mask(body)
    assert json.loads(masked) == {"event": "lead", "phone": ":phone", "email": ":email"}


# -- trackers -------------------------------------------------------------------------

TRACKER_CASES = [
    # (url, tracker name or None, a beacon?)
    ("https://www.facebook.com/tr?id=1&ev=PageView", "Meta Pixel", True),
    ("https://connect.facebook.net/en_US/fbevents.js", "Meta Pixel", False),
    ("https://region1.google-analytics.com/g/collect?v=2", "Google Analytics", True),
    ("https://www.google-analytics.com/analytics.js", "Google Analytics", False),
    ("https://www.googletagmanager.com/gtag/js?id=G-1", "Google Tag Manager", False),
    ("https://ad.doubleclick.net/activity;src=1", "Google Ads", True),
    ("https://bat.bing.com/action/0?ti=1", "Microsoft Advertising", True),
    ("https://bat.bing.com/bat.js", "Microsoft Advertising", False),
    ("https://stats.shop.example/analytics/matomo.php?idsite=1", "Matomo", True),
    ("https://evilfacebook.com/tr", None, False),
    ("https://facebook.com.evil.example/tr", None, False),
    ("https://www.facebook.com/shop", None, False),
    ("https://shop.example/tr", None, False),
]


@pytest.mark.parametrize("url, name, beacon", TRACKER_CASES,
                         ids=[c[0][8:50] for c in TRACKER_CASES])
def test_tracker_matching(url: str, name: str | None, beacon: bool) -> None:
    found = trackers.BUILTIN.match(url)
    assert (found.name if found else None, found.beacon if found else False) == (name, beacon)
    # The expression that decides what is intercepted agrees with the matcher.
    pattern = trackers.BUILTIN.beacons()
    assert pattern is not None and bool(pattern.search(url)) == beacon


@pytest.mark.parametrize("name, owner", [("_ga", "Google Analytics"),
                                         ("_ga_ABC123", "Google Analytics"),
                                         ("_fbp", "Meta Pixel"), ("_gcl_au", "Google Ads"),
                                         ("cpx", None), ("sessionid", None), ("_gallery", None)])
def test_tracker_cookies(name: str, owner: str | None) -> None:
    rule = trackers.BUILTIN.cookie(name)
    assert (rule.owner if rule else None) == owner


def test_a_trackers_file_adds_to_the_list(tmp_path: Path) -> None:
    file = tmp_path / "trackers.toml"
    file.write_text('[[tracker]]\nname = "Acme"\nhost = "collect.acme.example"\npath = "/hit"\n'
                    'category = "statistics"\n\n[[cookie]]\nname = "_acme*"\n'
                    'category = "statistics"\nowner = "Acme"\n\n[[storage]]\nname = "acme_id"\n')
    known = trackers.load(file)
    acme = known.match("https://eu.collect.acme.example/hit?x=1")
    assert acme == trackers.Tracker("Acme", "collect.acme.example", "/hit", "statistics", True)
    assert known.cookie("_acme_uid") == trackers.NameRule("_acme*", "statistics", "Acme")
    assert known.stored("acme_id") == trackers.NameRule("acme_id", "ads", "")
    assert known.match("https://www.facebook.com/tr").name == "Meta Pixel"  # built-ins stay


@pytest.mark.parametrize("text, message", [
    ('[[tracker]]\nname = "x"\n', "tracker 1: give a host, a path, or both"),
    ('[[tracker]]\nhost = "a.example"\nurl = "x"\n', "tracker 1: unknown key 'url'"),
    ('[[tracker]]\npath = "hit"\n', "tracker 1: path must start with /"),
    ('[[tracker]]\nhost = "a.example"\nbeacon = "yes"\n',
     "tracker 1: beacon must be true or false"),
    ('[[cookie]]\ncategory = "ads"\n', "cookie 1: name is required"),
    ('[[trackers]]\nhost = "a.example"\n', "unknown table 'trackers'"),
    ("[[tracker]\n", "not valid TOML"),
])
def test_trackers_file_mistakes_are_named(tmp_path: Path, text: str, message: str) -> None:
    file = tmp_path / "trackers.toml"
    file.write_text(text)
    with pytest.raises(trackers.TrackersError, match=message.replace("(", r"\(")):
        trackers.load(file)


# -- classification ---------------------------------------------------------------------

COLLECTOR = "http://127.0.0.1:8000/"
PAGE = "http://localhost:9000/shop.html"
SETTINGS = TagSettings.from_script(tag.site_script(config.demo().sites["demo"]).body.decode())
assert SETTINGS is not None
CLASSIFIER = Classifier(PAGE, COLLECTOR, trackers.BUILTIN, SETTINGS)


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
                                        ("127.0.0.1", "127.0.0.1"), ("localhost", "localhost")])
def test_site_of_a_host(host: str, site: str) -> None:
    assert site_of(host) == site


def test_same_site_is_not_same_origin() -> None:
    assert same_site("https://cdn.shop.example/x.js", "https://www.shop.example/")
    assert not same_site("http://127.0.0.1:8000/t.js", "http://localhost:9000/")


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


def test_settings_from_the_collectors_script() -> None:
    assert SETTINGS is not None
    assert (SETTINGS.site, SETTINGS.mode, SETTINGS.categories, SETTINGS.gpc) == (
        "demo", "opt-in", ("analytics", "ads"), ("ads",))
    assert SETTINGS.events["pageview"] == "analytics" and SETTINGS.attribution == "ads"
    assert TagSettings.from_script("/* consentpixel: no such site */") is None
    assert TagSettings.from_script("cpx('_config',{\"s\": 1});") is None


@pytest.mark.parametrize("mode, gpc, allowed", [("opt-in", False, set()),
                                                ("opt-out", False, {"analytics", "ads"}),
                                                ("opt-out", True, {"analytics"})])
def test_what_is_allowed_before_a_decision(mode: str, gpc: bool, allowed: set[str]) -> None:
    assert replace(SETTINGS, mode=mode).before_decision(gpc) == allowed


@pytest.mark.parametrize("error, message", [
    ("Page.goto: net::ERR_CONNECTION_REFUSED at http://127.0.0.1:9/",
     "cannot reach it: connection refused"),
    ("Page.goto: net::ERR_CERT_AUTHORITY_INVALID at https://x/", "TLS error: the certificate"),
    ("Page.goto: net::ERR_SSL_PROTOCOL_ERROR at https://x/", "TLS error: ERR_SSL_PROTOCOL_ERROR"),
    ("Page.goto: net::ERR_BLOCKED_BY_CLIENT at http://x/", "could not load it: ERR_BLOCKED"),
    ("Page.goto: Target closed\nCall log: …", "could not load it: Target closed"),
])
def test_load_errors_are_one_line(error: str, message: str) -> None:
    assert load_error(Exception(error)).startswith(message)


# -- checks on recorded visits ------------------------------------------------------------

HELD_SRC = "http://localhost:9000/vendor/ads.js"
BUTTONS = {"reject": "Reject all", "accept": "Accept all", "prefs": "Preferences"}
FIRED_BEACON = "https://www.facebook.com/tr?id=1&ev=PageView"


def request(url: str, step: str = "load", t: float = 0.1, *, method: str = "GET",
            resource: str = "image", body: bytes | None = None, referer: str = "",
            navigation: bool = False) -> RecordedRequest:
    return CLASSIFIER.request(Raw(t, step, method, url, resource, body=body, referer=referer,
                                  navigation=navigation))


def pixel(event: str, granted: tuple[str, ...], step: str = "decision", **extra: str
          ) -> RecordedRequest:
    query = {"s": "demo", "e": event, "p": "/shop.html", "a": "-".join(granted), "w": "1",
             **extra, "z": "1"}
    return request(COLLECTOR + "p.gif?" + urlencode(query), step, 1.1,
                   referer="http://localhost:9000/")


def state(granted: tuple[str, ...], decided: bool = True) -> dict[str, bool]:
    return {"decided": decided, **{c: c in granted for c in SETTINGS.categories}}


def recorded(scenario: Scenario) -> Scenario:
    """What a well-behaved page records in a scenario."""
    held = [Held("script", HELD_SRC, "ads", runs=False)]
    layer = ["consent default", "js", "config G-1", "consent update"]
    scenario.steps = [Step("load", "before a decision", False, 0.0, PAGE, consent=state((), False),
                           held=held, data_layer=layer)]
    scenario.requests = [request(PAGE, navigation=True, resource="document"),
                         request(COLLECTOR + "gcm/demo.js", resource="script"),
                         request(COLLECTOR + "t.js", resource="script"),
                         request(COLLECTOR + "s/demo.js", resource="script")]
    if scenario.action == "none":
        return scenario
    yes = scenario.granted
    no = tuple(c for c in SETTINGS.categories if c not in yes)
    cookie = Cookie("cpx", "localhost", "necessary", "consentpixel",
                    f"1.1700000000.{'-'.join(yes)}.{'g' if scenario.gpc else ''}")
    after = [] if "ads" in yes else held
    scenario.steps.append(Step("decision", "after the choice", True, 1.0, PAGE, [cookie],
                               consent=state(yes), held=after))
    scenario.requests.append(request(COLLECTOR + "c.gif?" + urlencode(
        {"s": "demo", "y": "-".join(yes), "n": "-".join(no), "z": "1"}), "decision", 1.0))
    if "analytics" in yes:
        scenario.requests.append(pixel("pageview", yes))
    if "ads" in yes:
        scenario.requests += [request(HELD_SRC, "decision", 1.2, resource="script"),
                              request(FIRED_BEACON, "decision", 1.3)]
    if scenario.action == "reject":
        scenario.steps.append(Step("reload", "after a reload", True, 2.0, PAGE, [cookie],
                                   consent=state(yes), held=held))
        scenario.requests.append(request(PAGE, "reload", 2.0, navigation=True))
    return scenario


def good_audit() -> PageAudit:
    audit = PageAudit(PAGE, tag=PageTag(COLLECTOR, "demo", "", SETTINGS), pages=[PAGE],
                      banner=Banner(0.5, dict(BUTTONS)))
    audit.scenarios = [recorded(s) for s in plan(SETTINGS)]
    return audit


def scenario(audit: PageAudit, name: str) -> Scenario:
    found = checks.scenario(audit, name)
    assert found is not None
    return found


def step(audit: PageAudit, name: str, step_name: str) -> Step:
    found = scenario(audit, name).step(step_name)
    assert found is not None
    return found


def replace_request(audit: PageAudit, name: str, kind: str, new: RecordedRequest | None) -> None:
    """Swap (or, with None, drop) the scenario's first request of this kind."""
    requests = scenario(audit, name).requests
    index = next(i for i, r in enumerate(requests) if r.kind == kind)
    requests[index:index + 1] = [new] if new else []


def statuses(audit: PageAudit) -> dict[str, str]:
    return {check.name: check.status for check in checks.evaluate(audit)}


def test_a_well_behaved_page_passes_every_check() -> None:
    assert [s.name for s in plan(SETTINGS)] == ["first-visit", "reject", "accept",
                                                "only-analytics", "only-ads", "gpc"]
    assert statuses(good_audit()) == {name: "pass" for name in checks.TITLES}


Mutation = Callable[[PageAudit], None]
MUTATIONS: list[tuple[str, Mutation, set[str]]] = [
    ("tracker beacon before a decision",
     lambda a: scenario(a, "first-visit").requests.append(request(FIRED_BEACON)),
     {"nothing-before-consent"}),
    ("our pixel before a decision",
     lambda a: scenario(a, "first-visit").requests.append(pixel("pageview", (), "load")),
     {"nothing-before-consent"}),
    ("tracker cookie before a decision",
     lambda a: step(a, "first-visit", "load").cookies.append(
         CLASSIFIER.cookie("_fbp", ".localhost", "fb.1.2.3")),
     {"nothing-before-consent"}),
    ("the campaign touch kept after refusal",
     lambda a: step(a, "reject", "reload").storage.append(CLASSIFIER.stored("local", "cpx_touch")),
     {"refusal-respected"}),
    ("a page view after a reload that followed refusal",
     lambda a: scenario(a, "reject").requests.append(pixel("pageview", ("analytics",), "reload")),
     {"refusal-respected"}),
    ("the tag forgets the refusal",
     lambda a: setattr(step(a, "reject", "reload"), "consent", state((), decided=False)),
     {"refusal-respected"}),
    ("the decision pixel says yes to a refusal",
     lambda a: replace_request(a, "reject", "decision", request(
         COLLECTOR + "c.gif?s=demo&y=analytics&n=ads", "decision")),
     {"refusal-respected"}),
    ("no page view after Accept all",
     lambda a: replace_request(a, "accept", "pixel", None),
     {"pixels-after-acceptance"}),
    ("a conversion with a made-up currency",
     lambda a: scenario(a, "accept").requests.append(
         pixel("purchase", ("analytics", "ads"), v="9.90", c="EURO")),
     {"pixels-after-acceptance"}),
    ("a pixel with a parameter of its own",
     lambda a: scenario(a, "accept").requests.append(
         pixel("signup", ("analytics", "ads"), user="42")),
     {"pixels-after-acceptance"}),
    ("a pixel that tells the page's full URL",
     lambda a: replace_request(a, "accept", "pixel", request(
         pixel("pageview", ("analytics", "ads")).url, "decision",
         referer="http://localhost:9000/shop.html?q=1")),
     {"pixels-after-acceptance"}),
    ("an ads pixel when only analytics was allowed",
     lambda a: scenario(a, "only-analytics").requests.append(pixel("purchase", ("analytics",))),
     {"choices-respected"}),
    ("the ads tracker when only analytics was allowed",
     lambda a: scenario(a, "only-analytics").requests.append(request(FIRED_BEACON, "decision")),
     {"choices-respected"}),
    ("a conversion under Global Privacy Control",
     lambda a: scenario(a, "gpc").requests.append(pixel("purchase", ("analytics",))),
     {"gpc-honored"}),
    ("a held script without type=text/plain",
     lambda a: setattr(step(a, "first-visit", "load"), "held",
                       [Held("script", HELD_SRC, "ads", runs=True)]),
     {"held-scripts-wait"}),
    ("a held script loaded before its category",
     lambda a: scenario(a, "reject").requests.append(request(HELD_SRC, "reload", 2.1)),
     {"held-scripts-wait"}),
    ("an e-mail address in a tracker's URL",
     lambda a: scenario(a, "accept").requests.append(
         request(FIRED_BEACON + "&em=ada%40analytical.example", "decision")),
     {"no-pii"}),
    ("a phone number in a beacon's body",
     lambda a: scenario(a, "only-ads").requests.append(request(
         "http://localhost:9000/collect", "decision", method="POST", resource="ping",
         body=b'{"phone": "+44 20 7946 0958"}')),
     {"no-pii"}),
    ("the Google tag before the Consent Mode default",
     lambda a: setattr(step(a, "first-visit", "load"), "data_layer",
                       ["js", "config G-1", "consent default"]),
     {"consent-mode-first"}),
    ("Google tags and no Consent Mode at all",
     lambda a: setattr(step(a, "first-visit", "load"), "data_layer", ["js", "config G-1"]),
     {"consent-mode-first"}),
    ("no Reject button beside Accept",
     lambda a: setattr(a, "banner", Banner(0.5, {"accept": "Accept all", "prefs": "More"})),
     {"banner-shown"}),
    ("a scenario that could not finish",
     lambda a: setattr(scenario(a, "only-ads"), "error", "the banner never appeared"),
     {"choices-respected"}),
]


@pytest.mark.parametrize("what, mutate, failed", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_each_mistake_fails_its_check(what: str, mutate: Mutation, failed: set[str]) -> None:
    audit = good_audit()
    mutate(audit)
    found = statuses(audit)
    assert {name for name, status in found.items() if status == "fail"} == failed
    assert all(status == "pass" for name, status in found.items() if name not in failed)


def test_without_a_banner_nothing_can_be_decided() -> None:
    audit = good_audit()
    audit.banner = None
    audit.scenarios = audit.scenarios[:1]
    found = statuses(audit)
    assert {n for n, s in found.items() if s == "fail"} == {
        "banner-shown", "refusal-respected", "pixels-after-acceptance", "choices-respected",
        "gpc-honored"}
    assert audit.tag is not None
    assert checks.refusal_respected(checks.Seen(audit, audit.tag, SETTINGS)).summary == \
        checks.NO_BANNER


def test_without_the_tag_only_that_is_reported() -> None:
    missing = checks.evaluate(PageAudit(PAGE))
    assert [(c.name, c.status) for c in missing] == [("tag-loaded", "fail")]
    assert "no consentpixel tag" in missing[0].summary
    silent = checks.evaluate(PageAudit(PAGE, tag=PageTag(COLLECTOR, "shop")))
    assert [(c.name, c.status) for c in silent] == [("tag-loaded", "fail")]
    assert "settings of site 'shop' never arrived" in silent[0].summary


def no_held(audit: PageAudit) -> None:
    for found in audit.scenarios:
        for each in found.steps:
            each.held = []


NOT_APPLICABLE: list[tuple[str, Mutation, str]] = [
    ("no held scripts", lambda a: no_held(a), "held-scripts-wait"),
    ("no Google tags", lambda a: setattr(step(a, "first-visit", "load"), "data_layer", []),
     "consent-mode-first"),
    ("an opt-out site", lambda a: setattr(a.tag, "settings", replace(SETTINGS, mode="opt-out")),
     "nothing-before-consent"),
    ("one category", lambda a: setattr(a.tag, "settings", replace(SETTINGS, categories=("ads",))),
     "choices-respected"),
    ("GPC refuses nothing", lambda a: setattr(a.tag, "settings", replace(SETTINGS, gpc=())),
     "gpc-honored"),
]


@pytest.mark.parametrize("what, mutate, name", NOT_APPLICABLE, ids=[m[0] for m in NOT_APPLICABLE])
def test_checks_that_do_not_apply_say_so(what: str, mutate: Mutation, name: str) -> None:
    audit = good_audit()
    mutate(audit)
    assert statuses(audit)[name] == "n/a"


def test_evidence_says_what_fired_and_when() -> None:
    audit = good_audit()
    scenario(audit, "first-visit").requests.append(request(FIRED_BEACON, t=0.42))
    (failed,) = [c for c in checks.evaluate(audit) if c.status == "fail"]
    assert failed.evidence == ["[first visit, no decision] 0.42 s before a decision: Meta Pixel "
                               "(ads) GET https://www.facebook.com/tr?id=1&ev=PageView"]


# -- reports --------------------------------------------------------------------------------


def audited() -> AuditReport:
    audit = good_audit()
    scenario(audit, "accept").requests.append(
        request(FIRED_BEACON + "&em=ada%40analytical.example", "decision", 1.4))
    audit.checks = checks.evaluate(audit)
    broken = PageAudit("http://127.0.0.1:9/", error="cannot reach it: connection refused")
    return AuditReport("2026-11-28T12:00:00+00:00", "0.1.0", False, [audit, broken])


def test_the_terminal_summary() -> None:
    text = report.terminal(audited())
    assert "  PASS  tag-loaded" in text and "  FAIL  no-pii" in text
    assert "email in query parameter em of GET https://www.facebook.com/tr?" in text
    assert "    Accept all\n" in text and "pixel      p.gif s=demo e=pageview" in text
    assert "http://127.0.0.1:9/\n  not audited: cannot reach it: connection refused" in text
    assert text.endswith("consentpixel audit FAILED: 2 URLs, 9 passed, 1 failed, 0 n/a, "
                         "1 not audited")
    assert "\033[" not in text and "\033[31mFAIL" in report.terminal(audited(), color=True)


def test_the_json_report() -> None:
    data = json.loads(report.to_json(audited()))
    assert data["passed"] is False and len(data["pages"]) == 2
    page = data["pages"][0]
    assert [c["name"] for c in page["checks"]] == list(checks.TITLES)
    accept = next(s for s in page["scenarios"] if s["name"] == "accept")
    assert {"t", "step", "method", "url", "kind", "params", "pii"} <= set(accept["requests"][0])
    assert data["pages"][1]["error"] == "cannot reach it: connection refused"


def test_no_report_repeats_the_personal_data_it_found() -> None:
    for text in (report.terminal(audited()), report.to_json(audited()), report.html(audited())):
        assert "analytical.example" not in text and ":email" in text


def test_the_html_report_escapes_what_pages_send(tmp_path: Path) -> None:
    result = audited()
    page = result.pages[0]
    page.url = 'http://localhost:9000/<script>alert("x")</script>'
    step(page, "accept", "decision").screenshot = "screenshots/1-accept.png"
    index = report.write_html(result, tmp_path / "html")
    html = index.read_text()
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert '<img src="screenshots/1-accept.png"' in html
    assert "Not audited: cannot reach it: connection refused" in html


def test_a_report_passes_only_when_every_page_does() -> None:
    audit = good_audit()
    audit.checks = checks.evaluate(audit)
    assert AuditReport("", "", False, [audit]).passed
    failing = copy.deepcopy(audit)
    failing.checks.append(Check("no-pii", "", "fail", ""))
    assert not AuditReport("", "", False, [audit, failing]).passed
    assert not AuditReport("", "", False, []).passed


# -- the command's mistakes (no browser needed) ------------------------------------------------


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "consentpixel", "audit", *args],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("args, message", [
    (["shop.example"], "'shop.example' is not an http or https URL"),
    (["ftp://shop.example/"], "'ftp://shop.example/' is not an http or https URL"),
    (["http://shop.example/", "--pages", "0"], "--pages must be 1 or more"),
    (["http://shop.example/", "--trackers", "/nonexistent/trackers.toml"],
     "/nonexistent/trackers.toml: No such file or directory"),
])
def test_usage_mistakes_are_one_line(args: list[str], message: str) -> None:
    done = run(*args)
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith(f"consentpixel: {message}")
