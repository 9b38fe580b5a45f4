"""Reduce a User-Agent header to a device class, then forget it.

Whether an agent is automated comes from the crawler-user-agents list (its patterns,
maintained by others and shipped with the package), compiled once here. Matching
all of them costs some 100 µs per agent, so Ingest remembers the answer per agent;
`python -m bench` shows both costs.
"""

from __future__ import annotations

import re

from crawleruseragents import CRAWLER_USER_AGENTS_DATA

# The list's patterns are written to be matched case-sensitively. One alternation of
# all 1,500 is slower in Python's re than a few dozen of 50, and sorted, the patterns
# of a chunk share their first letters: re then skips every position where none of
# them can start without trying them one by one (half the time, on real browsers).
CHUNK = 50
PATTERNS: list[str] = sorted(entry["pattern"] for entry in CRAWLER_USER_AGENTS_DATA)
CRAWLERS = tuple(re.compile("|".join(PATTERNS[start:start + CHUNK]))
                 for start in range(0, len(PATTERNS), CHUNK))
# Headless Chrome says so in its User-Agent; other automated browsers are caught by
# navigator.webdriver, which the tag sends (w=1).
HEADLESS = re.compile(r"Headless", re.I)

# Matching costs time in proportion to the header's length, so only its start is read:
# real User-Agents are under 300 characters, and a longer header costs no more.
MAX_LENGTH = 512

TABLET = re.compile(r"ipad|tablet|kindle|silk/|playbook|(android(?!.*mobile))", re.I)
MOBILE = re.compile(r"mobi|iphone|ipod|android|blackberry|opera mini|windows phone", re.I)

DEVICES = ("desktop", "mobile", "tablet", "other")


def device(user_agent: str) -> str:
    if not user_agent:
        return "other"
    user_agent = user_agent[:MAX_LENGTH]
    if TABLET.search(user_agent):
        return "tablet"
    if MOBILE.search(user_agent):
        return "mobile"
    return "desktop"


def automated(user_agent: str) -> bool:
    """True for headless browsers, crawlers and scripts that announce themselves."""
    user_agent = user_agent[:MAX_LENGTH]
    if not user_agent or HEADLESS.search(user_agent):
        return True
    return any(pattern.search(user_agent) for pattern in CRAWLERS)
