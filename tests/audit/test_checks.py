"""The checks on recorded visits: a well-behaved page passes every one, each mistake
fails exactly its check, and checks that do not apply say so."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import pytest

from consentpixel.audit import checks
from consentpixel.audit.model import Banner, Held, PageAudit, PageTag, Scenario

from .helpers import (ANY_CLASSIFIER, CLASSIFIER, COLLECTOR, FIRED_BEACON, GA_BEACON, HELD_SRC,
                      PAGE, SETTINGS, any_cookie, any_recorded, any_request, good_any_audit,
                      good_audit,
                      pixel, replace_request, request, scenario, state, statuses, step)


def test_a_well_behaved_page_passes_every_check() -> None:
    # its scenarios are plan()'s, see test_browser.py
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


def test_a_tag_that_never_started_is_reported_alone() -> None:
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


# -- pages without our tag, whatever their consent manager -----------------------------

OUR_TAG_ONLY = {"tag-loaded", "held-scripts-wait", "pixels-after-acceptance",
                "choices-respected"}


def test_a_page_with_a_well_configured_consent_manager_passes_what_applies() -> None:
    found = statuses(good_any_audit())
    assert list(found) == list(checks.TITLES)
    assert {n for n, s in found.items() if s == "n/a"} == OUR_TAG_ONLY | {
        "gpc-honored", "consent-mode-first"}
    assert {n for n, s in found.items() if s == "fail"} == set()


def claims_gpc(audit: PageAudit, ads: bool) -> None:
    audit.gpc_claimed = True
    visit = any_recorded(Scenario("gpc", "under GPC", "none", ("analytics",), gpc=True))
    if ads:
        visit.requests.append(any_request(FIRED_BEACON, "load", 0.4))
    audit.scenarios.append(visit)


def no_banner(audit: PageAudit, timed_out: str = "") -> None:
    audit.banner = None
    audit.scenarios = audit.scenarios[:1]
    audit.timed_out = [timed_out] if timed_out else []


ANY_MUTATIONS: list[tuple[str, Mutation, set[str]]] = [
    ("a tracker beacon before a choice",
     lambda a: scenario(a, "first-visit").requests.append(any_request(FIRED_BEACON, t=0.3)),
     {"nothing-before-consent"}),
    ("a tracker cookie before a choice",
     lambda a: step(a, "first-visit", "load").cookies.append(any_cookie("_ga")),
     {"nothing-before-consent"}),
    ("a tracker's storage key before a choice",
     lambda a: step(a, "first-visit", "load").storage.append(
         ANY_CLASSIFIER.stored("local", "_hjSessionUser_1")),
     {"nothing-before-consent"}),
    ("a tracker's fetch with a body before a choice",
     lambda a: scenario(a, "first-visit").requests.append(any_request(
         "https://analytics.tiktok.com/api/v2/pixel", t=0.4, method="POST", resource="fetch",
         body=b'{"event":"PageView"}')),
     {"nothing-before-consent"}),
    ("a beacon after Reject all and a reload",
     lambda a: scenario(a, "reject").requests.append(any_request(GA_BEACON, "reload", 2.2)),
     {"refusal-respected"}),
    ("a tracker cookie after Reject all",
     lambda a: step(a, "reject", "decision").cookies.append(any_cookie("_fbp")),
     {"refusal-respected"}),
    ("the refusal forgotten: the banner asks again after a reload",
     lambda a: setattr(step(a, "reject", "reload"), "banner", True),
     {"refusal-respected"}),
    ("no way to refuse",
     lambda a: setattr(scenario(a, "reject"), "error", "found no way to refuse"),
     {"refusal-respected"}),
    ("no reject control on the first layer",
     lambda a: a.banner and a.banner.buttons.pop("reject"),
     {"banner-shown"}),
    ("trackers that never fire, even after Accept all",
     lambda a: setattr(scenario(a, "accept"), "requests", scenario(a, "accept").requests[:2]),
     {"trackers-after-acceptance"}),
    ("an ads tracker under GPC on a site that says it honours it",
     lambda a: claims_gpc(a, ads=True),
     {"gpc-honored"}),
    ("an e-mail address in a beacon",
     lambda a: scenario(a, "accept").requests.append(
         any_request(FIRED_BEACON + "&em=ada%40analytical.example", "decision", 1.4)),
     {"no-pii"}),
    ("Google's tag before a choice, without Consent Mode",
     lambda a: setattr(step(a, "first-visit", "load"), "data_layer", ["js", "config G-1"]),
     {"consent-mode-first"}),
    ("no banner, while trackers run",
     lambda a: (no_banner(a), scenario(a, "first-visit").requests.append(
         any_request(FIRED_BEACON, t=0.3))),
     {"banner-shown", "nothing-before-consent", "refusal-respected"}),
    ("a consent manager whose banner never came",
     lambda a: no_banner(a, "timed out after 30 s (--timeout): Klaro was recognised (its "
                            "JavaScript global) but showed no banner"),
     {"banner-shown", "refusal-respected"}),
]


@pytest.mark.parametrize("what, mutate, failed", ANY_MUTATIONS, ids=[m[0] for m in ANY_MUTATIONS])
def test_each_mistake_of_a_page_without_our_tag_fails_its_check(
        what: str, mutate: Mutation, failed: set[str]) -> None:
    audit = good_any_audit()
    mutate(audit)
    found = statuses(audit)
    assert {name for name, status in found.items() if status == "fail"} == failed
    assert all(found[name] == "n/a" for name in OUR_TAG_ONLY)


def test_findings_name_the_tracker_and_the_evidence() -> None:
    audit = good_any_audit()
    scenario(audit, "first-visit").requests.append(any_request(FIRED_BEACON, t=0.3))
    step(audit, "first-visit", "load").cookies.append(any_cookie("_fbp"))
    audit.banner = Banner(0.5, {"accept": "Accept all", "settings": "Settings"}, where="in a "
                          "third-party frame (https://cmp.example)")
    found = {c.name: c for c in checks.evaluate(audit)}
    assert found["nothing-before-consent"].evidence == [
        "[first visit, no decision] 0.30 s before a decision: Meta Pixel (ads) GET "
        "https://www.facebook.com/tr?id=1&ev=PageView",
        "[first visit, no decision] before a decision: cookie _fbp on localhost (Meta Pixel, ads)"]
    banner = found["banner-shown"]
    assert banner.summary == ("no reject control on the first layer of Klaro's banner (it "
                              "offers “Accept all”, “Settings”)")
    assert "in a third-party frame (https://cmp.example)" in banner.evidence


def test_a_timeout_is_reported_as_such() -> None:
    audit = good_any_audit()
    no_banner(audit, "timed out after 30 s (--timeout): Klaro was recognised (its JavaScript "
                     "global) but showed no banner")
    found = {c.name: c for c in checks.evaluate(audit)}
    assert found["banner-shown"].summary.startswith("timed out after 30 s (--timeout)")


def test_a_page_that_tracks_nothing_needs_no_banner() -> None:
    audit = good_any_audit()
    no_banner(audit)
    audit.manager = None
    found = statuses(audit)
    assert {n for n, s in found.items() if s == "fail"} == set()
    assert found["banner-shown"] == found["refusal-respected"] == "n/a"


def test_consent_mode_is_judged_where_google_runs() -> None:
    audit = good_any_audit()
    accepted = step(audit, "accept", "decision")
    accepted.data_layer = ["consent default", "js", "config G-1", "consent update"]
    assert statuses(audit)["consent-mode-first"] == "pass"
    accepted.data_layer = ["js", "config G-1", "consent default"]
    assert statuses(audit)["consent-mode-first"] == "fail"
    accepted.data_layer = ["js", "config G-1"]  # held until Accept all: nothing to hold back
    assert statuses(audit)["consent-mode-first"] == "n/a"


def test_gpc_is_judged_where_the_site_says_it_honours_it() -> None:
    audit = good_any_audit()
    claims_gpc(audit, ads=False)
    assert statuses(audit)["gpc-honored"] == "pass"
