"""The audit's checks: pure functions of what was seen, each named, with evidence.

A check fails with the lines that show why (what fired, in which scenario, when), and
passes with the lines that show what it looked at. A check that does not apply to a
page (no held scripts, no Google tags, one category only) says "n/a", never "pass".

A page without the consentpixel tag gets the same checks, judged by the rule of
opt-in consent (`ANY_SITE`: nothing that analytics or ads need before a choice, nothing
after Reject all, everything may run after Accept all, no ads under Global Privacy
Control where the site says it honours it); the checks that only make sense for our tag
(its settings, its pixels' parameters, its held elements, each category alone) say "n/a".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Iterable
from urllib.parse import urlsplit

from ..attribution import UTM_PARAMS
from ..currencies import MINOR_UNITS
from ..ingest import EVENT, VALUE
from .model import (DECISION, PIXEL, TAG, TRACKER, TRACKER_SCRIPT, Check, Held, PageAudit,
                    PageTag, RecordedRequest, Scenario, Status, Step, TagSettings)

TITLES = {
    "tag-loaded": "the tag loaded",
    "banner-shown": "the banner appeared, Reject as easy to reach as Accept",
    "nothing-before-consent": "nothing gated fired or was stored before a decision",
    "held-scripts-wait": "scripts and embeds held for a category waited for it",
    "refusal-respected": "nothing gated after Reject all, nor after a reload",
    "pixels-after-acceptance": "the expected pixels after Accept all, with valid parameters",
    "trackers-after-acceptance": "what was held until a choice ran once it was accepted",
    "choices-respected": "each category alone allowed only itself",
    "gpc-honored": "Global Privacy Control refused its categories",
    "no-pii": "no personal data in any request's URL or body",
    "consent-mode-first": "Consent Mode defaults came before other Google tags",
}
# What a pixel may carry (see static/t.js, send()); anything else is a leak or a bug.
PIXEL_PARAMS = frozenset({"s", "e", "p", "a", "r", "v", "c", "o", "w", "x", "z", "k",
                          *UTM_PARAMS})
NO_BANNER = "not checked: there was no banner to answer"
# How a page without our tag is judged: opt-in consent for the trackers' categories.
ANY_SITE = TagSettings(site="", mode="opt-in", categories=("analytics", "ads"), events={},
                       gpc=("ads",), cookies={}, attribution="")
ONLY_OUR_TAG = "consentpixel pages only"


def check(name: str, status: Status, summary: str, evidence: Iterable[str] = ()) -> Check:
    return Check(name, TITLES[name], status, summary, list(evidence))


def verdict(name: str, problems: list[str], passed: str, failed: str,
            seen: Iterable[str] = ()) -> Check:
    """Fail with the problems as evidence, or pass showing what was looked at; failed
    may hold {n}, the number of problems."""
    if problems:
        return check(name, "fail", failed.format(n=len(problems)), problems)
    return check(name, "pass", passed, seen)


def count(n: int, thing: str, things: str) -> str:
    return f"{n} {thing if n == 1 else things}"


@dataclass(frozen=True)
class Seen:
    """A page whose tag loaded: what the checks past the first one look at."""

    audit: PageAudit
    tag: PageTag
    settings: TagSettings

    def scenario(self, name: str) -> Scenario | None:
        return scenario(self.audit, name)


def evaluate(audit: PageAudit) -> list[Check]:
    if audit.tag is None:
        return evaluate_any(audit)
    loaded = tag_loaded(audit)
    if audit.tag.settings is None:
        return [loaded]
    seen = Seen(audit, audit.tag, audit.tag.settings)
    return [loaded, banner_shown(audit), nothing_before_consent(audit, seen.settings),
            held_scripts_wait(seen), refusal_respected(seen), pixels_after_acceptance(seen),
            trackers_after_acceptance(audit), choices_respected(seen), gpc_honored(seen),
            no_pii(audit), consent_mode_first(audit)]


def evaluate_any(audit: PageAudit) -> list[Check]:
    """A page without our tag, whatever its consent manager."""
    manager = audit.manager
    found = (f"{manager.name} recognised by {manager.evidence}" if manager
             else "no consent manager recognised by name")
    return [check("tag-loaded", "n/a", f"no consentpixel tag: audited as any page ({found})"),
            banner_shown_any(audit),
            nothing_before_consent(audit, ANY_SITE),
            check("held-scripts-wait", "n/a", f"data-cpx-category, {ONLY_OUR_TAG}: what the "
                  "page's consent manager holds is judged by what it sends"),
            refusal_respected_any(audit),
            check("pixels-after-acceptance", "n/a", f"consentpixel's pixels, {ONLY_OUR_TAG}"),
            trackers_after_acceptance(audit),
            check("choices-respected", "n/a", f"each category alone, {ONLY_OUR_TAG}"),
            gpc_honored_any(audit),
            no_pii(audit), consent_mode_first(audit)]


# -- what is allowed when ----------------------------------------------------------


def allowed(category: str, granted: frozenset[str], settings: TagSettings) -> bool:
    if category == "necessary":
        return True
    if category in settings.categories:
        return category in granted
    # A tracker's category the site does not name (say "ads" on a site that says
    # "marketing") is only judged where nothing at all was allowed.
    return bool(granted)


def granted_at(scenario: Scenario, step: Step, settings: TagSettings) -> frozenset[str]:
    if step.decided:
        return frozenset(scenario.granted)
    return settings.before_decision(scenario.gpc)


def when(scenario: Scenario, request: RecordedRequest) -> str:
    step = scenario.step(request.step)
    return f"[{scenario.title}] {request.t:.2f} s {step.label if step else request.step}"


def gated(scenario: Scenario, steps: list[Step], settings: TagSettings) -> list[str]:
    """Pixels, tracker beacons, cookies and storage keys that the choice did not allow."""
    lines: list[str] = []
    stored: set[str] = set()
    for step in steps:
        granted = granted_at(scenario, step, settings)
        for request in scenario.during(step):
            lines += refused_request(scenario, request, granted, settings)
        kept = [(c.name, c.category, f"cookie {c.name} on {c.domain} ({c.owner}")
                for c in step.cookies]
        kept += [(i.key, i.category, f"{i.area}Storage {i.key} ({i.owner or 'the site'}")
                 for i in step.storage]
        for name, category, what in kept:
            if category and not allowed(category, granted, settings) and name not in stored:
                stored.add(name)
                lines.append(f"[{scenario.title}] {step.label}: {what}, {category})")
    return lines


def refused_request(scenario: Scenario, request: RecordedRequest, granted: frozenset[str],
                    settings: TagSettings) -> list[str]:
    if request.kind == PIXEL:
        lines = []
        need = request.category or "an unknown category"
        if not allowed(request.category, granted, settings):
            lines.append(f"{when(scenario, request)}: {request.label()} (needs {need})")
        claimed = set(filter(None, request.params.get("a", "").split("-"))) - granted
        if claimed:
            lines.append(f"{when(scenario, request)}: {request.label()} claims "
                         f"{', '.join(sorted(claimed))} was allowed")
        return lines
    if request.kind == TRACKER and not allowed(request.category, granted, settings):
        return [f"{when(scenario, request)}: {request.label()}"]
    return []


def fired(scenario: Scenario, kinds: tuple[str, ...] = (PIXEL, DECISION, TRACKER)) -> list[str]:
    return [f"{when(scenario, r)}: {r.label()}" for r in scenario.requests if r.kind in kinds]


# -- the checks ---------------------------------------------------------------------


def tag_loaded(audit: PageAudit) -> Check:
    tag = audit.tag
    if tag is None:
        return check("tag-loaded", "fail", 'no consentpixel tag on the page (looked for '
                     '<script src=".../t.js?site=…">)')
    first = scenario(audit, "first-visit")
    files = [r for r in first.requests if r.kind == TAG] if first else []
    seen = [f"{r.t:.2f} s {r.method} {r.url} → {r.status or r.failure or 'no answer'}"
            for r in files]
    if tag.settings is None:
        return check("tag-loaded", "fail", f"the tag did not start: the settings of site "
                     f"{tag.site!r} never arrived from {tag.collector}", seen)
    settings = tag.settings
    return check("tag-loaded", "pass", f"site {tag.site} from {tag.collector} ({settings.mode}; "
                 f"categories {', '.join(settings.categories)})", seen)


def banner_shown(audit: PageAudit) -> Check:
    banner = audit.banner
    if banner is None:
        return check("banner-shown", "fail", audit.timed_out[0] if audit.timed_out
                     else "no banner appeared on a first visit")
    buttons = [f"{action}: {text}" for action, text in banner.buttons.items()]
    missing = [action for action in ("accept", "reject") if action not in banner.buttons]
    if missing:
        return check("banner-shown", "fail", f"no {missing[0]} control on the first layer",
                     buttons)
    return check("banner-shown", "pass", f"the banner opened at {banner.t:.2f} s with "
                 f"{', '.join(banner.buttons.values())}", buttons)


def nothing_before_consent(audit: PageAudit, settings: TagSettings) -> Check:
    first = scenario(audit, "first-visit")
    if settings.mode == "opt-out":
        return check("nothing-before-consent", "n/a",
                     "an opt-out site measures until the visitor refuses")
    if first is None:
        return check("nothing-before-consent", "fail", "the first visit did not run")
    counts = Counter(r.kind for r in first.requests)
    none = ("no consentpixel pixel, no tracker beacon, no gated cookie or storage" if audit.tag
            else "no tracker beacon, no tracker cookie or storage")
    return verdict("nothing-before-consent", gated(first, first.steps, settings),
                   f"{count(len(first.requests), 'request', 'requests')} before a decision ("
                   + ", ".join(f"{n} {kind}" for kind, n in counts.most_common())
                   + f"): {none}",
                   "gated before a decision (requests, cookies, storage): {n}",
                   fired(first, (PIXEL, TRACKER)))


def held_scripts_wait(seen: Seen) -> Check:
    held: dict[str, Held] = {}
    for s in seen.audit.scenarios:
        for step in s.steps:
            for element in step.held:
                name = element.src or f"inline {element.tag}"
                if name not in held or element.runs:  # once seen running, it runs
                    held[name] = element
    if not held:
        return check("held-scripts-wait", "n/a", "the page holds no script or embed "
                     "(data-cpx-category)")
    early = {name for name, h in held.items() if h.runs}
    problems = [f"{held[name].tag} {name} (held for {held[name].category}) runs at once: "
                + ('give it type="text/plain"' if held[name].tag == "script"
                   else "use data-cpx-src") for name in early]
    loads = []
    for s in seen.audit.scenarios:
        for step in s.steps:
            granted = granted_at(s, step, seen.settings)
            for request in s.during(step):
                h = held.get(request.url)
                if h is None or request.navigation:
                    continue
                line = f"{when(s, request)}: {h.tag} {request.url} (held for {h.category})"
                if allowed(h.category, granted, seen.settings):
                    loads.append(line + " loaded once allowed")
                else:
                    early.add(request.url)
                    problems.append(line + " loaded before it was allowed")
    return verdict("held-scripts-wait", problems,
                   f"{count(len(held), 'held script or embed', 'held scripts and embeds')} "
                   "waited for their category",
                   f"{count(len(early), 'held script or embed', 'held scripts or embeds')} "
                   "did not wait for its category",
                   loads or [f"{h.tag} {name} (held for {h.category})" for name, h in held.items()])


def refusal_respected(seen: Seen) -> Check:
    return after_decision(seen, "refusal-respected", "reject",
                          "nothing gated after Reject all (and a reload)",
                          "gated after Reject all (requests, cookies, storage): {n}")


def pixels_after_acceptance(seen: Seen) -> Check:
    return after_decision(seen, "pixels-after-acceptance", "accept",
                          "the expected pixels fired after Accept all, every parameter valid",
                          "problems after Accept all: {n}")


def gpc_honored(seen: Seen) -> Check:
    if not seen.settings.gpc:
        return check("gpc-honored", "n/a", "the site lets Global Privacy Control refuse nothing")
    return after_decision(seen, "gpc-honored", "gpc",
                          f"{', '.join(seen.settings.gpc)} stayed refused under Global Privacy "
                          "Control, even after Accept all",
                          "problems under Global Privacy Control: {n}")


def choices_respected(seen: Seen) -> Check:
    categories = seen.settings.categories
    if len(categories) < 2:
        return check("choices-respected", "n/a", "one category: Accept all covers it")
    problems: list[str] = []
    shown: list[str] = []
    for category in categories:
        result = after_decision(seen, "choices-respected", f"only-{category}", "", "")
        if result.status == "fail":
            problems += result.evidence or [result.summary]
        else:
            shown += result.evidence
    return verdict("choices-respected", problems,
                   f"each of {', '.join(categories)} alone allowed only its own pixels, "
                   "trackers, cookies and storage",
                   "problems when one category alone was allowed: {n}", shown)


def after_decision(seen: Seen, name: str, which: str, passed: str, failed: str) -> Check:
    """The scenario's decided steps: nothing gated, the consent state, the decision
    pixel and cookie, and every pixel expected, each with valid parameters."""
    found = seen.scenario(which)
    if found is None:
        return check(name, "fail", NO_BANNER if seen.audit.banner is None
                     else f"{which} did not run")
    if found.error:
        return check(name, "fail", f"[{found.title}] {found.error}")
    decided = [step for step in found.steps if step.decided]
    problems = gated(found, decided, seen.settings)
    problems += consent_state(found, decided, seen.settings)
    problems += decision(found, seen.settings)
    problems += expected_pixels(seen, found)
    problems += [f"{when(found, r)}: {r.label()}: {problem}" for r in found.requests
                 if r.kind == PIXEL for problem in pixel_problems(seen, found, r)]
    return verdict(name, problems, passed, failed, fired(found))


def consent_state(found: Scenario, steps: list[Step], settings: TagSettings) -> list[str]:
    want = {"decided": True, **{c: c in found.granted for c in settings.categories}}
    return [f"[{found.title}] {step.label}: cpx('consent') is {step.consent}, not {want}"
            for step in steps if step.consent != want]


def decision(found: Scenario, settings: TagSettings) -> list[str]:
    """The decision pixel (c.gif) and cookie must say what was chosen."""
    yes = "-".join(c for c in settings.categories if c in found.granted)
    no = "-".join(c for c in settings.categories if c not in found.granted)
    pixels = [r for r in found.requests if r.kind == DECISION and r.step == "decision"]
    problems = []
    if len(pixels) != 1:
        problems.append(f"[{found.title}] {len(pixels)} decision pixels (c.gif), not one")
    for pixel in pixels:
        if (pixel.params.get("y"), pixel.params.get("n")) != (yes, no):
            problems.append(f"{when(found, pixel)}: {pixel.label()}, not y={yes} n={no}")
    step = found.step("decision")
    cookie = next((c for c in step.cookies if c.name == "cpx"), None) if step else None
    parts = cookie.value.split(".") if cookie else []
    if len(parts) != 4 or parts[2] != yes or (parts[3] == "g") != found.gpc:
        want = f"version.seconds.{yes}.{'g' if found.gpc else ''}"
        problems.append(f"[{found.title}] the decision cookie is "
                        f"{cookie.value if cookie else 'missing'}, not {want}")
    return problems


def expected_pixels(seen: Seen, found: Scenario) -> list[str]:
    """A page view for every page load once its category is allowed, and the
    conversion the tag's script element declares (data-event) on the first page."""
    granted = frozenset(found.granted)
    loads = {"decision": ("load", "decision"), "reload": ("reload",),
             **{f"page {i}": (f"page {i}",) for i in range(2, len(seen.audit.pages) + 1)}}
    problems = []
    for load, steps in loads.items():
        step = found.step(load)
        if step is None:
            continue
        sent = [r.params.get("e") for r in found.requests if r.kind == PIXEL and r.step in steps]
        own = [seen.tag.event] if seen.tag.event and load in ("decision", "reload") else []
        for event in ["pageview", *own]:
            category = seen.settings.events.get(event, "")
            if category in granted and event not in sent:
                problems.append(f"[{found.title}] no {event} pixel {step.label}")
    return problems


