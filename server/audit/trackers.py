"""Well-known third-party trackers: their beacons, scripts, cookies and storage keys.

A beacon sends data about the visit (an image pixel, a collect endpoint): firing one
needs consent. A script only loads code, such as a tag manager that Consent Mode
restrains: it is listed in the report but judged by what it sends. Each entry names
the consent category it belongs to; sites with other category names can say so in
their own list (`--trackers FILE`, TOML):

    [[tracker]]
    name = "Acme Analytics"
    host = "collect.acme.example"   # the host and its subdomains; "" for any host
    path = "/hit"                   # a path prefix, or "*/hit.php" for a suffix
    category = "statistics"         # a category of the site (default "ads")
    beacon = true                   # false for a script that sends nothing itself

    [[cookie]]                      # and [[storage]] for localStorage keys
    name = "_acme*"                 # a name, or a prefix ending in *
    category = "statistics"
    owner = "Acme Analytics"
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


class TrackersError(Exception):
    """A mistake in a trackers file, worded for the person who wrote it."""


@dataclass(frozen=True)
class Tracker:
    name: str
    host: str
    path: str = ""
    category: str = "ads"
    beacon: bool = True

    def matches(self, host: str, path: str) -> bool:
        if self.host and host != self.host and not host.endswith("." + self.host):
            return False
        if self.path.startswith("*"):
            return path.endswith(self.path[1:])
        return path.startswith(self.path)

    def pattern(self) -> str:
        """A regular expression for the URLs this entry matches."""
        host = r"[^/]*" if not self.host else r"(?:[^/]*\.)?" + re.escape(self.host)
        if self.path.startswith("*"):
            path = r"/[^?#]*" + re.escape(self.path[1:]) + r"(?:[?#]|$)"
        else:
            path = re.escape(self.path or "/")
        return rf"^https?://{host}(?::\d+)?{path}"


@dataclass(frozen=True)
class NameRule:
    """A cookie or storage key: an exact name, or a prefix ending in *."""

    name: str
    category: str
    owner: str = ""

    def matches(self, name: str) -> bool:
        if self.name.endswith("*"):
            return name.startswith(self.name[:-1])
        return name == self.name


@dataclass(frozen=True)
class Trackers:
    trackers: tuple[Tracker, ...]
    cookies: tuple[NameRule, ...] = ()
    storage: tuple[NameRule, ...] = ()

    def match(self, url: str) -> Tracker | None:
        """The most specific entry for url: the longest host, then the longest path."""
        parts = urlsplit(url)
        host, path = (parts.hostname or "").lower(), parts.path or "/"
        found = [t for t in self.trackers if t.matches(host, path)]
        return max(found, key=lambda t: (len(t.host), len(t.path)), default=None)

    def cookie(self, name: str) -> NameRule | None:
        return next((rule for rule in self.cookies if rule.matches(name)), None)

    def stored(self, key: str) -> NameRule | None:
        return next((rule for rule in self.storage if rule.matches(key)), None)

    def beacons(self) -> re.Pattern[str] | None:
        """One expression for every beacon, so that only those are intercepted."""
        patterns = [t.pattern() for t in self.trackers if t.beacon]
        return re.compile("|".join(patterns), re.I) if patterns else None

    def extended(self, other: Trackers) -> Trackers:
        """Both lists, the other's entries first (they win ties)."""
        return Trackers(other.trackers + self.trackers, other.cookies + self.cookies,
                        other.storage + self.storage)


def beacon(name: str, host: str, path: str = "", category: str = "ads") -> Tracker:
    return Tracker(name, host, path, category, True)


def script(name: str, host: str, path: str = "", category: str = "ads") -> Tracker:
    return Tracker(name, host, path, category, False)


