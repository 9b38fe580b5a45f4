"""What an audit saw and what it concluded, as plain data.

Everything here is already masked: personal data found in a URL or body was replaced
by a placeholder before it was stored, so no report repeats what it found.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from .. import tagkeys

Status = Literal["pass", "fail", "n/a"]

# Request kinds: the tag's files and its three pixels, known trackers (beacons send
# data; scripts only load code), and everything else by party.
TAG, PIXEL, DECISION, IMPRESSION = "tag", "pixel", "decision", "impression"
TRACKER, TRACKER_SCRIPT = "tracker", "tracker-script"
FIRST_PARTY, THIRD_PARTY = "first-party", "third-party"
PIXEL_KINDS = {"p.gif": PIXEL, "c.gif": DECISION, "i.gif": IMPRESSION}

# -- the tag's contracts: what the audit reads of consentpixel's own pages ------------
# The banner, and its buttons by what they do (data-a="reject", "accept", "prefs",
# "save"), whatever the page's language; probe.js (readButtons, readConsent) reads the
# rest. The settings script is TagSettings.from_script below.
TAG_BANNER = "dialog.cpx[open]"
TAG_BUTTON = "[data-a={action}]"
TAG_SWITCHES = "input[role=switch]:enabled"
SETTINGS_IN_TAG = re.compile(r"\(window,document,(?=\{)|cpx\('_config',(?=\{)")


@dataclass(frozen=True)
class TagSettings:
    """The part of a site's settings (/s/SITE.js) that the checks need."""

    site: str
    mode: str
    categories: tuple[str, ...]
    events: dict[str, str]
    gpc: tuple[str, ...]
    cookies: dict[str, tuple[str, ...]]
    attribution: str  # the category that keeps the campaign touch (cpx_touch)

    @classmethod
    def from_script(cls, text: str) -> TagSettings | None:
        """Read the settings in the tag the collector serves per site, under the keys of
        tagkeys.py: the core's last argument (`…})(window,document,{…})`), or, from a
        collector before the one-file tag, `cpx('_config',{…})` in /s/SITE.js."""
        match = SETTINGS_IN_TAG.search(text)
        if not match:
            return None
        try:
            raw = json.JSONDecoder().raw_decode(text, match.end())[0]
            key = tagkeys.short
            return cls(site=str(raw[key("site")]), mode=str(raw[key("mode")]),
                       categories=tuple(raw[key("categories")]), events=dict(raw[key("events")]),
                       gpc=tuple(raw.get(key("gpcCategories"), ())),
                       cookies={k: tuple(v) for k, v in raw.get(key("cookies"), {}).items()},
                       attribution=str(raw.get(key("attributionCategory"), "")))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None

    def before_decision(self, gpc: bool) -> frozenset[str]:
        """What a visitor has allowed before deciding: nothing in opt-in mode."""
        if self.mode != "opt-out":
            return frozenset()
        return frozenset(c for c in self.categories if not (gpc and c in self.gpc))


@dataclass
class Finding:
    """Personal data in a request: what kind, and where (never the value itself)."""

    kind: str   # email, phone, card, iban
    where: str  # e.g. "query parameter em", "path", "body field phone"


@dataclass
class RecordedRequest:
    t: float        # seconds since the scenario began
    step: str       # the step it was sent in: load, decision, reload, page 2…
    method: str
    url: str        # masked
    resource: str   # Chromium's resource type: document, script, image, ping, fetch…
    kind: str
    tracker: str = ""     # the tracker's name, for tracker and tracker-script
    category: str = ""    # the consent category it needs, when known
    params: dict[str, str] = field(default_factory=dict)  # a pixel's, decoded and masked
    body: str = ""        # masked, shortened
    referer: str = ""
    status: int | None = None
    failure: str = ""
    answered: bool = False  # answered by the audit inside the browser, never sent
    navigation: bool = False  # a page the audit itself opened
    pii: list[Finding] = field(default_factory=list)

    def label(self) -> str:
        """One line: what a person needs to recognise the request."""
        if self.kind in (PIXEL, DECISION, IMPRESSION):
            file = self.url.split("?", 1)[0].rsplit("/", 1)[-1]
            shown = " ".join(f"{k}={v}" for k, v in self.params.items() if k != "z")
            return f"{file} {shown}".strip()
        who = f"{self.tracker} ({self.category}) " if self.tracker else ""
        return f"{who}{self.method} {shorten(self.url)}"


