"""The audit's run: each URL through its scenarios in headless Chromium.

Each scenario is one visitor with a fresh profile (a `Session`): it opens the page,
answers the banner, and may reload or follow links. The first visit finds the tag,
its settings, the banner and the links; the site's settings then decide the other
scenarios (reject, accept, each category alone, Global Privacy Control).
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable

from .. import __version__
from . import checks
from .chromium import AuditError, PageError, chromium, first_line, playwright
from .model import (DECISION, PIXEL, TRACKER, AuditReport, PageAudit, PageTag, Scenario,
                    TagSettings)
from .session import Options, Session
from .traffic import Classifier

if TYPE_CHECKING:
    from playwright.sync_api import Browser

# What the CLI uses (AuditError and Options come from chromium.py and session.py).
__all__ = ["AuditError", "Options", "audit_page", "describe", "plan", "run"]


def plan(settings: TagSettings) -> list[Scenario]:
    """The scenarios for a site: first visit, reject, accept, each category, GPC."""
    categories = settings.categories
    scenarios = [
        Scenario("first-visit", "first visit, no decision", "none",
                 tuple(sorted(settings.before_decision(gpc=False)))),
        Scenario("reject", "Reject all", "reject", ()),
        Scenario("accept", "Accept all", "accept", categories),
    ]
    if len(categories) > 1:
        scenarios += [Scenario(f"only-{c}", f"only {c}", "only", (c,)) for c in categories]
    if settings.gpc:
        scenarios.append(Scenario("gpc", "Accept all under Global Privacy Control", "accept",
                                  tuple(c for c in categories if c not in settings.gpc),
                                  gpc=True))
    return scenarios


Progress = Callable[[str], None]


def run(urls: list[str], options: Options, progress: Progress = lambda line: None
        ) -> AuditReport:
    report = AuditReport(datetime.now(timezone.utc).isoformat(timespec="seconds"),
                         __version__, options.live)
    with chromium() as browser:
        for number, url in enumerate(urls, 1):
            progress(f"auditing {url}")
            report.pages.append(audit_page(browser, url, options, progress, number))
    return report


def audit_page(browser: Browser, url: str, options: Options, progress: Progress,
               number: int = 1) -> PageAudit:
    audit = PageAudit(url, pages=[url])
    try:
        first = first_visit(browser, url, options, audit, number, progress)
        if first is not None:
            audit.scenarios.append(first)
            progress(describe(first))
        tag = audit.tag
        if tag and tag.settings and audit.banner:
            for scenario in plan(tag.settings)[1:]:
                audit.scenarios.append(visit(browser, scenario, audit, tag, options, number))
                progress(describe(audit.scenarios[-1]))
    except PageError as exc:
        audit.error = str(exc)
    except playwright().Error as exc:
        # the browser itself failed: still one line, never a traceback
        audit.error = f"the browser failed: {first_line(exc)}"
    if not audit.error:
        audit.checks = checks.evaluate(audit)
    return audit


def first_visit(browser: Browser, url: str, options: Options, audit: PageAudit,
                number: int, progress: Progress) -> Scenario | None:
    """Open the page undecided: find the tag, its settings, the banner and the links."""
    session = Session(browser, options)
    try:
        session.goto(url)
        session.settle()  # a tag manager may add the tag after the load event
        found = session.tag()
        if found is None:
            return None
        collector = re.sub(r"/t\.js\b.*", "/", found["src"])
        started = session.started()
        settings = session.settings() if started else None
        audit.tag = PageTag(collector, found["site"], found["event"], settings)
        classifier = Classifier(url, collector, options.trackers, settings)
        scenario = plan(settings)[0] if settings else Scenario(
            "first-visit", "first visit, no decision", "none", ())
        links: list[str] = []
        if settings:
            audit.banner = session.banner()
            if audit.banner:
                audit.banner.screenshot = session.screenshot(f"{number}-banner")
            links = session.links(options.pages - 1)
        session.finish("before a decision", decided=False)
        for link in links:
            session.begin(f"page {len(audit.pages) + 1}")
            try:
                session.goto(link)
            except PageError as exc:  # a broken link is not the page's audit
                progress(f"  skipped {link}: {exc}")
                continue
            audit.pages.append(link)
            session.started()
            session.finish(f"on page {len(audit.pages)}, still undecided", decided=False)
        return session.result(scenario, classifier)
    finally:
        session.close()


def visit(browser: Browser, scenario: Scenario, audit: PageAudit, tag: PageTag,
          options: Options, number: int) -> Scenario:
    """One scenario: open the page, decide, then reload or follow the links."""
    classifier = Classifier(audit.url, tag.collector, options.trackers, tag.settings)
    session = Session(browser, options, gpc=scenario.gpc)
    try:
        session.goto(audit.url)
        session.started()
        session.finish("before a decision", decided=False)
        session.decide(scenario.action, scenario.granted)
        session.finish("after the choice", decided=True, screenshot=f"{number}-{scenario.name}")
        if scenario.action == "reject":
            session.begin("reload")
            session.reload()
            session.started()
            session.finish("after a reload", decided=True)
        for index, link in enumerate(audit.pages[1:], 2):
            session.begin(f"page {index}")
            session.goto(link)
            session.started()
            session.finish(f"on page {index}", decided=True)
    except PageError as exc:
        scenario.error = str(exc)
    try:
        return session.result(scenario, classifier)
    finally:
        session.close()


def describe(scenario: Scenario) -> str:
    ours = sum(1 for r in scenario.requests if r.kind in (PIXEL, DECISION))
    trackers = sum(1 for r in scenario.requests if r.kind == TRACKER)
    line = (f"  {scenario.title}: {len(scenario.requests)} requests, {ours} consentpixel "
            f"pixels, {trackers} tracker beacons")
    return line + (f" ({scenario.error})" if scenario.error else "")
