"""The audit's run without a browser: the scenarios a site's settings call for, and the
line each one prints. The run itself is in e2e/test_audit.py."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from consentpixel.audit.browser import describe, plan

from .helpers import SETTINGS, good_audit, scenario


@pytest.mark.parametrize("changes, names", [
    ({}, ["first-visit", "reject", "accept", "only-analytics", "only-ads", "gpc"]),
    ({"gpc": ()}, ["first-visit", "reject", "accept", "only-analytics", "only-ads"]),
    ({"categories": ("ads",)}, ["first-visit", "reject", "accept", "gpc"]),
])
def test_the_scenarios_of_a_site(changes: dict[str, Any], names: list[str]) -> None:
    assert [s.name for s in plan(replace(SETTINGS, **changes))] == names


def test_what_each_scenario_allows() -> None:
    scenarios = {s.name: s for s in plan(SETTINGS)}
    assert scenarios["first-visit"].granted == ()  # opt-in: nothing before a decision
    assert scenarios["accept"].granted == ("analytics", "ads")
    assert scenarios["only-ads"].granted == ("ads",)
    assert (scenarios["gpc"].granted, scenarios["gpc"].gpc) == (("analytics",), True)
    opt_out = {s.name: s for s in plan(replace(SETTINGS, mode="opt-out"))}
    assert opt_out["first-visit"].granted == ("ads", "analytics")


def test_a_scenario_in_one_line() -> None:
    accepted = scenario(good_audit(), "accept")
    assert describe(accepted) == ("  Accept all: 8 requests, 2 consentpixel pixels, "
                                  "1 tracker beacon")
    accepted.error = "the banner never appeared"
    assert describe(accepted).endswith("beacon (the banner never appeared)")
    accepted.via = "“Alle akzeptieren” in the page, by its accessible name"
    assert "beacon; chose by “Alle akzeptieren” in the page" in describe(accepted)
