"""Where a hit came from: campaign labels, click IDs and referrers, as coarse labels.

The browser keeps the campaign touch and sends only labels; the collector never
receives anything that could link two visits.
"""

from __future__ import annotations

from typing import Mapping

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

# Referrers without campaign labels: search engines are organic, networks social.
SEARCH = {"google": "google", "bing": "bing", "duckduckgo": "duckduckgo", "yahoo": "yahoo",
          "search.yahoo": "yahoo", "ecosia": "ecosia", "baidu": "baidu", "yandex": "yandex",
          "qwant": "qwant", "startpage": "startpage", "search.brave": "brave"}
SOCIAL = {"facebook": "facebook", "l.facebook": "facebook", "lm.facebook": "facebook",
          "m.facebook": "facebook", "instagram": "instagram", "l.instagram": "instagram",
          "t": "twitter", "twitter": "twitter", "x": "twitter", "linkedin": "linkedin",
          "lnkd": "linkedin", "reddit": "reddit", "old.reddit": "reddit",
          "youtube": "youtube", "m.youtube": "youtube", "tiktok": "tiktok",
          "pinterest": "pinterest", "mastodon.social": "mastodon", "threads": "threads"}

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
    if host.startswith(":"):
        return ("(referral)", "referral")
    name = host.rsplit(".", 1)[0] if "." in host else host
    parts = name.split(".")
    for known, medium in ((SEARCH, "organic"), (SOCIAL, "social")):
        if name in known:
            return (known[name], medium)
        if len(parts) > 1 and parts[-2] in known and parts[-1] in ("co", "com"):
            return (known[parts[-2]], medium)  # google.co.uk, google.com.br
        if len(parts) > 1 and ".".join(parts[1:]) in known and parts[0] in ("www", "m"):
            return (known[".".join(parts[1:])], medium)
    return (host, "referral")