def pixel_problems(seen: Seen, found: Scenario, request: RecordedRequest) -> list[str]:
    params = request.params
    problems = []
    if params.get("s") != seen.tag.site:
        problems.append(f"s is not the tag's site {seen.tag.site}")
    event = params.get("e", "")
    if not EVENT.match(event) or event not in seen.settings.events:
        problems.append(f"e={event} is not an event of the site")
    path = params.get("p", "")
    if not path.startswith("/") or "?" in path or "#" in path:
        problems.append("p is not a bare path")
    step = found.step(request.step)
    granted = granted_at(found, step, seen.settings) if step else frozenset(found.granted)
    if set(filter(None, params.get("a", "").split("-"))) != granted:
        problems.append(f"a={params.get('a', '')}, but {', '.join(sorted(granted)) or 'nothing'}"
                        " was allowed")
    if "v" in params and not VALUE.match(params["v"]):
        problems.append("v is not a plain decimal")
    if "c" in params and params["c"].upper() not in MINOR_UNITS:
        problems.append("c is not an ISO 4217 currency")
    problems += [f"unexpected parameter {name}" for name in params if name not in PIXEL_PARAMS]
    referer = urlsplit(request.referer)
    if referer.path not in ("", "/") or referer.query:
        problems.append("the Referer carries the page's path, not only its origin")
    return problems


