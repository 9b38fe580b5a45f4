"""Reduce a User-Agent header to a device class, then forget it."""

from __future__ import annotations

import re

AUTOMATION = re.compile(
    r"headless|bot\b|bot/|crawl|spider|slurp|lighthouse|phantomjs|puppeteer|playwright|"
    r"selenium|webdriver|python-requests|python-urllib|curl/|wget/|httpclient|go-http|"
    r"facebookexternalhit|preview", re.I)
TABLET = re.compile(r"ipad|tablet|kindle|silk/|playbook|(android(?!.*mobile))", re.I)
MOBILE = re.compile(r"mobi|iphone|ipod|android|blackberry|opera mini|windows phone", re.I)

DEVICES = ("desktop", "mobile", "tablet", "other")


def device(user_agent: str) -> str:
    if not user_agent:
        return "other"
    if TABLET.search(user_agent):
        return "tablet"
    if MOBILE.search(user_agent):
        return "mobile"
    return "desktop"


def automated(user_agent: str) -> bool:
    """True for headless browsers, crawlers and scripts that announce themselves."""
    return not user_agent or bool(AUTOMATION.search(user_agent))
