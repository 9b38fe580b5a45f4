"""The banner's layouts in real Chromium: bar and box leave the page usable, scrollable and
focused where it was; the modal blocks it and takes the focus on the dialog itself; every
layout, language and viewport passes axe; screenshots of each layout, light and dark.

    CPX_SCREENSHOTS=docs/images pytest e2e/test_layouts.py   # the screenshots in docs/tag.md
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import CollectorProcess, PageServer, start_collector
from .test_consent_manager import axe

LAYOUTS = ["bar", "box", "modal"]
LANGUAGES = ["en", "de", "fr", "es"]
VIEWPORTS = {"desktop": {"width": 1280, "height": 800}, "mobile": {"width": 390, "height": 844}}
CONFIG = "".join(f"""
[sites.{layout}]
origins = ["http://localhost:*"]
count_automation = true
banner = "{layout}"
""" for layout in LAYOUTS)


def page_html(layout: str, lang: str) -> str:
    text = "".join(f"<p>Paragraph {i} of a page long enough to scroll.</p>" for i in range(60))
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
            f'<title>Layout {layout}</title>'
            f'<script async src="{{{{collector}}}}/t.js?site={layout}"></script></head>'
            f'<body><main><h1>A shop</h1><button id="buy">Add to cart</button>{text}</main>'
            f'<script>window.clicks = 0; document.getElementById("buy").onclick = '
            f'() => window.clicks++;</script></body></html>')


@pytest.fixture(scope="module")
def collector(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CollectorProcess]:
    running = start_collector(tmp_path_factory.mktemp("layouts"), CONFIG)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def layout_pages(pages: PageServer, collector: CollectorProcess) -> PageServer:
    for layout in LAYOUTS:
        for lang in LANGUAGES:
            pages.add(f"layout-{layout}-{lang}.html", page_html(layout, lang))
    return pages


def open_banner(browser: Browser, pages: PageServer, collector: CollectorProcess, layout: str,
                lang: str = "en", viewport: str = "desktop", scheme: Any = "light") -> Page:
    pages.collector = collector.url
    context = browser.new_context(viewport=VIEWPORTS[viewport],  # type: ignore[arg-type]
                                  color_scheme=scheme)
    page = context.new_page()
    page.goto(pages.page(f"layout-{layout}-{lang}.html"))
    expect(page.get_by_role("dialog")).to_be_visible()
    return page


def screenshot(page: Page, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("CPX_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 720, "height": 420})  # small files for the docs
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(folder / f"banner-{name}.png"))
    assert (folder / f"banner-{name}.png").stat().st_size > 1000


@pytest.mark.parametrize("layout", ["bar", "box"])
def test_a_non_blocking_banner_leaves_the_page_usable(
        browser: Browser, layout_pages: PageServer, collector: CollectorProcess, layout: str,
        tmp_path: Path) -> None:
    page = open_banner(browser, layout_pages, collector, layout)
    try:
        box = page.get_by_role("dialog")
        assert box.evaluate("b => b.matches(':modal')") is False
        assert page.evaluate("document.activeElement === document.body")  # not stolen
        page.keyboard.press("Tab")  # the keyboard reaches the banner first
        assert page.evaluate("document.activeElement.closest('dialog') !== null")
        page.click("#buy")  # the page answers while the banner is open
        assert page.evaluate("window.clicks") == 1
        page.mouse.wheel(0, 1500)
        page.wait_for_function("window.scrollY > 0")
        expect(box).to_be_in_viewport()  # it stays in view as the page scrolls
        screenshot(page, f"{layout}-light", tmp_path)
        dark = open_banner(browser, layout_pages, collector, layout, scheme="dark")
        screenshot(dark, f"{layout}-dark", tmp_path)
        assert dark.get_by_role("dialog").evaluate(
            "b => getComputedStyle(b).backgroundColor") == "rgb(31, 31, 31)"
        dark.context.close()
    finally:
        page.context.close()


def test_the_modal_blocks_the_page_and_focuses_the_dialog_itself(
        browser: Browser, layout_pages: PageServer, collector: CollectorProcess,
        tmp_path: Path) -> None:
    page = open_banner(browser, layout_pages, collector, "modal")
    try:
        box = page.get_by_role("dialog")
        assert box.evaluate("b => b.matches(':modal')") is True
        expect(box).to_be_focused()  # the dialog, not a button that looks pre-selected
        hit = page.evaluate("(() => { const r = document.getElementById('buy')"
                            ".getBoundingClientRect(); return document.elementFromPoint("
                            "r.x + r.width / 2, r.y + r.height / 2).id; })()")
        assert hit != "buy"
        screenshot(page, "modal-light", tmp_path)
        dark = open_banner(browser, layout_pages, collector, "modal", scheme="dark")
        screenshot(dark, "modal-dark", tmp_path)
        dark.context.close()
    finally:
        page.context.close()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_axe_finds_no_serious_violation_in_any_language_or_viewport(
        browser: Browser, layout_pages: PageServer, collector: CollectorProcess,
        layout: str) -> None:
    page = open_banner(browser, layout_pages, collector, layout)
    try:
        for lang in LANGUAGES:
            if lang != "en":
                page.goto(layout_pages.page(f"layout-{layout}-{lang}.html"))
            expect(page.get_by_role("dialog")).to_have_attribute("lang", lang)
            for viewport, size in VIEWPORTS.items():
                page.set_viewport_size(size)  # type: ignore[arg-type]
                assert axe(page, "dialog") == [], (layout, lang, viewport)
        page.emulate_media(color_scheme="dark")  # where the colors change
        assert axe(page, "dialog") == [], (layout, "dark")
    finally:
        page.context.close()
