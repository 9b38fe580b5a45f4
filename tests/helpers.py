"""Helpers shared by the tests: realistic hits, headers and personal data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

PII_CASES = json.loads((Path(__file__).parents[1] / "tests" / "data" / "pii-cases.json")
                       .read_text())["cases"]
ORIGIN = "http://127.0.0.1:8000"


def hit(**params: Any) -> dict[str, str]:
    """A page view from the tag on the demo site, with parameters overridden."""
    base = {"s": "demo", "e": "pageview", "p": "/", "a": "analytics-ads"}
    base.update({key: str(value) for key, value in params.items() if value is not None})
    return {key: value for key, value in base.items() if value != "None"}


def headers(referer: str = ORIGIN + "/", agent: str = "Mozilla/5.0 (X11; Linux x86_64) "
            "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36",
            gpc: bool = False) -> list[tuple[bytes, bytes]]:
    pairs = [(b"referer", referer.encode()), (b"user-agent", agent.encode())]
    if gpc:
        pairs.append((b"sec-gpc", b"1"))
    return pairs