GA, ADS = "analytics", "ads"
BUILTIN = Trackers(
    trackers=(
        beacon("Google Analytics", "google-analytics.com", "/g/collect", GA),
        beacon("Google Analytics", "google-analytics.com", "/collect", GA),
        beacon("Google Analytics", "google-analytics.com", "/j/collect", GA),
        beacon("Google Analytics", "google-analytics.com", "/r/collect", GA),
        beacon("Google Analytics", "google-analytics.com", "/mp/collect", GA),
        beacon("Google Analytics", "analytics.google.com", "/g/collect", GA),
        script("Google Analytics", "google-analytics.com", "", GA),
        script("Google Tag Manager", "googletagmanager.com", "", GA),
        beacon("Google Ads", "googleadservices.com", "/pagead/conversion"),
        beacon("Google Ads", "google.com", "/pagead/1p-conversion"),
        beacon("Google Ads", "google.com", "/pagead/1p-user-list"),
        beacon("Google Ads", "google.com", "/ads/ga-audiences"),
        beacon("Google Ads", "google.com", "/ccm/collect"),
        beacon("Google Ads", "doubleclick.net"),
        beacon("Google Ads", "googlesyndication.com", "/pagead"),
        beacon("Meta Pixel", "facebook.com", "/tr"),
        script("Meta Pixel", "connect.facebook.net"),
        beacon("LinkedIn Insight", "px.ads.linkedin.com"),
        beacon("LinkedIn Insight", "linkedin.com", "/px"),
        script("LinkedIn Insight", "snap.licdn.com"),
        beacon("Microsoft Advertising", "bat.bing.com", "/action"),
        beacon("Microsoft Advertising", "bat.bing.net", "/action"),
        script("Microsoft Advertising", "bat.bing.com"),
        beacon("Microsoft Clarity", "clarity.ms", "/collect", GA),
        script("Microsoft Clarity", "clarity.ms", "", GA),
        beacon("TikTok Pixel", "analytics.tiktok.com", "/api/"),
        script("TikTok Pixel", "analytics.tiktok.com"),
        beacon("X (Twitter) Pixel", "t.co", "/i/adsct"),
        beacon("X (Twitter) Pixel", "analytics.twitter.com", "/i/adsct"),
        script("X (Twitter) Pixel", "static.ads-twitter.com"),
        beacon("Pinterest Tag", "ct.pinterest.com"),
        script("Pinterest Tag", "s.pinimg.com", "/ct/"),
        beacon("Snap Pixel", "tr.snapchat.com"),
        beacon("Snap Pixel", "tr-shadow.snapchat.com"),
        script("Snap Pixel", "sc-static.net", "/scevent.min.js"),
        beacon("Reddit Pixel", "alb.reddit.com"),
        beacon("Criteo", "criteo.com"),
        beacon("Criteo", "criteo.net"),
        beacon("Quantcast", "pixel.quantserve.com"),
        beacon("Taboola", "trc.taboola.com"),
        beacon("Taboola", "trc-events.taboola.com"),
        script("Taboola", "cdn.taboola.com"),
        beacon("Outbrain", "tr.outbrain.com"),
        script("Outbrain", "amplify.outbrain.com"),
        beacon("Hotjar", "hotjar.com", "/api/", GA),
        beacon("Hotjar", "hotjar.io", "", GA),
        script("Hotjar", "static.hotjar.com", "", GA),
        beacon("Yandex Metrica", "mc.yandex.ru", "", GA),
        beacon("Yandex Metrica", "mc.yandex.com", "", GA),
        beacon("Segment", "api.segment.io", "/v1/", GA),
        script("Segment", "cdn.segment.com", "", GA),
        beacon("Mixpanel", "mixpanel.com", "/track", GA),
        beacon("Mixpanel", "mixpanel.com", "/engage", GA),
        beacon("Amplitude", "amplitude.com", "/2/httpapi", GA),
        beacon("Amplitude", "amplitude.com", "/batch", GA),
        beacon("Heap", "heapanalytics.com", "/h", GA),
        beacon("Matomo", "", "*/matomo.php", GA),
        beacon("Matomo", "", "*/piwik.php", GA),
    ),
    cookies=(
        NameRule("_ga", GA, "Google Analytics"),
        NameRule("_ga_*", GA, "Google Analytics"),
        NameRule("_gid", GA, "Google Analytics"),
        NameRule("_gat*", GA, "Google Analytics"),
        NameRule("__utm*", GA, "Google Analytics"),
        NameRule("_gcl_*", ADS, "Google Ads"),
        NameRule("_gac_*", ADS, "Google Ads"),
        NameRule("__gads", ADS, "Google Ads"),
        NameRule("__gpi", ADS, "Google Ads"),
        NameRule("IDE", ADS, "Google Ads"),
        NameRule("test_cookie", ADS, "Google Ads"),
        NameRule("_fbp", ADS, "Meta Pixel"),
        NameRule("_fbc", ADS, "Meta Pixel"),
        NameRule("_uetsid", ADS, "Microsoft Advertising"),
        NameRule("_uetvid", ADS, "Microsoft Advertising"),
        NameRule("_uetmsclkid", ADS, "Microsoft Advertising"),
        NameRule("MUID", ADS, "Microsoft Advertising"),
        NameRule("_clck", GA, "Microsoft Clarity"),
        NameRule("_clsk", GA, "Microsoft Clarity"),
        NameRule("CLID", GA, "Microsoft Clarity"),
        NameRule("_ttp", ADS, "TikTok Pixel"),
        NameRule("_tt_enable_cookie", ADS, "TikTok Pixel"),
        NameRule("ttcsid*", ADS, "TikTok Pixel"),
        NameRule("_pin_unauth", ADS, "Pinterest Tag"),
        NameRule("_pinterest_ct_ua", ADS, "Pinterest Tag"),
        NameRule("_epik", ADS, "Pinterest Tag"),
        NameRule("_derived_epik", ADS, "Pinterest Tag"),
        NameRule("_scid", ADS, "Snap Pixel"),
        NameRule("_scid_r", ADS, "Snap Pixel"),
        NameRule("_sctr", ADS, "Snap Pixel"),
        NameRule("_twclid", ADS, "X (Twitter) Pixel"),
        NameRule("muc_ads", ADS, "X (Twitter) Pixel"),
        NameRule("personalization_id", ADS, "X (Twitter) Pixel"),
        NameRule("cto_bundle", ADS, "Criteo"),
        NameRule("cto_bidid", ADS, "Criteo"),
        NameRule("t_gid", ADS, "Taboola"),
        NameRule("t_pt_gid", ADS, "Taboola"),
        NameRule("taboola_*", ADS, "Taboola"),
        NameRule("obuid", ADS, "Outbrain"),
        NameRule("outbrain_*", ADS, "Outbrain"),
        NameRule("_rdt_uuid", ADS, "Reddit Pixel"),
        NameRule("li_fat_id", ADS, "LinkedIn Insight"),
        NameRule("li_sugr", ADS, "LinkedIn Insight"),
        NameRule("UserMatchHistory", ADS, "LinkedIn Insight"),
        NameRule("AnalyticsSyncHistory", ADS, "LinkedIn Insight"),
        NameRule("bcookie", ADS, "LinkedIn Insight"),
        NameRule("lidc", ADS, "LinkedIn Insight"),
        NameRule("_hj*", GA, "Hotjar"),
        NameRule("_pk_*", GA, "Matomo"),
        NameRule("_ym_*", GA, "Yandex Metrica"),
        NameRule("ajs_anonymous_id", GA, "Segment"),
        NameRule("ajs_user_id", GA, "Segment"),
        NameRule("amp_*", GA, "Amplitude"),
    ),
    storage=(
        NameRule("_gcl_ls", ADS, "Google Ads"),
        NameRule("_hj*", GA, "Hotjar"),
        NameRule("_ym*", GA, "Yandex Metrica"),
        NameRule("ajs_*", GA, "Segment"),
        NameRule("_pin_unauth*", ADS, "Pinterest Tag"),
        NameRule("_ttp", ADS, "TikTok Pixel"),
        NameRule("_scid", ADS, "Snap Pixel"),
        NameRule("_fbp", ADS, "Meta Pixel"),
        NameRule("cto_bundle", ADS, "Criteo"),
        NameRule("_uetsid*", ADS, "Microsoft Advertising"),
        NameRule("_uetvid*", ADS, "Microsoft Advertising"),
        NameRule("_clck", GA, "Microsoft Clarity"),
        NameRule("_clsk", GA, "Microsoft Clarity"),
    ),
)

