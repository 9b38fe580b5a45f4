"""Hits not counted, and why: tallied per site, day, reason and detail, and explained.

A dropped hit is kept as an aggregate like a counted one, so the owner can see why
nothing counts (the dashboard's "Not counted" panel, `consentpixel report --drops`,
`GET /api/v1/drops`, and the log at most once a minute per site and reason).

The detail names what to fix: the origin (scheme://host:port, nothing else), the site
name or event name that is not configured, the currency code. It never holds a path,
a query, an address or a User-Agent, and it is bounded: per site, day and reason only
the first MAX_DETAILS distinct details are named, the rest count as "(other)"; hits for
a site name that is not configured count under one UNKNOWN_SITE. A flood of forged
origins or site names therefore adds a bounded number of rows and log lines.
"""

from __future__ import annotations

import logging
import re
from typing import NamedTuple

from .config import SITE_NAME, Config
from .privacy import RARE_LABEL

log = logging.getLogger("consentpixel")

UNKNOWN_SITE = "(unknown)"  # no configured site name has parentheses
OTHER = "(other)"
NONE = "(none)"
MALFORMED = "(malformed)"
MAX_DETAILS = 10
LOG_EVERY = 60.0  # seconds between two log lines for one site and reason
DAY = 86400

ORIGIN = re.compile(r"^https?://(?:[a-z0-9-]{1,63}\.)*[a-z0-9-]{1,63}(?::\d{1,5})?$|"
                    r"^https?://\[[0-9a-f:.]{2,45}\](?::\d{1,5})?$")
EVENT = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
# What a detail may look like, per reason; a reason not listed keeps none.
SHAPES = {"origin": ORIGIN, "site": SITE_NAME, "event": EVENT, "consent": EVENT,
          "gpc": EVENT, "currency": CURRENCY}
# Outcomes the visitor chose: logged as information, not as a fault.
CHOSEN = frozenset({"consent", "gpc"})


class DropKey(NamedTuple):
    site: str  # a configured site, or UNKNOWN_SITE
    day: int   # start of the UTC day, seconds since the epoch
    reason: str
    detail: str = ""


def shaped(reason: str, detail: str) -> str:
    """The detail if it has the shape its reason allows, else a placeholder."""
    shape = SHAPES.get(reason)
    if shape is None:
        return ""
    if not detail:
        return NONE
    if detail == RARE_LABEL:  # free text too few clients sent (crowd.py)
        return detail
    detail = detail.lower() if reason == "origin" else detail
    return detail if len(detail) <= 300 and shape.match(detail) else MALFORMED


class Drops:
    """The keys one process tallies dropped hits under, bounded, and the log's pace."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.named: dict[tuple[str, int, str], set[str]] = {}
        self.logged: dict[tuple[str, str], float] = {}

    def key(self, reason: str, site: str, detail: str, now: float) -> DropKey:
        site = site if site in self.config.sites else UNKNOWN_SITE
        day = int(now) // DAY * DAY
        detail = shaped(reason, detail)
        if detail:
            named = self.named.get((site, day, reason))
            if named is None:
                self.forget_before(day)
                named = self.named[(site, day, reason)] = set()
            if detail not in named:
                if len(named) >= MAX_DETAILS:
                    detail = OTHER
                else:
                    named.add(detail)
        return DropKey(site, day, reason, detail)

    def forget_before(self, day: int) -> None:
        for old in [key for key in self.named if key[1] < day - DAY]:
            del self.named[old]

    def log(self, key: DropKey, now: float) -> None:
        """Say it in the log, at most once a minute per site and reason."""
        last = self.logged.get((key.site, key.reason))
        if last is not None and now - last < LOG_EVERY:
            return
        self.logged[(key.site, key.reason)] = now
        level = logging.INFO if key.reason in CHOSEN else logging.WARNING
        log.log(level, "consentpixel: not counted for %s (%s): %s",
                "no configured site" if key.site == UNKNOWN_SITE else f"site {key.site}",
                key.reason, explain(self.config, key.site, key.reason, key.detail))


def explain(config: Config, site: str, reason: str, detail: str) -> str:
    """One line that says why hits were not counted and what fixes it."""
    table = f"sites.{site}"
    if reason == "origin":
        if detail == NONE:
            return ("hits came without a Referer: the page's Referrer-Policy must send at "
                    "least its origin (e.g. strict-origin-when-cross-origin)")
        if detail == OTHER:
            return f"more origins are not in {table}.origins (only {MAX_DETAILS} a day are named)"
        if detail == MALFORMED:
            return "hits came from pages that are not http(s) origins, or a forged Referer"
        if detail == RARE_LABEL:
            return (f"origins not in {table}.origins, each from too few clients to be "
                    "named (sites.NAME.crowd_clients)")
        return f"origin {detail} is not in {table}.origins (add it if these are your pages)"
    if reason == "site":
        names = ", ".join(sorted(config.sites)) or "none"
        if detail == NONE:
            return f"hits name no site: the tag is t.js?site=NAME (configured: {names})"
        if detail in (OTHER, MALFORMED):
            return f"more hits name sites that are not configured (configured: {names})"
        return f"the tag's site \"{detail}\" names no site in the config (configured: {names})"
    if reason == "event":
        if detail in (NONE, OTHER, MALFORMED):
            return f"hits carried no event, or events not declared in [{table}.events]"
        if detail == RARE_LABEL:
            return (f"events not declared in [{table}.events], each from too few clients "
                    "to be named (sites.NAME.crowd_clients)")
        return f"event {detail} is not declared: add {detail} = \"ads\" to [{table}.events]"
    if reason == "currency":
        return f"currency {detail} is not an ISO 4217 code (the site's is {table}.currency)"
    return REASONS.get(reason, "see docs/reports.md#not-counted").format(
        table=table, detail=detail)


REASONS = {
    "automation": "automated browsers are not counted: count_automation = true in "
                  "[{table}] counts them (e.g. for tests)",
    "consent": "the visitor had not allowed the category {detail} needs (a refusal, or a "
               "<noscript> pixel for an event not in {table}.exempt_events)",
    "gpc": "Global Privacy Control refused the category {detail} needs "
           "({table}.gpc_categories)",
    "rate_limit": "one address sent more than {table}.rate_limit hits in a minute",
    "malformed": "requests too long, with too many parameters, or an impression without "
                 "utm_campaign",
    "value": "the value is not a number like 49.90, up to 10000000",
    "buffer_full": "the store was unreachable and memory full (collector.max_buffer_cells)",
    "method": "pixels are requested with GET",
    "error": "the collector failed on these hits: see its log",
}