@dataclass
class Cookie:
    name: str
    domain: str
    category: str   # "necessary", a category, or "" when unknown
    owner: str = ""  # what set it, when known: "consentpixel", "Meta Pixel", "the site"
    value: str = ""  # only for the decision cookie, which holds no identifier


@dataclass
class Stored:
    """A localStorage or sessionStorage key."""

    area: str  # local or session
    key: str
    category: str
    owner: str = ""


@dataclass
class Held:
    """An element the page holds until consent (data-cpx-category)."""

    tag: str       # script or iframe
    src: str       # absolute URL, or "" for an inline script
    category: str
    runs: bool     # a script whose type makes the browser run it at once


@dataclass
class Step:
    name: str        # load, decision, reload, page 2…
    label: str       # for people: "before a decision", "after Reject all"…
    decided: bool
    t: float         # when it began
    url: str = ""
    cookies: list[Cookie] = field(default_factory=list)
    storage: list[Stored] = field(default_factory=list)
    consent: dict[str, bool] | None = None  # cpx('consent') at its end
    held: list[Held] = field(default_factory=list)
    data_layer: list[str] = field(default_factory=list)  # entries, e.g. "consent default"
    screenshot: str = ""
    banner: bool | None = None  # a page without our tag: its banner showed at the end


@dataclass
class Banner:
    t: float
    # What the first layer's controls do → their name: data-a → visible text on our
    # tag's banner; reject, accept, settings, dismiss → accessible name on another's.
    buttons: dict[str, str]
    screenshot: str = ""
    where: str = ""  # "in the page", "in an open shadow root", "in a third-party frame …"
    after_load: float = 0.0  # seconds after the page's load event


@dataclass
class Scenario:
    name: str            # first-visit, reject, accept, only-analytics…, gpc
    title: str           # "first visit", "Reject all", "only Analytics"…
    action: str          # none, reject, accept, only
    granted: tuple[str, ...]  # what the visitor allows after the decision
    gpc: bool = False
    steps: list[Step] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    error: str = ""
    via: str = ""  # how the choice was made: a control by its name, or an API call
    seconds: float = 0.0  # how long the visit took

    def step(self, name: str) -> Step | None:
        return next((step for step in self.steps if step.name == name), None)

    def during(self, step: Step) -> list[RecordedRequest]:
        return [request for request in self.requests if request.step == step.name]


@dataclass
class PageTag:
    collector: str   # the base URL the tag came from, ending in /
    site: str
    event: str = ""  # a conversion on the script element itself (data-event)
    settings: TagSettings | None = None


@dataclass
class Check:
    name: str
    title: str
    status: Status
    summary: str
    evidence: list[str] = field(default_factory=list)


@dataclass
class Manager:
    """The consent manager of a page without our tag, as far as the audit recognised it."""

    name: str      # "Klaro", …, or "" when none was recognised
    evidence: str  # what gave it away: "the global klaro", "#onetrust-banner-sdk"
    api: bool = False  # the audit can answer it through its JavaScript API


@dataclass
class PageAudit:
    url: str
    error: str = ""
    tag: PageTag | None = None
    manager: Manager | None = None  # on a page without our tag
    gpc_claimed: bool = False  # /.well-known/gpc.json says the site honours GPC
    pages: list[str] = field(default_factory=list)  # every page visited, the URL first
    banner: Banner | None = None
    timed_out: list[str] = field(default_factory=list)  # waits that ran out, for people
    scenarios: list[Scenario] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    seconds: float = 0.0  # from its first visit's start to its last visit's end

    @property
    def passed(self) -> bool:
        return not self.error and all(check.status != "fail" for check in self.checks)


@dataclass
class AuditReport:
    started: str  # ISO 8601, UTC
    version: str
    live: bool
    pages: list[PageAudit] = field(default_factory=list)
    seconds: float = 0.0  # the whole run, its pages audited side by side

    @property
    def passed(self) -> bool:
        return bool(self.pages) and all(page.passed for page in self.pages)

    def as_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, **asdict(self)}


def shorten(url: str, limit: int = 120) -> str:
    return url if len(url) <= limit else url[:limit - 1] + "…"
