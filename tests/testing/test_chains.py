"""Requests in sequence, from Chromium's initiator events."""

from __future__ import annotations

from typing import Any

from consentpixel.testing.chains import chain_depth

PAGE = "http://localhost:8080/shop.html"
CORE = "http://127.0.0.1:8000/t.js"
SITE = "http://127.0.0.1:8000/s/shop.js?l=en"
STYLES = "http://127.0.0.1:8000/s/shop.css"


def event(url: str, kind: str, initiator: dict[str, Any]) -> dict[str, Any]:
    return {"request": {"url": url}, "type": kind, "initiator": initiator}


def by_script(*frames: str) -> dict[str, Any]:
    """An initiator that is a script's stack, its frames split over a parent stack."""
    first, *rest = frames
    stack: dict[str, Any] = {"callFrames": [{"url": first}]}
    if rest:
        stack["parent"] = {"callFrames": [{"url": url} for url in rest]}
    return {"type": "script", "stack": stack}


def test_the_page_is_step_zero_and_each_request_one_past_its_initiator() -> None:
    depths: dict[str, int] = {}
    assert chain_depth(event(PAGE, "Document", {"type": "other"}), depths) == 0
    assert chain_depth(event(CORE, "Script", {"type": "parser", "url": PAGE}), depths) == 1
    assert chain_depth(event(SITE, "Script", by_script(CORE)), depths) == 2
    # A frame further up the stack counts too: the deepest initiator decides.
    assert chain_depth(event(STYLES, "Stylesheet", by_script(PAGE, CORE)), depths) == 2
    assert depths == {PAGE: 0, CORE: 1, SITE: 2, STYLES: 2}


def test_a_request_asked_again_keeps_its_first_step() -> None:
    depths = {PAGE: 0, CORE: 1, SITE: 2}
    assert chain_depth(event(CORE, "Script", by_script(SITE)), depths) == 1


def test_a_request_with_no_known_initiator_is_one_step_from_the_page() -> None:
    assert chain_depth(event(CORE, "Script", {"type": "other"}), {}) == 1
