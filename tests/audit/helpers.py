"""What the audit's unit tests share: the demo site's settings and classifier, and a
well-behaved page's recorded audit, which each test changes by one mistake."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from consentpixel import demo, tag
from consentpixel.audit import checks, trackers
from consentpixel.audit.browser import plan, plan_any
from consentpixel.audit.model import (Banner, Cookie, Held, Manager, PageAudit, PageTag,
                                      RecordedRequest, Scenario, Step, TagSettings)
from consentpixel.audit.traffic import Classifier, Raw

COLLECTOR = "http://127.0.0.1:8000/"
PAGE = "http://localhost:9000/shop.html"
SETTINGS = TagSettings.from_script(tag.config(tag.site_settings(demo.config().sites["demo"])))
assert SETTINGS is not None
CLASSIFIER = Classifier(PAGE, COLLECTOR, trackers.BUILTIN, SETTINGS)

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


# -- a page without our tag, whose consent manager holds two trackers until Accept all

ANY_CLASSIFIER = Classifier(PAGE, "", trackers.BUILTIN, None)
GA_BEACON = "https://region1.google-analytics.com/g/collect?v=2&tid=G-1&en=page_view"
ANY_BUTTONS = {"reject": "Alle ablehnen", "accept": "Alle akzeptieren", "settings": "Anpassen"}


def any_request(url: str, step: str = "load", t: float = 0.1, **extra: Any) -> RecordedRequest:
    return ANY_CLASSIFIER.request(Raw(t, step, extra.pop("method", "GET"), url,
                                      extra.pop("resource", "image"), **extra))


def any_cookie(name: str) -> Cookie:
    return ANY_CLASSIFIER.cookie(name, "localhost", "1")


def any_recorded(scenario: Scenario) -> Scenario:
    """What a page with a well-configured consent manager records in a scenario."""
    manager = ANY_CLASSIFIER.cookie("cmp_consent", "localhost", "1")
    scenario.steps = [Step("load", "before a decision", False, 0.0, PAGE, banner=True)]
    scenario.requests = [any_request(PAGE, navigation=True, resource="document"),
                         any_request(PAGE.replace("shop.html", "cmp.js"), resource="script")]
    if scenario.action == "reject":
        scenario.via = "“Alle ablehnen” in the page, by its accessible name"
        scenario.steps += [Step("decision", "after the choice", True, 1.0, PAGE, [manager],
                                banner=False),
                           Step("reload", "after a reload", True, 2.0, PAGE, [manager],
                                banner=False)]
        scenario.requests.append(any_request(PAGE, "reload", 2.0, navigation=True))
    if scenario.action == "accept":
        scenario.via = "“Alle akzeptieren” in the page, by its accessible name"
        scenario.steps.append(Step("decision", "after the choice", True, 1.0, PAGE,
                                   [manager, any_cookie("_ga"), any_cookie("_fbp")],
                                   banner=False))
        scenario.requests += [any_request(GA_BEACON, "decision", 1.2, method="POST",
                                          resource="ping"),
                              any_request(FIRED_BEACON, "decision", 1.3)]
    return scenario


def good_any_audit() -> PageAudit:
    audit = PageAudit(PAGE, manager=Manager("Klaro", "its JavaScript global", api=True),
                      pages=[PAGE], banner=Banner(0.5, dict(ANY_BUTTONS), where="in the page"))
    audit.scenarios = [any_recorded(Scenario("first-visit", "first visit, no decision", "none",
                                             ()))]
    audit.scenarios += [any_recorded(s) for s in plan_any(audit)]
    return audit
