"""The audit's run: each URL through its scenarios in headless Chromium.

Each scenario is one visitor with a fresh profile (a `Session`): it opens the page,
answers the banner, and may reload or follow links. The first visit finds what the page
is: with the consentpixel tag, its settings, banner and links, and the site's settings
then decide the other scenarios (reject, accept, each category alone, Global Privacy
Control); without it, the page's consent manager and the banner's controls by their
accessible names, and the scenarios are reject (then reload), accept and, where the site
says it honours Global Privacy Control, a visit under it.

Visits run side by side (scheduler.py), so a URL takes about as long as its slowest
visitor, and several URLs about as long as the slowest of them.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable

from .. import __version__
from . import checks
from .chromium import AuditError, PageError, chromium, first_line, playwright
from .model import (DECISION, PIXEL, TRACKER, AuditReport, Banner, PageAudit, PageTag,
                    Scenario, TagSettings)
from .scheduler import Steps, Task
from .scheduler import run as run_side_by_side
from .session import Options, Session
from .traffic import Classifier

if TYPE_CHECKING:
    from playwright.sync_api import Browser

# What the CLI uses (AuditError and Options come from chromium.py and session.py).
__all__ = ["AuditError", "Options", "describe", "plan", "plan_any", "run"]

FIRST_VISIT = "first visit, no decision"


def plan(settings: TagSettings) -> list[Scenario]:
    """The scenarios for a site: first visit, reject, accept, each category, GPC."""
    categories = settings.categories
    scenarios = [
        Scenario("first-visit", FIRST_VISIT, "none",
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


def plan_any(audit: PageAudit) -> list[Scenario]:
    """The scenarios after the first visit for a page without our tag: reject and accept
    when it has a banner, a visit under GPC when the site says it honours it."""
    everything = checks.ANY_SITE.categories
    scenarios = []
    if audit.banner:
        scenarios += [Scenario("reject", "Reject all", "reject", ()),
                      Scenario("accept", "Accept all", "accept", everything)]
    if audit.gpc_claimed:
        scenarios.append(Scenario("gpc", "under Global Privacy Control, no choice", "none",
                                  tuple(c for c in everything if c not in checks.ANY_SITE.gpc),
                                  gpc=True))
    return scenarios


Progress = Callable[[str], None]


def run(urls: list[str], options: Options, progress: Progress = lambda line: None
        ) -> AuditReport:
    report = AuditReport(datetime.now(timezone.utc).isoformat(timespec="seconds"),
                         __version__, options.live)
    began = time.monotonic()
    report.pages = [PageAudit(url, pages=[url]) for url in urls]
    with chromium(automation=False) as browser:
        pump = browser.new_page()  # events reach every page while the audit waits on this one
        tasks = [audit_page(browser, audit, options, progress, number, len(urls))
                 for number, audit in enumerate(report.pages, 1)]
        run_side_by_side(tasks, lambda seconds: pump.wait_for_timeout(seconds * 1000),
                         options.visitors)
        pump.close()
    for audit in report.pages:
        if not audit.error:
            audit.checks = checks.evaluate(audit)
    report.seconds = round(time.monotonic() - began, 2)
    return report


def audit_page(browser: Browser, audit: PageAudit, options: Options, progress: Progress,
               number: int = 1, of: int = 1) -> Task:
    """The first visit; then the page's other scenarios, as tasks of their own."""
    began = time.monotonic()
    say = progress if of == 1 else (lambda line: progress(f"[{number}] {line.strip()}"))
    progress(f"auditing {audit.url}" if of == 1 else f"[{number}] auditing {audit.url}")
    first = yield from guarded(audit, lambda: first_visit(browser, audit, options, number, say))
    audit.seconds = round(time.monotonic() - began, 2)
    if first is None:
        return None
    first.seconds = audit.seconds
    audit.scenarios.append(first)
    say(describe(first))
    if audit.tag is None:
        others = plan_any(audit)
    elif audit.tag.settings and audit.banner:
        others = plan(audit.tag.settings)[1:]
    else:
        others = []
    audit.scenarios += others
    return [visit(browser, scenario, audit, options, number, say, began) for scenario in others]


def guarded(audit: PageAudit, steps: Callable[[], Steps[Scenario]]) -> Steps[Scenario | None]:
    """The first visit, its failure put in one line on the page."""
    try:
        return (yield from steps())
    except PageError as exc:
        audit.error = str(exc)
    except playwright().Error as exc:
        # the browser itself failed: still one line, never a traceback
        audit.error = f"the browser failed: {first_line(exc)}"
    return None


def first_visit(browser: Browser, audit: PageAudit, options: Options, number: int,
                progress: Progress) -> Steps[Scenario]:
    """Open the page undecided: find the tag (its settings, the banner) or else the
    page's consent manager and banner; then the links."""
    session = Session(browser, options)
    try:
        yield from session.load(audit.url)
        found = yield from session.find_tag()
        if found is None:
            scenario = yield from first_visit_any(session, audit, number)
        else:
            scenario = yield from first_visit_tag(session, audit, found, number)
        yield from browse_undecided(session, audit, options, progress, any_page=found is None)
        return session.result(scenario, classifier(audit, options))
    finally:
        session.close()


