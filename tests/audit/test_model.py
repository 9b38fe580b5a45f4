"""What an audit records: the site's settings as the tag gets them, and the verdict."""

from __future__ import annotations

import copy
from dataclasses import replace

import pytest

from consentpixel.audit import checks
from consentpixel.audit.model import AuditReport, Check, TagSettings

from .helpers import SETTINGS, good_audit


def test_settings_from_the_collectors_script() -> None:
    assert SETTINGS is not None
    assert (SETTINGS.site, SETTINGS.mode, SETTINGS.categories, SETTINGS.gpc) == (
        "demo", "opt-in", ("analytics", "ads"), ("ads",))
    assert SETTINGS.events["pageview"] == "analytics" and SETTINGS.attribution == "ads"
    assert TagSettings.from_script("/* consentpixel: no such site */") is None
    assert TagSettings.from_script("cpx('_config',{\"s\": 1});") is None


@pytest.mark.parametrize("mode, gpc, allowed", [("opt-in", False, set()),
                                                ("opt-out", False, {"analytics", "ads"}),
                                                ("opt-out", True, {"analytics"})])
def test_what_is_allowed_before_a_decision(mode: str, gpc: bool, allowed: set[str]) -> None:
    assert replace(SETTINGS, mode=mode).before_decision(gpc) == allowed



def test_a_report_passes_only_when_every_page_does() -> None:
    audit = good_audit()
    audit.checks = checks.evaluate(audit)
    assert AuditReport("", "", False, [audit]).passed
    failing = copy.deepcopy(audit)
    failing.checks.append(Check("no-pii", "", "fail", ""))
    assert not AuditReport("", "", False, [audit, failing]).passed
    assert not AuditReport("", "", False, []).passed
