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
        """Read `cpx('_config',{…});` in the script the collector serves per site (the
        parts of the tag a page asks for come with it), under the keys of tagkeys.py."""
        match = re.search(r"cpx\('_config',", text)
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


@dataclass
class Banner:
    t: float
    buttons: dict[str, str]  # data-a → visible text, for the first layer's buttons
    screenshot: str = ""


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
class PageAudit:
    url: str
    error: str = ""
    tag: PageTag | None = None
    pages: list[str] = field(default_factory=list)  # every page visited, the URL first
    banner: Banner | None = None
    scenarios: list[Scenario] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.error and all(check.status != "fail" for check in self.checks)


@dataclass
class AuditReport:
    started: str  # ISO 8601, UTC
    version: str
    live: bool
    pages: list[PageAudit] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return bool(self.pages) and all(page.passed for page in self.pages)

    def as_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, **asdict(self)}


def shorten(url: str, limit: int = 120) -> str:
    return url if len(url) <= limit else url[:limit - 1] + "…"
