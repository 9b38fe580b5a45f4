"""Where a hit came from: campaign labels, click IDs and referrers, as coarse labels.

The browser keeps the campaign touch and sends only labels; the collector never
receives anything that could link two visits.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping

from publicsuffixlist import PublicSuffixList

from .privacy import clean_host, clean_label

# The query parameters the tag reads from a landing URL (the rest never leave the page).
UTM_PARAMS = ("utm_source", "utm_medium", "utm_campaign", "utm_content")

# Click IDs: the tag sends only the parameter's name, never its value.
CLICK_IDS: dict[str, tuple[str, str]] = {
    "gclid": ("google", "cpc"),
    "gbraid": ("google", "cpc"),
    "wbraid": ("google", "cpc"),
    "dclid": ("google", "display"),
    "msclkid": ("bing", "cpc"),
    "yclid": ("yandex", "cpc"),
    "fbclid": ("facebook", "paid-social"),
    "ttclid": ("tiktok", "paid-social"),
    "li_fat_id": ("linkedin", "paid-social"),
    "twclid": ("twitter", "paid-social"),
    "epik": ("pinterest", "paid-social"),
    "sccid": ("snapchat", "paid-social"),
}

# Referrers without campaign labels: search engines are organic, networks social. The
# list is data kept by others (its source is named in the file); "{}" in a host stands
# for any country's public suffix or any first label. Only ICANN's suffixes count
# here: "google.blogspot.com" is someone's blog, not Google.
REFERRERS_FILE = Path(__file__).parent / "data" / "referrers.json"
SUFFIXES = PublicSuffixList(only_icann=True)
# For stored hosts, a top-level domain the list does not know ("mail.example",
# "intranet.local") is not a place on the web: no registrable domain.
REGISTRARS = PublicSuffixList(only_icann=True, accept_unknown=False)


def load_referrers(path: Path = REFERRERS_FILE) -> dict[str, tuple[str, str]]:
    """Host (or host pattern) -> (source, medium); search engines win over networks."""
    data = json.loads(path.read_text())
    known: dict[str, tuple[str, str]] = {}
    for medium in ("organic", "social"):
        for source, hosts in data[medium].items():
            for host in hosts:
                known.setdefault(host, (source, medium))
    return known


REFERRERS = load_referrers()

DIRECT = ("direct", "(none)", "", "")


def labels(params: Mapping[str, str]) -> tuple[str, str, str, str]:
    """source, medium, campaign, content: from UTM labels, a click ID, the referrer."""
    source = clean_label(params.get("utm_source"))
    campaign = clean_label(params.get("utm_campaign"))
    if source or campaign:
        return (source or "(not set)", clean_label(params.get("utm_medium")) or "(not set)",
                campaign, clean_label(params.get("utm_content")))
    click = CLICK_IDS.get(params.get("k", ""))
    if click:
        return (*click, "", "")
    host = clean_host(params.get("r"))
    if host:
        return (*referral(host), "", "")
    return DIRECT


def referral(host: str) -> tuple[str, str]:
    """(source, medium) of a referrer host, cleaned (no "www.", no port).

    A listed host is its search engine or network; any other is reduced to its
    registrable domain ("travisreeves.example.net" is "example.net": the labels in
    front of it may be anyone's name), and a host under no public suffix is dropped.
    """
    if host.startswith(":"):
        return ("(referral)", "referral")
    # Mobile sites ("m.youtube.com") are their site.
    known = known_host(host) or (known_host(host[2:]) if host.startswith("m.") else None)
    return known or (registrable(host) or "(referral)", "referral")


def registrable(host: str) -> str | None:
    """The domain a registrar sold (ICANN's public suffixes only), or None."""
    return REGISTRARS.privatesuffix(host)


def known_host(host: str) -> tuple[str, str] | None:
    """The list's entry for host, as itself, "name.{}" or "{}.rest"."""
    known = REFERRERS.get(host)
    if known is None:
        suffix = SUFFIXES.publicsuffix(host)
        if suffix and suffix != host:
            known = REFERRERS.get(host[:-len(suffix)] + "{}")
    if known is None and "." in host:
        known = REFERRERS.get("{}." + host.partition(".")[2])
    return known