def no_pii(audit: PageAudit) -> Check:
    problems, searched = [], 0
    for s in audit.scenarios:
        for request in s.requests:
            searched += not request.navigation
            for finding in request.pii:
                problems.append(f"{when(s, request)}: {finding.kind} in {finding.where} of "
                                f"{request.method} {request.url}")
    return verdict("no-pii", list(dict.fromkeys(problems)),
                   f"{searched} requests searched: no e-mail address, phone number, card "
                   "number or IBAN in a URL or body",
                   "personal data in requests: {n}")


def consent_mode_first(audit: PageAudit) -> Check:
    """Google's tags run with Consent Mode defaults set before them: on the first visit,
    or, where the consent manager held them until then, after Accept all."""
    first = scenario(audit, "first-visit")
    step = first.step("load") if first else None
    if first is None or step is None:
        return check("consent-mode-first", "fail", "the first visit did not run")
    fix = ("load /gcm/SITE.js, without async, before them" if audit.tag
           else "call gtag('consent', 'default', {…}) before Google's tags")
    found, entries, google = google_tags(first, step)
    if not found:
        accepted = scenario(audit, "accept")
        decided = [s for s in accepted.steps if s.decided] if accepted else []
        if accepted and decided:
            found, entries, google = google_tags(accepted, decided[0])
            if found and "consent default" not in entries:
                return check("consent-mode-first", "n/a", "Google's tags ran only once Accept "
                             "all allowed them: nothing for Consent Mode to hold back",
                             data_layer_lines(entries) + google)
    if not found:
        return check("consent-mode-first", "n/a", "no Google tags on the page")
    shown = data_layer_lines(entries) + google
    commands = [(i, e) for i, e in enumerate(entries) if not e.startswith("consent ")]
    defaults = [i for i, e in enumerate(entries) if e == "consent default"]
    if not defaults:
        return check("consent-mode-first", "fail",
                     f"Google tags without Consent Mode defaults: {fix}", shown)
    early = [e for i, e in commands if i < defaults[0]]
    if early:
        return check("consent-mode-first", "fail", f"{early[0]!r} came before the Consent Mode "
                     f"default: {fix}", shown)
    return check("consent-mode-first", "pass", f"consent default is dataLayer[{defaults[0]}], "
                 f"before {', '.join(e for _, e in commands[:3]) or 'any Google hit'}", shown)


