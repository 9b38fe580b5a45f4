"""Headless Chromium through the audit's scenarios, recording what a page does.

Each scenario is one visitor with a fresh profile (a new browser context): it opens
the page, answers the banner, and may reload or follow links. Every request of the
context is recorded with the step it was sent in; at the end of each step the cookies,
storage, consent state, held elements and Google's dataLayer are read.

This is the only module of the audit that needs Playwright; it is imported when a
browser starts, so installing consentpixel without it breaks nothing.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping, Sequence

from .. import __version__
from ..pixel import GIF
from . import checks, pii
from .model import (DECISION, PIXEL, TRACKER, AuditReport, Banner, Held, PageAudit, PageTag,
                    Scenario, Step, TagSettings)
from .traffic import Classifier, Raw
from .trackers import BUILTIN, Trackers

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Request, Route

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
BANNER = "dialog.cpx[open]"
PIXEL_URL = re.compile(r"/[pci]\.gif(?:\?|$)")
TAG_URL = re.compile(r"^(.*/)t\.js(?:[?#]|$)")
SETTINGS_URL = re.compile(r"^(.*/)s/[^/?#]+\.js(?:[?#]|$)")
LONG_REQUEST = 2.0  # seconds after which a request in flight no longer delays settling

# Runs before the page's own scripts in every frame: it keeps the tag's consent events,
# and tells that the tag has started (it sends one as soon as its settings arrive).
PROBE = """(() => {
  const seen = window.__consentpixelAudit = {events: []};
  document.addEventListener('cpx:consent', e => seen.events.push(e.detail));
})();"""
# Chromium has no Global Privacy Control of its own; the header comes with the context.
GPC = ("Object.defineProperty(Navigator.prototype, 'globalPrivacyControl', "
       "{get: () => true, configurable: true});")
FIND_TAG = """() => {
  const s = document.querySelector('script[data-site][src*="/t.js"]');
  return s && {src: s.src, site: s.getAttribute('data-site'),
               event: s.getAttribute('data-event') || ''};
}"""
STARTED = "() => window.__consentpixelAudit && window.__consentpixelAudit.events.length > 0"
CONSENT = """() => {
  const a = window.__consentpixelAudit;
  return a && a.events.length && typeof cpx == 'function' ? cpx('consent') : null;
}"""
BUTTONS = """d => [...d.querySelectorAll('button[data-a]')]
  .filter(b => b.checkVisibility()).map(b => [b.getAttribute('data-a'), b.textContent.trim()])"""
STORAGE = """() => {
  const out = [];
  for (const [area, get] of [['local', () => localStorage], ['session', () => sessionStorage]]) {
    try { const s = get(); for (let i = 0; i < s.length; i++) out.push([area, s.key(i)]); }
    catch (e) {}
  }
  return out;
}"""
HELD = """() => [...document.querySelectorAll('[data-cpx-category]')].map(el => {
  const script = el.tagName == 'SCRIPT';
  const held = el.getAttribute('data-cpx-src');
  const src = held ? new URL(held, document.baseURI).href : el.getAttribute('src') ? el.src : '';
  const type = script ? el.type.trim() : '';
  return {tag: el.tagName.toLowerCase(), src, category: el.getAttribute('data-cpx-category'),
          runs: script ? /^((text|application)\\/(x-)?(java|ecma)script|module|)$/i.test(type)
                       : !!el.getAttribute('src')};
})"""
DATA_LAYER = """() => (Array.isArray(window.dataLayer) ? window.dataLayer : []).slice(0, 200)
  .map(e => {
  try {
    if (e && typeof e == 'object' && typeof e.length == 'number')
      return [...e].slice(0, 2).filter(x => typeof x == 'string').join(' ');
    return e && e.event ? 'event ' + e.event : 'object';
  } catch (x) { return 'unreadable'; }
})"""
LINKS = """n => {
  const seen = new Set([location.href.split('#')[0]]), out = [];
  for (const a of document.querySelectorAll('a[href]')) {
    let u;
    try { u = new URL(a.href, location.href); } catch (e) { continue; }
    u.hash = '';
    if (u.host != location.host || !/^https?:$/.test(u.protocol) || seen.has(u.href)) continue;
    if (/\\.(pdf|zip|gz|png|jpe?g|gif|svg|webp|mp[34]|docx?|xlsx?)$/i.test(u.pathname)) continue;
    seen.add(u.href);
    out.push(u.href);
    if (out.length >= n) break;
  }
  return out;
}"""

# Chromium's network errors, for people.
NET_ERRORS = {
    "ERR_CONNECTION_REFUSED": "cannot reach it: connection refused",
    "ERR_NAME_NOT_RESOLVED": "cannot reach it: the host name does not resolve",
    "ERR_ADDRESS_UNREACHABLE": "cannot reach it: address unreachable",
    "ERR_INTERNET_DISCONNECTED": "cannot reach it: no network",
    "ERR_CONNECTION_TIMED_OUT": "cannot reach it: the connection timed out",
    "ERR_CONNECTION_RESET": "cannot reach it: the connection was reset",
    "ERR_CONNECTION_CLOSED": "cannot reach it: the connection was closed",
    "ERR_EMPTY_RESPONSE": "the server closed the connection without an answer",
    "ERR_TOO_MANY_REDIRECTS": "too many redirects",
    "ERR_CERT_AUTHORITY_INVALID": "TLS error: the certificate is not trusted",
    "ERR_CERT_COMMON_NAME_INVALID": "TLS error: the certificate is for another host",
    "ERR_CERT_DATE_INVALID": "TLS error: the certificate has expired or is not yet valid",
}


class AuditError(Exception):
    """The audit cannot run at all: no Playwright, no browser."""


class PageError(Exception):
    """A page that cannot be audited, in one line: unreachable, TLS, never loads…"""


@dataclass(frozen=True)
class Options:
    live: bool = False           # let pixels and tracker beacons reach their servers
    pages: int = 1               # pages per URL, following same-site links
    timeout: float = 30.0        # seconds for a page to load
    settle: float = 0.5          # seconds without a new request that end a step
    trackers: Trackers = BUILTIN
    screenshots: Path | None = None  # where to save them; None takes none


def chromium_path() -> str | None:
    return os.environ.get("CONSENTPIXEL_CHROMIUM") or shutil.which("chromium") or None


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Chromium: the system's when there is one, else Playwright's own."""
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        raise AuditError("the audit needs Playwright: pip install 'consentpixel[audit]'") from None
    with sync_playwright() as playwright:
        try:
            browser = playwright.chromium.launch(executable_path=chromium_path(),
                                                 args=CHROMIUM_ARGS)
        except Error as exc:
            raise AuditError(f"cannot start Chromium: {first_line(exc)} (install it, set "
                             "CONSENTPIXEL_CHROMIUM, or run: playwright install chromium)"
                             ) from None
        try:
            yield browser
        finally:
            browser.close()


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return re.sub(r"^\w+\.\w+: ", "", text[0]) if text else type(exc).__name__


