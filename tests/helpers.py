"""Helpers shared by the tests: realistic hits, headers and personal data."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from consentpixel.buffer import Batch, Cell
from consentpixel.store import Store

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


# -- stored cells, for the report, API and dashboard tests ----------------------------

DAY = 86400
T0 = 1_772_323_200  # 2026-03-01T00:00Z: a fixed day, so reports never depend on the clock


def cell(event: str = "pageview", campaign: str = "", *, period: int = T0, path: str = "/",
         source: str = "direct", medium: str = "(none)", content: str = "",
         device: str = "desktop", currency: str = "", site: str = "demo") -> Cell:
    """A stored cell of the demo site; a campaign without a source comes from a newsletter."""
    if campaign and source == "direct":
        source, medium = "newsletter", "email"
    return Cell(site=site, period=period, event=event, path=path, source=source,
                medium=medium, campaign=campaign, content=content, device=device,
                currency=currency)


def seed(store: Store, cells: dict[Cell, tuple[int, int]]) -> None:
    """Write cells with their (count, value in minor units) as the flusher would."""
    batch = Batch()
    for key, (count, value) in cells.items():
        entry = batch.cells.setdefault(key, [0, 0])
        entry[0] += count
        entry[1] += value
    store.write(batch)
