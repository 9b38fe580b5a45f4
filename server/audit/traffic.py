"""What a request is: the tag's own, a known tracker's, or first or third party.

A request as the browser saw it (`Raw`) becomes the audit's record of it here (a
`RecordedRequest`): classified, its pixel parameters decoded, personal data masked in
its URL and body.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from publicsuffixlist import PublicSuffixList

from . import pii
from .model import (FIRST_PARTY, PIXEL, PIXEL_KINDS, TAG, THIRD_PARTY, TRACKER,
                    TRACKER_SCRIPT, Cookie, Finding, RecordedRequest, Stored, TagSettings)
from .trackers import Trackers

MAX_BODY = 2000
TAG_FILES = re.compile(r"^(?:t\.js|w\.js|h\.js|b\.js|b\.css|[sp]/[^/]+\.(?:js|css)|gcm/[^/]+\.js)$")
PIXEL_FILE = re.compile(r"^([pci]\.gif)$")


@dataclass
class Raw:
    """A request as the browser saw it, before it is judged or masked."""

    t: float
    step: str
    method: str
    url: str
    resource: str
    body: bytes | None = None
    referer: str = ""
    status: int | None = None
    failure: str = ""
    answered: bool = False
    navigation: bool = False


@functools.cache
def suffixes() -> PublicSuffixList:
    """The public suffix list the package ships (read once: it takes some 70 ms)."""
    return PublicSuffixList()


def site_of(host: str) -> str:
    """The registrable part of a host: "www.shop.example" → "shop.example", and
    "shop.vercel.app" → itself, since anyone can have a name under vercel.app."""
    host = host.lower().rstrip(".")
    try:
        ipaddress.ip_address(host.strip("[]"))
        return host
    except ValueError:
        pass
    # None for a public suffix itself, or a name such as localhost: the host is the site
    return suffixes().privatesuffix(host) or host


def same_site(url: str, page: str) -> bool:
    return site_of(urlsplit(url).hostname or "") == site_of(urlsplit(page).hostname or "")


def ours(url: str, collector: str) -> str:
    """The collector's file that url asks for ("t.js", "p.gif", …), or ""."""
    if not collector or not url.startswith(collector):
        return ""
    file = url[len(collector):].split("?", 1)[0].split("#", 1)[0]
    return file if TAG_FILES.match(file) or PIXEL_FILE.match(file) else ""


def pixel_params(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


@dataclass(frozen=True)
class Classifier:
    """Judges the requests of one page: whose they are and what they carry."""

    page: str
    collector: str
    trackers: Trackers
    settings: TagSettings | None = None

    def kind(self, url: str) -> tuple[str, str, str]:
        """(kind, tracker name, category) of a request."""
        file = ours(url, self.collector)
        if file in PIXEL_KINDS:
            return PIXEL_KINDS[file], "", ""
        if file:
            return TAG, "", ""
        tracker = self.trackers.match(url)
        if tracker:
            return (TRACKER if tracker.beacon else TRACKER_SCRIPT), tracker.name, tracker.category
        return (FIRST_PARTY if same_site(url, self.page) else THIRD_PARTY), "", ""

    def request(self, raw: Raw) -> RecordedRequest:
        kind, tracker, category = self.kind(raw.url)
        scan = pii.scan_url(raw.url)
        body = (raw.body or b"")[:64_000].decode("utf-8", "replace")
        if body:
            pii.scan_body(body, scan)
        params = {}
        if kind in PIXEL_KINDS.values():
            params = {k: scan.mask(v) for k, v in pixel_params(raw.url).items()}
            if kind == PIXEL and self.settings:
                category = self.settings.events.get(params.get("e", ""), "")
        return RecordedRequest(
            t=round(raw.t, 3), step=raw.step, method=raw.method, url=scan.mask(raw.url),
            resource=raw.resource, kind=kind, tracker=tracker, category=category,
            params=params, body=scan.mask(body)[:MAX_BODY], referer=scan.mask(raw.referer),
            status=raw.status, failure=raw.failure, answered=raw.answered,
            navigation=raw.navigation,
            pii=[] if raw.navigation else [Finding(f.kind, f.where) for f in scan.findings])

    def cookie(self, name: str, domain: str, value: str) -> Cookie:
        host = domain.lstrip(".")
        first = same_site(f"https://{host}/", self.page)
        if name == "cpx" and first:
            # The decision: version.seconds.granted.gpc, no identifier, so it is shown.
            return Cookie(name, domain, "necessary", "consentpixel", value)
        for category, names in (self.settings.cookies if self.settings else {}).items():
            if any(rule_matches(wanted, name) for wanted in names):
                return Cookie(name, domain, category, "the site")
        rule = self.trackers.cookie(name)
        if rule:
            return Cookie(name, domain, rule.category, rule.owner)
        tracker = None if first else self.trackers.match(f"https://{host}/")
        if tracker:
            return Cookie(name, domain, tracker.category, tracker.name)
        return Cookie(name, domain, "", "the site" if first else host)

    def stored(self, area: str, key: str) -> Stored:
        if key == "cpx_touch" and self.settings:
            # the campaign touch, kept only once the conversions' category is granted
            return Stored(area, key, self.settings.attribution, "consentpixel")
        rule = self.trackers.stored(key)
        if rule:
            return Stored(area, key, rule.category, rule.owner)
        return Stored(area, key, "")


def rule_matches(wanted: str, name: str) -> bool:
    """A site's cookie setting: a name, or a prefix ending in * (as b.js reads it)."""
    return name.startswith(wanted[:-1]) if wanted.endswith("*") else name == wanted
