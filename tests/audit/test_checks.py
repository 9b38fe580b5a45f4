"""The checks on recorded visits: a well-behaved page passes every one, each mistake
fails exactly its check, and checks that do not apply say so."""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import pytest

from consentpixel.audit import checks
from consentpixel.audit.model import Banner, Held, PageAudit, PageTag

from .helpers import (CLASSIFIER, COLLECTOR, FIRED_BEACON, HELD_SRC, PAGE, SETTINGS,
                      good_audit, pixel, replace_request, request, scenario, state, statuses,
                      step)


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