TRACKER_KEYS = {"name", "host", "path", "category", "beacon"}
RULE_KEYS = {"name", "category", "owner"}


def load(path: str | Path) -> Trackers:
    """A trackers file, added to the built-in list."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise TrackersError(f"{path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TrackersError(f"{path}: not valid TOML: {exc}") from None
    unknown = set(raw) - {"tracker", "cookie", "storage"}
    if unknown:
        raise TrackersError(f"{path}: unknown table {sorted(unknown)[0]!r} "
                            "(expected [[tracker]], [[cookie]] or [[storage]])")
    own = Trackers(
        tuple(parse_tracker(item, f"{path}: tracker {i}")
              for i, item in parse_entries(raw, "tracker", path)),
        tuple(parse_rule(item, f"{path}: cookie {i}")
              for i, item in parse_entries(raw, "cookie", path)),
        tuple(parse_rule(item, f"{path}: storage {i}")
              for i, item in parse_entries(raw, "storage", path)))
    return BUILTIN.extended(own)


def parse_entries(raw: dict[str, Any], table: str, path: str | Path) -> list[tuple[int, Any]]:
    items = raw.get(table, [])
    if not isinstance(items, list):
        raise TrackersError(f"{path}: {table}: write it as [[{table}]]")
    return list(enumerate(items, 1))


def parse_tracker(item: Any, where: str) -> Tracker:
    fields = parse_table(item, TRACKER_KEYS, where)
    host = parse_string(fields, "host", where).lower().strip(".")
    path = parse_string(fields, "path", where)
    if not host and not path:
        raise TrackersError(f"{where}: give a host, a path, or both")
    if path and not path.startswith(("/", "*")):
        raise TrackersError(f"{where}: path must start with / (a prefix) or * (a suffix)")
    beacon = fields.get("beacon", True)
    if not isinstance(beacon, bool):
        raise TrackersError(f"{where}: beacon must be true or false")
    return Tracker(parse_string(fields, "name", where) or host or path, host, path,
                   parse_string(fields, "category", where) or "ads", beacon)


def parse_rule(item: Any, where: str) -> NameRule:
    fields = parse_table(item, RULE_KEYS, where)
    name = parse_string(fields, "name", where)
    if not name:
        raise TrackersError(f"{where}: name is required")
    return NameRule(name, parse_string(fields, "category", where) or "ads",
                    parse_string(fields, "owner", where))


def parse_table(item: Any, allowed: set[str], where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise TrackersError(f"{where}: must be a table")
    unknown = set(item) - allowed
    if unknown:
        raise TrackersError(f"{where}: unknown key {sorted(unknown)[0]!r} "
                            f"(known: {', '.join(sorted(allowed))})")
    return item


def parse_string(fields: dict[str, Any], key: str, where: str) -> str:
    value = fields.get(key, "")
    if not isinstance(value, str):
        raise TrackersError(f"{where}: {key} must be a string")
    return value