def google_tags(found: Scenario, step: Step) -> tuple[bool, list[str], list[str]]:
    """Whether Google's tags ran in a scenario (a dataLayer command or a Google request),
    the dataLayer at the end of the step, and the Google requests as evidence."""
    entries = step.data_layer
    google = [f"{when(found, r)}: {r.label()}" for r in found.requests
              if r.tracker.startswith("Google")]
    commands = [e for e in entries if not e.startswith("consent ")]
    return bool(commands or google), entries, google


def data_layer_lines(entries: list[str]) -> list[str]:
    return [f"dataLayer[{i}]: {e}" for i, e in enumerate(entries)]


# -- pages without our tag ------------------------------------------------------------


def trackers_seen(audit: PageAudit) -> bool:
    """A known tracker anywhere: a request, a cookie or a storage key of one."""
    owners: list[str] = [item.owner for s in audit.scenarios for step in s.steps
                         for item in step.cookies if item.category]
    owners += [item.owner for s in audit.scenarios for step in s.steps
               for item in step.storage if item.category]
    return any(r.kind in (TRACKER, TRACKER_SCRIPT) for s in audit.scenarios for r in s.requests
               ) or any(owner not in ("", "consentpixel", "the site") for owner in owners)


def banner_shown_any(audit: PageAudit) -> Check:
    banner = audit.banner
    manager = audit.manager
    who = f"{manager.name}'s banner" if manager else "a banner"
    if banner is None:
        if audit.timed_out:
            return check("banner-shown", "fail", audit.timed_out[0])
        if not trackers_seen(audit):
            return check("banner-shown", "n/a", "no consent banner found, and no known tracker "
                         "before any choice: nothing to ask about")
        return check("banner-shown", "fail", "no consent banner found: no control to reject, "
                     "accept or dismiss, by role and accessible name, in the page, its open "
                     "shadow roots or its frames")
    controls = [f"{action}: “{name}”" for action, name in banner.buttons.items()]
    evidence = [*controls, f"{banner.where}"] + ([f"{manager.name}: {manager.evidence}"]
                                                 if manager else [])
    if "reject" not in banner.buttons:
        shown = ", ".join(f"“{name}”" for name in banner.buttons.values())
        return check("banner-shown", "fail", f"no reject control on the first layer of {who} "
                     f"(it offers {shown})", evidence)
    accept = banner.buttons.get("accept") or banner.buttons.get("dismiss")
    beside = f" beside “{accept}”" if accept else ""
    return check("banner-shown", "pass", f"{who} appeared at {banner.t:.2f} s {banner.where}, "
                 f"with “{banner.buttons['reject']}”{beside} on its first layer", evidence)