def load_error(exc: BaseException) -> str:
    """Why a page did not load, for people: Chromium's net::ERR_… named."""
    code = re.search(r"net::(ERR_[A-Z_]+)", str(exc))
    if not code:
        return f"could not load it: {first_line(exc)}"
    name = code.group(1)
    if name in NET_ERRORS:
        return NET_ERRORS[name]
    if name.startswith(("ERR_CERT_", "ERR_SSL_", "ERR_BAD_SSL")):
        return f"TLS error: {name}"
    return f"could not load it: {name}"


class Recorder:
    """Every request a browser context sends, with the step it was sent in.

    Unless live, the collector's pixels and known tracker beacons are answered here,
    inside the browser, so an audit never counts in anyone's statistics.
    """

    def __init__(self, context: Any, *, answer_pixels: bool, answer_trackers: bool,
                 trackers: Trackers) -> None:
        self.began = time.monotonic()
        self.step = "load"
        self.raws: dict[Request, Raw] = {}
        self.inflight: dict[Request, float] = {}
        self.last = 0.0
        self.answered: set[Request] = set()
        self.navigations: set[str] = set()
        self.candidates: set[str] = set()  # where t.js came from
        self.collectors: set[str] = set()  # … and then the site's settings too
        self.settings: list[Any] = []      # responses of /s/SITE.js
        self.trackers = trackers
        context.on("request", self.on_request)
        context.on("response", self.on_response)
        context.on("requestfinished", self.on_done)
        context.on("requestfailed", self.on_failed)
        if answer_pixels:
            context.route(PIXEL_URL, self.answer_pixel)
        beacons = trackers.beacons()
        if answer_trackers and beacons:
            context.route(beacons, self.answer_tracker)

    def now(self) -> float:
        return time.monotonic() - self.began

    def on_request(self, request: Request) -> None:
        now = self.now()
        url = request.url
        self.raws[request] = Raw(
            now, self.step, request.method, url, request.resource_type,
            request.post_data_buffer, request.headers.get("referer", ""),
            navigation=request.is_navigation_request() and url in self.navigations)
        self.inflight[request] = now
        self.last = now
        tag = TAG_URL.match(url)
        if tag:
            self.candidates.add(tag.group(1))
        settings = SETTINGS_URL.match(url)
        if settings and settings.group(1) in self.candidates:
            self.collectors.add(settings.group(1))

    def on_response(self, response: Any) -> None:
        raw = self.raws.get(response.request)
        if raw:
            raw.status = response.status
        settings = SETTINGS_URL.match(response.url)
        if settings and settings.group(1) in self.collectors and response.ok:
            self.settings.append(response)

    def on_done(self, request: Request) -> None:
        self.inflight.pop(request, None)
        self.last = self.now()

    def on_failed(self, request: Request) -> None:
        raw = self.raws.get(request)
        if raw:
            raw.failure = request.failure or "failed"
        self.on_done(request)

    def answer_pixel(self, route: Route) -> None:
        if any(route.request.url.startswith(base) for base in self.collectors):
            self.answer(route)
        else:
            route.fallback()

    def answer_tracker(self, route: Route) -> None:
        tracker = self.trackers.match(route.request.url)
        if tracker and tracker.beacon:
            self.answer(route)
        else:
            route.fallback()

    def answer(self, route: Route) -> None:
        self.answered.add(route.request)
        route.fulfill(status=200, body=GIF, headers={"Content-Type": "image/gif",
                                                     "Cache-Control": "no-store"})

    def quiet(self, settle: float) -> bool:
        """No request began for `settle` seconds, and none is in flight (those in
        flight for long, such as long polls, are not waited for)."""
        now = self.now()
        waiting = [t for t in self.inflight.values() if now - t < LONG_REQUEST]
        return now - self.last >= settle and not waiting

    def requests(self) -> list[Raw]:
        for request, raw in self.raws.items():
            raw.answered = request in self.answered
        return sorted(self.raws.values(), key=lambda raw: raw.t)


