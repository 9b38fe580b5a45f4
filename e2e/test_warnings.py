"""The tag's console warnings in real Chromium: each misconfiguration says what is wrong
and how to fix it, once; a correctly configured page prints nothing."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Any, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import CollectorProcess, PageServer, start_collector

CONFIG = """
[sites.demo]
origins = ["http://localhost:*"]
count_automation = true
[sites.demo.categories.analytics]
[sites.demo.categories.ads]

[sites.quiet]
origins = ["http://localhost:*"]
count_automation = false

[sites.elsewhere]
origins = ["https://shop.example"]
count_automation = true
"""


def page_with(tag: str, script: str = "") -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Warnings</title>'
            f'{tag}</head><body><h1>Warnings</h1><script>{script}</script></body></html>')


TAG = '<script async src="{{collector}}/t.js?site=%s"></script>'
UNDECLARED = ("window.cpx = window.cpx || function () { (cpx.q = cpx.q || []).push(arguments); };"
              "cpx('track', 'webinar'); cpx('track', 'webinar');")

# page -> the words the site owner reads in the console (one warning each)
CASES = [
    ("no-site", page_with('<script async src="{{collector}}/t.js"></script>'),
     ["the tag names no site", 't.js?site=NAME']),
    ("unknown-site", page_with(TAG % "shpo"),
     ['the tag names the site "shpo", which this collector does not know', "[sites.NAME]"]),
    ("origin", page_with(TAG % "elsewhere"),
     ["origin http://localhost:", "is not among sites.elsewhere.origins",
      "to origins in [sites.elsewhere]"]),
    ("automation", page_with(TAG % "quiet"),
     ["automated (navigator.webdriver)", "sites.quiet.count_automation is false",
      "Set count_automation = true in [sites.quiet]"]),
    ("event", page_with(TAG % "demo", UNDECLARED),
     ['the event "webinar" is not declared for site demo',
      'Declare it in [sites.demo.events]', 'webinar = "ads"']),
]


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    running = start_collector(tmp_path_factory.mktemp("warnings"), CONFIG)
    yield running
    running.stop()


def warnings_of(browser: Browser, pages: PageServer, collector: CollectorProcess,
                name: str, html: str, warned: bool) -> tuple[Page, list[str], list[str]]:
    pages.collector = collector.url
    pages.add(f"warn-{name}.html", html)
    context = browser.new_context()
    page = context.new_page()
    printed: list[str] = []  # everything the console shows, "type: text"
    requests: list[str] = []
    page.on("console", lambda m: printed.append(f"{m.type}: {m.text}"))
    page.on("request", lambda r: requests.append(r.url))
    waiting: AbstractContextManager[Any] = (page.expect_console_message(lambda m: m.type == "warning") if warned
               else nullcontext())
    with waiting:
        page.goto(pages.page(f"warn-{name}.html"))
    page.wait_for_timeout(300)  # a second warning would have come with the first
    return page, printed, requests


@pytest.mark.parametrize("name, html, words", CASES, ids=[case[0] for case in CASES])
def test_each_misconfiguration_is_said_once_with_its_fix(
        browser: Browser, pages: PageServer, collector: CollectorProcess, name: str, html: str,
        words: list[str]) -> None:
    page, printed, requests = warnings_of(browser, pages, collector, name, html, True)
    try:
        (warning,) = [text for text in printed if text.startswith("warning: ")]
        assert warning.startswith("warning: consentpixel: ")
        for part in words:
            assert part in warning
        if name == "no-site":
            assert not [url for url in requests if "/s/" in url]  # no /s/null.js
    finally:
        page.context.close()


def test_a_correctly_configured_page_prints_nothing(
        browser: Browser, pages: PageServer, collector: CollectorProcess) -> None:
    html = page_with(TAG % "demo", "window.cpx = window.cpx || function () { (cpx.q = cpx.q "
                     "|| []).push(arguments); }; cpx('track', 'signup');")
    page, printed, _ = warnings_of(browser, pages, collector, "silent", html, False)
    try:
        page.get_by_role("button", name="Accept all").click()
        page.evaluate("cpx('track', 'purchase', {value: 10, currency: 'EUR'})")
        page.evaluate("cpx('preferences')")
        expect(page.get_by_role("dialog")).to_be_visible()
        page.wait_for_timeout(300)
        assert printed == []
    finally:
        page.context.close()
