"""A User-Agent becomes a device class and a yes or no for automation.

Measured against lists others maintain: the crawler-user-agents list's own examples
(which must not count as people) and fake-useragent's real browsers (which must).
"""

from __future__ import annotations

import json
from importlib.resources import files

import pytest
from crawleruseragents import CRAWLER_USER_AGENTS_DATA

from consentpixel import useragent

EXAMPLES = [agent for entry in CRAWLER_USER_AGENTS_DATA for agent in entry["instances"]]
BROWSERS = {row["useragent"]: row["type"] for row in map(json.loads, files("fake_useragent")
            .joinpath("data/browsers.jsonl").read_text().splitlines())}


def test_the_lists_are_there() -> None:
    assert len(EXAMPLES) > 2000 and len(BROWSERS) > 800


def test_the_crawler_lists_examples_are_automated() -> None:
    missed = [agent for agent in EXAMPLES if not useragent.automated(agent)]
    assert len(missed) <= len(EXAMPLES) // 100, missed[:20]


def test_no_real_browser_is_taken_for_automation() -> None:
    assert [agent for agent in BROWSERS if useragent.automated(agent)] == []


@pytest.mark.parametrize("agent", [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/130.0",
    "Googlebot/2.1 (+http://www.google.com/bot.html)",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/125.0.0.0 Mobile Safari/537.36 (compatible; Google-InspectionTool/1.0)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; Claude-User/1.0; "
    "+Claude-User@anthropic.com)",
    "WhatsApp/2.23.20.0",
    "curl/8.5.0",
    "",
])
def test_automation(agent: str) -> None:
    assert useragent.automated(agent)


@pytest.mark.parametrize("agent, device", [
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148 Safari/604.1",
     "mobile"),
    ("Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/130.0 Mobile Safari/537.36", "mobile"),
    ("Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) Safari/604.1", "tablet"),
    ("Mozilla/5.0 (Linux; Android 13; SM-X710) Chrome/130.0 Safari/537.36", "tablet"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Version/17.5 "
     "Safari/605.1.15", "desktop"),
    ("", "other"),
])
def test_the_user_agent_becomes_a_device_class(agent: str, device: str) -> None:
    assert useragent.device(agent) == device


def test_device_classes_agree_with_the_browser_corpus() -> None:
    wrong = [(agent, kind) for agent, kind in BROWSERS.items()
             if useragent.device(agent) != kind]
    assert len(wrong) <= len(BROWSERS) // 100, wrong


def test_only_the_start_of_a_long_header_is_read() -> None:
    """Matching costs time per character: a header longer than any browser's is cut."""
    padding = " x" * 5000
    chrome = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/130.0 Safari/537.36"
    assert useragent.automated("Googlebot/2.1 (+http://www.google.com/bot.html)" + padding)
    assert not useragent.automated(chrome + padding + " Googlebot/2.1")
    assert useragent.device("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5) Mobile" + padding) == \
        "mobile"
