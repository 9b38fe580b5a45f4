"""One visitor with a fresh profile: a browser context, its page, its recorder.

A session opens pages, answers the banner and, at the end of each step, reads what
the step left behind (cookies, storage, consent state, held elements, Google's
dataLayer) through probe.js. The audit's scenarios (browser.py) and the pytest
plugin's visits (consentpixel.testing) both drive one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from . import pii
from .chromium import PageError, first_line, load_error, playwright
from .model import Banner, Held, Scenario, Step, TagSettings
from .probe import init_script, page_function
from .recorder import Recorder
from .traffic import Classifier
from .trackers import BUILTIN, Trackers

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

BANNER = "dialog.cpx[open]"
KEEP_CONSENT_EVENTS = init_script("keepConsentEvents")
CLAIM_GPC = init_script("claimGpc")
FIND_TAG = page_function("findTag")
TAG_STARTED = page_function("tagStarted")
COUNT_CONSENT_EVENTS = page_function("countConsentEvents")
CONSENT_EVENT_AFTER = page_function("consentEventAfter")
READ_CONSENT = page_function("readConsent")
READ_BUTTONS = page_function("readButtons")
READ_STORAGE = page_function("readStorage")
READ_HELD = page_function("readHeld")
READ_DATA_LAYER = page_function("readDataLayer")
FIND_LINKS = page_function("findLinks")


@dataclass(frozen=True)
class Options:
    live: bool = False           # let pixels and tracker beacons reach their servers
    pages: int = 1               # pages per URL, following same-site links
    timeout: float = 30.0        # seconds for a page to load
    settle: float = 0.5          # seconds without a new request that end a step
    trackers: Trackers = BUILTIN
    screenshots: Path | None = None  # where to save them; None takes none


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
        self.context.add_init_script(KEEP_CONSENT_EVENTS)
        if gpc:
            self.context.add_init_script(CLAIM_GPC)
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
        api = playwright()
        try:
            response = go()
        except api.TimeoutError:
            raise PageError(f"did not load within {self.options.timeout:g} s") from None
        except api.Error as exc:
            raise PageError(load_error(exc)) from None
        if response and response.status >= 400:
            raise PageError(f"answered {response.status} {response.status_text}".strip())

    def read(self, script: str, default: Any) -> Any:
        """What a script says of the page, or default when the page went away meanwhile
        (a redirect or reload of its own); the checks then see the gap."""
        try:
            return self.page.evaluate(script)
        except playwright().Error:
            return default

    def started(self, limit: float = 15.0) -> bool:
        """Wait for the tag's first consent event: it has its settings and runs."""
        try:
            self.page.wait_for_function(TAG_STARTED,
                                        timeout=min(self.options.timeout, limit) * 1000)
        except playwright().TimeoutError:
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
        dialog = self.page.locator(BANNER)
        try:
            dialog.wait_for(state="visible", timeout=self.patience() * 1000)
        except playwright().TimeoutError:
            return None
        shown = self.recorder.now()
        return Banner(round(shown, 3), dict(dialog.evaluate(READ_BUTTONS)))

    def decide(self, action: str, categories: tuple[str, ...]) -> None:
        """Answer the banner by the buttons' data-a, whatever the page's language."""
        api = playwright()
        dialog = self.page.locator(BANNER)
        wait = self.patience() * 1000
        try:
            dialog.wait_for(state="visible", timeout=wait)
        except api.TimeoutError:
            raise PageError("the banner never appeared, so nothing could be chosen") from None
        decided = self.page.evaluate(COUNT_CONSENT_EVENTS)
        self.begin("decision")
        try:
            if action == "only":
                dialog.locator("[data-a=prefs]").click(timeout=wait)
                for switch in dialog.locator("input[role=switch]:enabled").all():
                    switch.set_checked(switch.get_attribute("value") in categories, timeout=wait)
                action = "save"
            dialog.locator(f"[data-a={action}]").click(timeout=wait)
            self.page.wait_for_function(CONSENT_EVENT_AFTER, arg=decided, timeout=wait)
        except api.TimeoutError as exc:
            raise PageError(f"could not choose in the banner ({action}): "
                            f"{first_line(exc)}") from None

    def patience(self) -> float:
        """Seconds to wait for the banner and its buttons."""
        return min(self.options.timeout, 10.0)

    def links(self, count: int) -> list[str]:
        found: list[str] = self.page.evaluate(FIND_LINKS, count) if count > 0 else []
        return found

    def consent(self) -> dict[str, bool] | None:
        """cpx('consent'), once the tag has started."""
        state: dict[str, bool] | None = self.page.evaluate(READ_CONSENT)
        return state

    def storage(self) -> list[tuple[str, str]]:
        """The keys in local and session storage, as (area, key)."""
        return [(area, key) for area, key in self.page.evaluate(READ_STORAGE)]

    def finish(self, label: str, decided: bool, screenshot: str = "") -> Step:
        """Settle, then read what the step left behind."""
        self.settle()
        page = self.page
        url = pii.scan_url(page.url).mask(page.url)
        step = Step(self.recorder.step, label, decided, round(self.began, 3), url,
                    consent=self.read(READ_CONSENT, None),
                    held=[held(item) for item in self.read(READ_HELD, [])],
                    data_layer=self.read(READ_DATA_LAYER, []),
                    screenshot=self.screenshot(screenshot) if screenshot else "")
        self.snapshots.append(Snapshot(step, self.context.cookies(),
                                       [tuple(pair) for pair in self.read(READ_STORAGE, [])]))
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