@dataclass
class Snapshot:
    """A step as read from the browser, before it is judged."""

    step: Step
    cookies: Sequence[Mapping[str, Any]] = ()
    storage: list[tuple[str, str]] = field(default_factory=list)


class Session:
    """One visitor with a fresh profile: a browser context, its page, its recorder."""

    def __init__(self, browser: Browser, options: Options, *, gpc: bool = False,
                 answer_pixels: bool | None = None) -> None:
        self.options = options
        self.context = browser.new_context(
            viewport={"width": 1280, "height": 800},
            extra_http_headers={"Sec-GPC": "1"} if gpc else {})
        self.context.set_default_timeout(options.timeout * 1000)
        self.context.add_init_script(PROBE)
        if gpc:
            self.context.add_init_script(GPC)
        live = options.live if answer_pixels is None else not answer_pixels
        self.recorder = Recorder(self.context, answer_pixels=not live,
                                 answer_trackers=not options.live, trackers=options.trackers)
        self.page: Page = self.context.new_page()
        self.snapshots: list[Snapshot] = []
        self.began = 0.0

    def begin(self, step: str) -> None:
        self.recorder.step = step
        self.began = self.recorder.now()

    def goto(self, url: str) -> None:
        self.recorder.navigations.add(url)
        self.navigate(lambda: self.page.goto(url, wait_until="load"))

    def reload(self) -> None:
        self.recorder.navigations.add(self.page.url)
        self.navigate(lambda: self.page.reload(wait_until="load"))

    def navigate(self, go: Callable[[], Any]) -> None:
        """Load a page, or say in one line why it did not load."""
        from playwright.sync_api import Error, TimeoutError

        try:
            response = go()
        except TimeoutError:
            raise PageError(f"did not load within {self.options.timeout:g} s") from None
        except Error as exc:
            raise PageError(load_error(exc)) from None
        if response and response.status >= 400:
            raise PageError(f"answered {response.status} {response.status_text}".strip())

    def read(self, script: str, default: Any) -> Any:
        """What a script says of the page, or default when the page went away meanwhile
        (a redirect or reload of its own); the checks then see the gap."""
        from playwright.sync_api import Error

        try:
            return self.page.evaluate(script)
        except Error:
            return default

    def started(self, limit: float = 15.0) -> bool:
        """Wait for the tag's first consent event: it has its settings and runs."""
        from playwright.sync_api import TimeoutError

        try:
            self.page.wait_for_function(STARTED, timeout=min(self.options.timeout, limit) * 1000)
        except TimeoutError:
            return False
        return True

    def settle(self) -> None:
        deadline = time.monotonic() + max(10.0, self.options.settle * 10)
        while time.monotonic() < deadline:
            self.page.wait_for_timeout(100)
            if self.recorder.quiet(self.options.settle):
                return

    def tag(self) -> dict[str, str] | None:
        found: dict[str, str] | None = self.page.evaluate(FIND_TAG)
        return found

    def settings(self) -> TagSettings | None:
        for response in self.recorder.settings:
            try:
                parsed = TagSettings.from_script(response.text())
            except Exception:  # the body may be gone with its page
                continue
            if parsed:
                return parsed
        return None

    def banner(self) -> Banner | None:
        from playwright.sync_api import TimeoutError

        dialog = self.page.locator(BANNER)
        try:
            dialog.wait_for(state="visible", timeout=self.patience() * 1000)
        except TimeoutError:
            return None
        shown = self.recorder.now()
        return Banner(round(shown, 3), dict(dialog.evaluate(BUTTONS)))

    def decide(self, action: str, categories: tuple[str, ...]) -> None:
        """Answer the banner by the buttons' data-a, whatever the page's language."""
        from playwright.sync_api import TimeoutError

        dialog = self.page.locator(BANNER)
        wait = self.patience() * 1000
        try:
            dialog.wait_for(state="visible", timeout=wait)
        except TimeoutError:
            raise PageError("the banner never appeared, so nothing could be chosen") from None
        decided = len(self.page.evaluate("() => window.__consentpixelAudit.events"))
        self.begin("decision")
        try:
            if action == "only":
                dialog.locator("[data-a=prefs]").click(timeout=wait)
                for switch in dialog.locator("input[role=switch]:enabled").all():
                    switch.set_checked(switch.get_attribute("value") in categories, timeout=wait)
                action = "save"
            dialog.locator(f"[data-a={action}]").click(timeout=wait)
            self.page.wait_for_function("n => window.__consentpixelAudit.events.length > n",
                                        arg=decided, timeout=wait)
        except TimeoutError as exc:
            raise PageError(f"could not choose in the banner ({action}): "
                            f"{first_line(exc)}") from None

    def patience(self) -> float:
        """Seconds to wait for the banner and its buttons."""
        return min(self.options.timeout, 10.0)

    def links(self, count: int) -> list[str]:
        found: list[str] = self.page.evaluate(LINKS, count) if count > 0 else []
        return found

    def finish(self, label: str, decided: bool, screenshot: str = "") -> Step:
        """Settle, then read what the step left behind."""
        self.settle()
        page = self.page
        url = pii.scan_url(page.url).mask(page.url)
        step = Step(self.recorder.step, label, decided, round(self.began, 3), url,
                    consent=self.read(CONSENT, None),
                    held=[held(item) for item in self.read(HELD, [])],
                    data_layer=self.read(DATA_LAYER, []),
                    screenshot=self.screenshot(screenshot) if screenshot else "")
        self.snapshots.append(Snapshot(step, self.context.cookies(),
                                       [tuple(pair) for pair in self.read(STORAGE, [])]))
        return step

    def screenshot(self, name: str) -> str:
        folder = self.options.screenshots
        if folder is None:
            return ""
        folder.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=folder / f"{name}.png")
        return f"{folder.name}/{name}.png"

    def result(self, scenario: Scenario, classifier: Classifier) -> Scenario:
        for snapshot in self.snapshots:
            step = snapshot.step
            step.cookies = [classifier.cookie(c["name"], c["domain"], c["value"])
                            for c in snapshot.cookies]
            step.storage = [classifier.stored(area, key) for area, key in snapshot.storage]
            scenario.steps.append(step)
        scenario.requests = [classifier.request(raw) for raw in self.recorder.requests()]
        return scenario

    def close(self) -> None:
        self.context.close()


def held(item: dict[str, Any]) -> Held:
    src = pii.scan_url(item["src"]).mask(item["src"]) if item["src"] else ""
    return Held(item["tag"], src, item["category"], item["runs"])


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
    from playwright.sync_api import Error

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
    except Error as exc:  # the browser itself failed: still one line, never a traceback
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
