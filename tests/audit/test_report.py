"""The audit's report: the terminal summary, JSON and HTML, none repeating personal data."""

from __future__ import annotations

import json
from pathlib import Path

from consentpixel.audit import checks, report
from consentpixel.audit.model import AuditReport, PageAudit

from .helpers import FIRED_BEACON, good_audit, request, scenario, step


def audited() -> AuditReport:
    audit = good_audit()
    scenario(audit, "accept").requests.append(
        request(FIRED_BEACON + "&em=ada%40analytical.example", "decision", 1.4))
    audit.checks = checks.evaluate(audit)
    broken = PageAudit("http://127.0.0.1:9/", error="cannot reach it: connection refused")
    return AuditReport("2026-11-28T12:00:00+00:00", "0.1.0", False, [audit, broken])


def test_the_terminal_summary() -> None:
    text = report.terminal(audited())
    assert "  PASS  tag-loaded" in text and "  FAIL  no-pii" in text
    assert "email in query parameter em of GET https://www.facebook.com/tr?" in text
    assert "    Accept all\n" in text and "pixel      p.gif s=demo e=pageview" in text
    assert "http://127.0.0.1:9/\n  not audited: cannot reach it: connection refused" in text
    assert text.endswith("consentpixel audit FAILED: 2 URLs, 10 passed, 1 failed, 0 n/a, "
                         "1 not audited")
    assert "\033[" not in text and "\033[31mFAIL" in report.terminal(audited(), color=True)


def test_the_json_report() -> None:
    data = json.loads(report.to_json(audited()))
    assert data["passed"] is False and len(data["pages"]) == 2
    page = data["pages"][0]
    assert [c["name"] for c in page["checks"]] == list(checks.TITLES)
    accept = next(s for s in page["scenarios"] if s["name"] == "accept")
    assert {"t", "step", "method", "url", "kind", "params", "pii"} <= set(accept["requests"][0])
    assert data["pages"][1]["error"] == "cannot reach it: connection refused"


def test_no_report_repeats_the_personal_data_it_found() -> None:
    for text in (report.terminal(audited()), report.to_json(audited()), report.html(audited())):
        assert "analytical.example" not in text and ":email" in text


def test_the_html_report_escapes_what_pages_send(tmp_path: Path) -> None:
    result = audited()
    page = result.pages[0]
    page.url = 'http://localhost:9000/<script>alert("x")</script>'
    step(page, "accept", "decision").screenshot = "screenshots/1-accept.png"
    index = report.write_html(result, tmp_path / "html")
    html = index.read_text()
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert '<img src="screenshots/1-accept.png"' in html
    assert "Not audited: cannot reach it: connection refused" in html


def test_the_html_report_speaks_to_people_not_python() -> None:
    result = audited()
    page = result.pages[0]
    (leak,) = [c for c in page.checks if c.name == "no-pii"]
    assert len(leak.evidence) == 1
    first = scenario(page, "first-visit")
    first.requests = first.requests[:1]
    text = report.html(result)
    assert "1 line of evidence" in text and "1 lines" not in text
    assert "<summary>1 request</summary>" in text
    assert "decided: no" in text and "decided: yes" in text and "analytics: no" in text
    assert "False" not in text and "True" not in text