def refusal_respected_any(audit: PageAudit) -> Check:
    found = scenario(audit, "reject")
    if found is None:
        if audit.banner is None and not audit.timed_out and not trackers_seen(audit):
            return check("refusal-respected", "n/a", "no banner and no tracker: nothing to refuse")
        return check("refusal-respected", "fail", NO_BANNER)
    if found.error:
        return check("refusal-respected", "fail", f"[{found.title}] {found.error}")
    problems = gated(found, [step for step in found.steps if step.decided], ANY_SITE)
    reload = found.step("reload")
    if reload is None:
        problems.append(f"[{found.title}] the page was not reloaded")
    elif reload.banner:
        problems.append(f"[{found.title}] {reload.label}: the banner asked again, so the "
                        "refusal was not remembered")
    return verdict("refusal-respected", problems,
                   f"nothing gated after {found.via}, nor after a reload, which did not ask "
                   "again", "after Reject all (requests, cookies, storage, the banner): {n}",
                   fired(found))


def trackers_after_acceptance(audit: PageAudit) -> Check:
    """Accept all lets what was held run: a page whose trackers never fire is reported
    as such, since nothing else it passed would then mean much."""
    found = scenario(audit, "accept")
    if found is None:
        return check("trackers-after-acceptance", "n/a", "Accept all did not run (see "
                     "banner-shown)")
    if found.error:
        return check("trackers-after-acceptance", "fail", f"[{found.title}] {found.error}")
    decided = {step.name for step in found.steps if step.decided}
    beacons = [r for r in found.requests if r.kind == TRACKER]
    after = [r for r in beacons if r.step in decided]
    if after:
        names = ", ".join(dict.fromkeys(r.tracker for r in after))
        return check("trackers-after-acceptance", "pass",
                     f"{count(len(after), 'tracker beacon', 'tracker beacons')} after Accept all "
                     f"({names})", fired(found, (TRACKER,)))
    if audit.tag and not trackers_seen(audit):
        return check("trackers-after-acceptance", "n/a", "no known tracker on the page (its "
                     "consentpixel pixels are pixels-after-acceptance's)")
    if beacons:
        return check("trackers-after-acceptance", "n/a", "nothing was held: the trackers "
                     "fired before the choice (see nothing-before-consent)", fired(found))
    others = [f"{when(found, r)}: {r.label()}" for r in found.requests
              if r.step in decided and not r.navigation]
    return check("trackers-after-acceptance", "fail", "no known tracker fired, even after "
                 f"Accept all ({found.via or 'the accept control'}): the choice changed "
                 "nothing the audit knows (a tracker it does not know? see --trackers)", others)


def gpc_honored_any(audit: PageAudit) -> Check:
    if not audit.gpc_claimed:
        return check("gpc-honored", "n/a", "the site does not say it honours Global Privacy "
                     "Control (no /.well-known/gpc.json with \"gpc\": true)")
    found = scenario(audit, "gpc")
    if found is None or found.error:
        return check("gpc-honored", "fail", f"[under GPC] {found.error if found else 'did not run'}")
    # Under GPC the site itself says: no ads, whatever else it does before a choice.
    rules = replace(ANY_SITE, mode="opt-out")
    return verdict("gpc-honored", gated(found, found.steps, rules),
                   "the site says it honours Global Privacy Control, and no ads tracker ran "
                   "under it, nor after a reload", "ads under Global Privacy Control: {n}",
                   fired(found))


def scenario(audit: PageAudit, name: str) -> Scenario | None:
    return next((s for s in audit.scenarios if s.name == name), None)
