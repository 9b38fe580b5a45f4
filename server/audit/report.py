"""The audit's report for people (terminal, HTML) and for programs (JSON)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from ..templating import environment
from .checks import count
from .model import (DECISION, IMPRESSION, PIXEL, TRACKER, AuditReport, Check, PageAudit,
                    Scenario)

FIRED = (PIXEL, DECISION, IMPRESSION, TRACKER)
MAX_EVIDENCE = 12
MARKS = {"pass": "PASS", "fail": "FAIL", "n/a": "n/a "}
COLORS = {"pass": "\033[32m", "fail": "\033[31m", "n/a": "\033[2m"}


def terminal(report: AuditReport, color: bool = False) -> str:
    lines: list[str] = []
    for page in report.pages:
        lines += page_lines(page, color) + [""]
    lines.append(totals(report))
    return "\n".join(lines)


def page_lines(page: PageAudit, color: bool) -> list[str]:
    lines = [page.url]
    if page.error:
        return lines + [f"  not audited: {page.error}"]
    visited = count(len(page.pages), "page", "pages")
    visitors = count(len(page.scenarios), "visitor", "visitors")
    if page.tag and page.tag.settings:
        settings = page.tag.settings
        lines.append(f"  site {page.tag.site} on {page.tag.collector} ({settings.mode}: "
                     f"{', '.join(settings.categories)}); {visited}")
    elif page.tag is None:
        lines.append(f"  no consentpixel tag; consent manager: {manager(page)}; {visited}")
    lines.append(f"  audited in {page.seconds:.1f} s ({visitors} side by side)")
    width = max((len(check.name) for check in page.checks), default=0)
    for check in page.checks:
        lines.append(f"  {mark(check, color)}  {check.name.ljust(width)}  {check.summary}")
        if check.status == "fail":
            lines += [f"        {line}" for line in check.evidence[:MAX_EVIDENCE]]
            if len(check.evidence) > MAX_EVIDENCE:
                lines.append(f"        … and {len(check.evidence) - MAX_EVIDENCE} more "
                             "(see --json or --html)")
    if page.scenarios:
        lines.append("  what fired")
        for scenario in page.scenarios:
            lines += fired_lines(scenario)
    return lines


def manager(page: PageAudit) -> str:
    found = page.manager
    return f"{found.name} (by {found.evidence})" if found else "none recognised"


def mark(check: Check, color: bool) -> str:
    text = MARKS[check.status]
    return f"{COLORS[check.status]}{text}\033[0m" if color else text


def fired_lines(scenario: Scenario) -> list[str]:
    lines = [f"    {scenario.title}" + (f" ({scenario.error})" if scenario.error else "")]
    if scenario.via:
        lines.append(f"      chose by {scenario.via}")
    labels = {step.name: step.label for step in scenario.steps}
    fired = [r for r in scenario.requests if r.kind in FIRED]
    for request in fired:
        lines.append(f"      {request.t:6.2f} s  {labels.get(request.step, request.step):<26}"
                     f"{request.kind:<10} {request.label()}")
    if not fired:
        lines.append("      no pixel, no tracker beacon")
    return lines


def totals(report: AuditReport) -> str:
    counts = Counter(check.status for page in report.pages for check in page.checks)
    errors = sum(1 for page in report.pages if page.error)
    parts = [f"{counts['pass']} passed", f"{counts['fail']} failed", f"{counts['n/a']} n/a"]
    if errors:
        parts.append(f"{errors} not audited")
    verdict = "passed" if report.passed else "FAILED"
    return f"consentpixel audit {verdict}: {count(len(report.pages), 'URL', 'URLs')}, " + \
        ", ".join(parts)


def to_json(report: AuditReport) -> str:
    return json.dumps(report.as_dict(), indent=2, ensure_ascii=False)


def write_json(report: AuditReport, path: Path) -> None:
    path.write_text(to_json(report) + "\n", encoding="utf-8")


def html(report: AuditReport) -> str:
    template = environment.get_template("audit/report.html")
    return template.render(report=report, fired=FIRED, count=count, manager=manager)


def write_html(report: AuditReport, folder: Path) -> Path:
    """index.html in folder; the screenshots are already in folder/screenshots."""
    folder.mkdir(parents=True, exist_ok=True)
    index = folder / "index.html"
    index.write_text(html(report), encoding="utf-8")
    return index