def first_visit_tag(session: Session, audit: PageAudit, found: dict[str, str], number: int
                    ) -> Steps[Scenario]:
    collector = re.sub(r"/t\.js\b.*", "/", found["src"])
    started = yield from session.tag_start()
    settings = session.settings() if started else None
    audit.tag = PageTag(collector, found["site"], found["event"], settings)
    if settings is None:
        return Scenario("first-visit", FIRST_VISIT, "none", ())
    audit.banner, why = yield from session.tag_banner()
    if why:
        audit.timed_out.append(why)
    if audit.banner:
        audit.banner.screenshot = session.screenshot(f"{number}-banner")
    return plan(settings)[0]


def first_visit_any(session: Session, audit: PageAudit, number: int) -> Steps[Scenario]:
    audit.manager = session.manager()
    layer, why = yield from session.any_banner(audit.manager)
    audit.manager = session.manager() or audit.manager  # some load their code late
    if why:
        audit.timed_out.append(why)
    if layer:
        where = next(iter(layer.values())).where
        audit.banner = Banner(round(session.recorder.now(), 3),
                              {action: c.name for action, c in layer.items()},
                              session.screenshot(f"{number}-banner"), where,
                              session.since_load())
    audit.gpc_claimed = session.claims_gpc()
    return Scenario("first-visit", FIRST_VISIT, "none", ())


def browse_undecided(session: Session, audit: PageAudit, options: Options,
                     progress: Progress, any_page: bool) -> Steps[None]:
    known = any_page or bool(audit.tag and audit.tag.settings)
    links = session.links(options.pages - 1) if known else []
    yield from session.finish("before a decision", decided=False, any_page=any_page)
    for link in links:
        session.begin(f"page {len(audit.pages) + 1}")
        try:
            yield from session.load(link)
        except PageError as exc:  # a broken link is not the page's audit
            progress(f"  skipped {link}: {exc}")
            continue
        audit.pages.append(link)
        if not any_page:
            yield from session.tag_start()
        yield from session.finish(f"on page {len(audit.pages)}, still undecided",
                                  decided=False, any_page=any_page)


def classifier(audit: PageAudit, options: Options) -> Classifier:
    tag = audit.tag
    return Classifier(audit.url, tag.collector if tag else "", options.trackers,
                      tag.settings if tag else None)


def visit(browser: Browser, scenario: Scenario, audit: PageAudit, options: Options,
          number: int, progress: Progress, began: float) -> Task:
    """One scenario: open the page, decide, then reload or follow the links."""
    session = Session(browser, options, gpc=scenario.gpc)
    start = time.monotonic()
    try:
        if audit.tag:
            yield from decide_tag(session, scenario, audit, number)
        else:
            yield from decide_any(session, scenario, audit, number)
        for index, link in enumerate(audit.pages[1:], 2):
            session.begin(f"page {index}")
            yield from session.load(link)
            if audit.tag:
                yield from session.tag_start()
            yield from session.finish(f"on page {index}", decided=scenario.action != "none",
                                      any_page=audit.tag is None)
    except PageError as exc:
        scenario.error = str(exc)
    except playwright().Error as exc:
        scenario.error = f"the browser failed: {first_line(exc)}"
    try:
        session.result(scenario, classifier(audit, options))
    finally:
        session.close()
    now = time.monotonic()
    scenario.seconds = round(now - start, 2)
    audit.seconds = max(audit.seconds, round(now - began, 2))
    progress(describe(scenario))
    return None


def decide_tag(session: Session, scenario: Scenario, audit: PageAudit, number: int
               ) -> Steps[None]:
    yield from session.load(audit.url)
    yield from session.tag_start()
    yield from session.finish("before a decision", decided=False)
    yield from session.tag_decide(scenario.action, scenario.granted)
    yield from session.finish("after the choice", decided=True,
                              screenshot=f"{number}-{scenario.name}")
    if scenario.action == "reject":
        session.begin("reload")
        yield from session.reloading()
        yield from session.tag_start()
        yield from session.finish("after a reload", decided=True)


def decide_any(session: Session, scenario: Scenario, audit: PageAudit, number: int
               ) -> Steps[None]:
    yield from session.load(audit.url)
    if scenario.action == "none":  # a visit under GPC: nothing chosen, then a reload
        yield from session.finish("before a decision", decided=False, any_page=True)
        session.begin("reload")
        yield from session.reloading()
        yield from session.finish("after a reload, still undecided", decided=False,
                                  any_page=True)
        return
    layer, _ = yield from session.any_banner(audit.manager)
    yield from session.finish("before a decision", decided=False, any_page=True)
    scenario.via = yield from session.answer(scenario.action, layer, audit.manager)
    yield from session.finish("after the choice", decided=True,
                              screenshot=f"{number}-{scenario.name}", any_page=True)
    if scenario.action == "reject":
        session.begin("reload")
        yield from session.reloading()
        # as long as the banner took on the first visit, and a second: it must not come back
        shown = audit.banner.after_load if audit.banner else 0.0
        yield from session.any_banner(audit.manager, seconds=shown + 1.0)
        yield from session.finish("after a reload", decided=True, any_page=True)


def describe(scenario: Scenario) -> str:
    ours = sum(1 for r in scenario.requests if r.kind in (PIXEL, DECISION))
    trackers = sum(1 for r in scenario.requests if r.kind == TRACKER)
    line = (f"  {scenario.title}: {checks.count(len(scenario.requests), 'request', 'requests')}, "
            f"{checks.count(ours, 'consentpixel pixel', 'consentpixel pixels')}, "
            f"{checks.count(trackers, 'tracker beacon', 'tracker beacons')}")
    if scenario.via:
        line += f"; chose by {scenario.via}"
    return line + (f" ({scenario.error})" if scenario.error else "")
