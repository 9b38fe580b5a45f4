"""One visitor with a fresh profile: a browser context, its page, its recorder.

A session opens pages, finds and answers the banner and, at the end of each step, reads
what the step left behind (cookies, storage, consent state, held elements, Google's
dataLayer) through probe.js. Everything that waits is a generator of `Wait`s (see
scheduler.py), so the audit runs many sessions side by side; the synchronous methods at
the end run one alone, for the pytest plugin's visits (consentpixel.testing).

Nothing waits a fixed time: a step waits for what the page does (the load event, the
tag's first consent event, the banner, the network falling quiet), each for at most the
audit's timeout, and a wait that runs out says so.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence
from urllib.parse import urlsplit

from . import pii
from .chromium import PageError, first_line, load_error, playwright
from .controls import WORDS
from .model import (TAG_BANNER, TAG_BUTTON, TAG_SWITCHES, Banner, Held, Manager, Scenario, Step,
                    TagSettings)
from .probe import init_script, page_function
from .recorder import Recorder
from .scheduler import Steps, Wait, drive
from .traffic import Classifier, same_site
from .trackers import BUILTIN, Trackers

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Frame, Page

KEEP_CONSENT_EVENTS = init_script("keepConsentEvents")
CLAIM_GPC = init_script("claimGpc")
FIND_TAG = page_function("findTag")
TAG_STARTED = page_function("tagStarted")
COUNT_CONSENT_EVENTS = page_function("countConsentEvents")
IDLE_AFTER = page_function("idleAfter")
CONSENT_EVENT_AFTER = page_function("consentEventAfter")
READ_CONSENT = page_function("readConsent")
READ_BUTTONS = page_function("readButtons")
READ_STORAGE = page_function("readStorage")
READ_HELD = page_function("readHeld")
READ_DATA_LAYER = page_function("readDataLayer")
FIND_LINKS = page_function("findLinks")
RECOGNISE_MANAGER = page_function("recogniseManager")
DECIDE_BY_API = page_function("decideByApi")
MANAGER_DECIDED = page_function("managerDecided")
LIST_CONTROLS = page_function("listControls")
CONTROL_ELEMENT = page_function("controlElement")

FIRST_LAYER = ("reject", "accept", "dismiss")  # what makes a banner, for the audit
LOOK = 0.2  # seconds between two searches of every frame for the banner's controls
QUIET_FOR_NO_BANNER = 1.0  # seconds of quiet after which no banner is coming, when no
                           # consent manager was recognised


@dataclass(frozen=True)
class Options:
    live: bool = False           # let pixels and tracker beacons reach their servers
    pages: int = 1               # pages per URL, following same-site links
    timeout: float = 30.0        # seconds any one wait may take: a load, the banner…
    settle: float = 0.5          # seconds without a new request that end a step
    trackers: Trackers = BUILTIN
    screenshots: Path | None = None  # where to save them; None takes none
    visitors: int = 8            # visitors (browser contexts) at once


@dataclass
class Snapshot:
    """A step as read from the browser, before it is judged."""

    step: Step
    cookies: Sequence[Mapping[str, Any]] = ()
    storage: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Control:
    """A control of a banner on a page without our tag, found by its accessible name."""

    action: str   # reject, save, settings, accept, dismiss
    name: str
    frame: Frame
    where: str    # "in the page", "in an open shadow root of a third-party frame (…)"…
    all: bool     # its name says "all"

    def describe(self) -> str:
        return f"“{self.name}” {self.where}"


def first_layer(controls: list[Control]) -> dict[str, Control]:
    """The banner's controls by action: the first of each, an acceptance that says
    "all" before one that does not."""
    found: dict[str, Control] = {}
    for control in sorted(controls, key=lambda c: c.action == "accept" and not c.all):
        found.setdefault(control.action, control)
    return found


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
        self.loaded = False
        self.loaded_at = 0.0
        self.page.on("load", self.on_load)
        self.snapshots: list[Snapshot] = []
        self.began = 0.0
        self.idle_token = 0  # quiet() asks the page whether it was idle, afresh each time

    def on_load(self, _: Any) -> None:
        self.loaded = True
        self.loaded_at = self.recorder.now()

    def since_load(self) -> float:
        return round(max(0.0, self.recorder.now() - self.loaded_at), 3)

    def begin(self, step: str) -> None:
        self.recorder.step = step
        self.began = self.recorder.now()

    # -- waiting ---------------------------------------------------------------------

    def until(self, done: Callable[[], bool], seconds: float | None = None,
              every: float = 0.05) -> Steps[bool]:
        """Wait for done(), at most `seconds` (default: the timeout): whether it came."""
        met = yield Wait(done, self.options.timeout if seconds is None else seconds, every)
        return met

    def timed_out(self, what: str) -> str:
        return f"timed out after {self.options.timeout:g} s (--timeout): {what}"

    def load(self, url: str) -> Steps[None]:
        """Open url and wait for its load event."""
        self.recorder.navigations.add(url)
        yield from self.navigate(lambda: self.page.goto(url, wait_until="commit"))

    def reloading(self) -> Steps[None]:
        self.recorder.navigations.add(self.page.url)
        yield from self.navigate(lambda: self.page.reload(wait_until="commit"))

    def navigate(self, go: Callable[[], Any]) -> Steps[None]:
        """Load a page, or say in one line why it did not load."""
        api = playwright()
        self.loaded = False
        try:
            response = go()
        except api.TimeoutError:
            raise PageError(f"did not load within {self.options.timeout:g} s") from None
        except api.Error as exc:
            raise PageError(load_error(exc)) from None
        if response and response.status >= 400:
            raise PageError(f"answered {response.status} {response.status_text}".strip())
        if not (yield from self.until(lambda: self.loaded)):
            raise PageError(f"did not load within {self.options.timeout:g} s")

    def quiet(self) -> Steps[None]:
        """Until no request began for --settle seconds, none is in flight and the page's
        main thread has been idle since (a page that never falls quiet ends its step
        after ten times that, or the timeout)."""
        cap = min(self.options.timeout, max(10.0, self.options.settle * 10))

        def settled() -> bool:
            if not self.recorder.quiet(self.options.settle):
                self.idle_token += 1  # idleness counts from the network's quiet on
                return False
            return bool(self.read(IDLE_AFTER, True, self.idle_token))

        yield from self.until(settled, cap)

    def read(self, script: str, default: Any, arg: Any = None) -> Any:
        """What a script says of the page, or default when the page went away meanwhile
        (a redirect or reload of its own); the checks then see the gap."""
        try:
            return self.page.evaluate(script, arg)
        except playwright().Error:
            return default

    # -- our tag -----------------------------------------------------------------------

    def tag(self) -> dict[str, str] | None:
        found: dict[str, str] | None = self.read(FIND_TAG, None)
        return found

    def find_tag(self) -> Steps[dict[str, str] | None]:
        """The tag's script element, once it is on the page; else None, once the page
        fell quiet (a tag manager may add the tag after the load event) or another
        consent manager's banner shows."""
        found: dict[str, str] | None = None

        def settled() -> bool:
            nonlocal found
            found = self.tag()
            return bool(found) or self.recorder.quiet(self.options.settle) or self.showing()

        cap = min(self.options.timeout, max(10.0, self.options.settle * 10))
        yield from self.until(settled, cap, every=LOOK)
        return found

    def tag_start(self) -> Steps[bool]:
        """Until the tag's first consent event (it has its settings and runs), or one of
        its files failed to load."""
        started = yield from self.until(
            lambda: bool(self.read(TAG_STARTED, False)) or bool(self.recorder.tag_failure()))
        return started and not self.recorder.tag_failure()

    def settings(self) -> TagSettings | None:
        for response in self.recorder.settings:
            try:
                parsed = TagSettings.from_script(response.text())
            except Exception:  # the body may be gone with its page
                continue
            if parsed:
                return parsed
        return None

    def banner_expected(self) -> bool:
        """The tag has started and the visitor has not decided: it shows its banner."""
        state = self.read(READ_CONSENT, None)
        return isinstance(state, dict) and state.get("decided") is False

    def tag_banner(self) -> Steps[tuple[Banner | None, str]]:
        """Until the tag's banner shows, or it is clear that it will not: (the banner or
        None, why not when it timed out)."""
        dialog = self.page.locator(TAG_BANNER)

        def settled() -> bool:
            return (dialog.is_visible() or not self.banner_expected()
                    or bool(self.recorder.tag_failure()))

        yield from self.until(settled, every=0.1)
        if dialog.is_visible():
            return Banner(round(self.recorder.now(), 3), dict(self.read_banner_buttons(dialog)),
                          after_load=self.since_load()), ""
        failed = self.recorder.tag_failure()
        if failed:
            return None, failed
        if self.banner_expected():
            return None, self.timed_out("the banner did not appear")
        return None, ""

    def read_banner_buttons(self, dialog: Any) -> list[tuple[str, str]]:
        try:
            return [tuple(pair) for pair in dialog.evaluate(READ_BUTTONS)]
        except playwright().Error:
            return []

    def tag_decide(self, action: str, categories: tuple[str, ...]) -> Steps[None]:
        """Answer the tag's banner by its buttons' data-a, whatever the page's language."""
        api = playwright()
        dialog = self.page.locator(TAG_BANNER)
        banner, why = yield from self.tag_banner()
        if banner is None:
            raise PageError(why or "the banner never appeared, so nothing could be chosen")
        decided = self.page.evaluate(COUNT_CONSENT_EVENTS)
        self.begin("decision")
        try:
            if action == "only":
                dialog.locator(TAG_BUTTON.format(action="prefs")).click()
                for switch in dialog.locator(TAG_SWITCHES).all():
                    switch.set_checked(switch.get_attribute("value") in categories)
                action = "save"
            dialog.locator(TAG_BUTTON.format(action=action)).click()
        except api.Error as exc:
            raise PageError(f"could not choose in the banner ({action}): "
                            f"{first_line(exc)}") from None
        if not (yield from self.until(lambda: bool(self.read(CONSENT_EVENT_AFTER, False,
                                                              decided)))):
            raise PageError(self.timed_out(f"the tag did not take the choice ({action})"))

    # -- any page: its consent manager and its banner -----------------------------------

    def manager(self) -> Manager | None:
        found = self.read(RECOGNISE_MANAGER, None)
        return Manager(found["name"], found["evidence"], bool(found["api"])) if found else None

    def controls(self) -> list[Control]:
        """The banner's controls in every frame, the page's first."""
        found: list[Control] = []
        for frame in self.page.frames:
            try:
                items = [] if frame.is_detached() else frame.evaluate(LIST_CONTROLS, WORDS)
                if items and frame.parent_frame and not frame.frame_element().is_visible():
                    continue
            except playwright().Error:  # a frame that went away while it was asked
                continue
            where = self.where(frame)
            for item in items:
                place = where
                if item["shadow"]:
                    place = "in an open shadow root" + (" of " + where[3:] if frame.parent_frame
                                                         else "")
                found.append(Control(item["action"], item["name"], frame, place, item["all"]))
        return found

    def where(self, frame: Frame) -> str:
        if frame.parent_frame is None:
            return "in the page"
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(frame.url))
        # about:blank and about:srcdoc frames take their parent's origin
        if frame.url.startswith("about:") or origin == "{0.scheme}://{0.netloc}".format(
                urlsplit(self.page.url)):
            return "in a same-origin frame"
        party = "same-site" if same_site(frame.url, self.page.url) else "third-party"
        return f"in a {party} frame ({origin})"

    def showing(self) -> bool:
        """A banner's first layer shows: a control that rejects, accepts or dismisses."""
        return any(c.action in FIRST_LAYER for c in self.controls())

    def any_banner(self, manager: Manager | None, seconds: float | None = None
                   ) -> Steps[tuple[dict[str, Control], str]]:
        """Until a banner's first layer shows: (its controls by action, why there is none
        when it timed out). Without a recognised consent manager, a page quiet for a
        second has none; with one, its banner may come later, up to the timeout (or
        `seconds`), unless the manager says the visitor has decided."""
        found: list[Control] = []
        loaded = self.recorder.now()

        def settled() -> bool:
            nonlocal found, manager
            found = self.controls()
            if any(c.action in FIRST_LAYER for c in found):
                return True
            manager = manager or self.manager()
            if manager and self.read(MANAGER_DECIDED, False, manager.name):
                return True  # it says the visitor has decided: no banner is coming
            quiet = self.recorder.quiet(max(self.options.settle, QUIET_FOR_NO_BANNER))
            return quiet and manager is None and self.recorder.now() - loaded >= QUIET_FOR_NO_BANNER

        came = yield from self.until(settled, seconds, every=LOOK)
        layer = first_layer(found)
        if not any(action in layer for action in FIRST_LAYER) and not came and manager:
            return layer, self.timed_out(f"{manager.name} was recognised ({manager.evidence}) "
                                         "but showed no banner")
        return layer, ""

    def answer(self, action: str, layer: dict[str, Control], manager: Manager | None
               ) -> Steps[str]:
        """Reject or accept on a page without our tag: by the first layer's control, else
        through the consent manager's API, else (to reject) on the second layer. Returns
        how it was done."""
        self.begin("decision")
        control = layer.get(action) or (layer.get("dismiss") if action == "accept" else None)
        if control:
            yield from self.click(control)
            return f"{control.describe()}, by its accessible name"
        if manager and manager.api:
            call = self.read(DECIDE_BY_API, "", [manager.name, action])
            if call:
                yield from self.quiet()
                return f"{call}, {manager.name}'s API"
        if action == "reject" and "settings" in layer:
            return (yield from self.reject_on_second_layer(layer["settings"]))
        verb = "refuse" if action == "reject" else "accept"
        raise PageError(f"found no way to {verb}: no control named so on the banner"
                        + (f", and no API known for {manager.name}" if manager else ""))

    def click(self, control: Control) -> Steps[None]:
        """Click a control and wait for the banner's first layer to close."""
        api = playwright()
        try:
            handle = control.frame.evaluate_handle(CONTROL_ELEMENT,
                                                   [WORDS, control.action, control.name])
            element = handle.as_element()
            if element is None:
                raise PageError(f"{control.describe()} went away before it could be clicked")
            element.click()
        except api.Error as exc:
            raise PageError(f"could not click {control.describe()}: {first_line(exc)}") from None
        if control.action == "settings":
            return
        if not (yield from self.until(lambda: not self.showing(), every=LOOK)):
            raise PageError(self.timed_out(f"the banner stayed open after {control.describe()}"))

    def reject_on_second_layer(self, settings: Control) -> Steps[str]:
        yield from self.click(settings)
        found: dict[str, Control] = {}

        def offered() -> bool:
            nonlocal found
            found = first_layer(self.controls())
            return "reject" in found

        if not (yield from self.until(offered, every=LOOK)):
            raise PageError(f"found no way to refuse: no reject control on the banner, nor "
                            f"after {settings.describe()}")
        yield from self.click(found["reject"])
        return (f"{found['reject'].describe()} on the second layer, after "
                f"{settings.describe()}, by their accessible names")

    def claims_gpc(self) -> bool:
        """The site says it honours Global Privacy Control: /.well-known/gpc.json."""
        parts = urlsplit(self.page.url)
        try:
            answer = self.context.request.get(f"{parts.scheme}://{parts.netloc}/.well-known/gpc.json",
                                              timeout=min(self.options.timeout, 10.0) * 1000,
                                              max_redirects=0)
            return answer.ok and answer.json().get("gpc") is True
        except (playwright().Error, ValueError, AttributeError):
            return False

    # -- what a step left behind ------------------------------------------------------

    def links(self, count: int) -> list[str]:
        found: list[str] = self.read(FIND_LINKS, [], count) if count > 0 else []
        return found

    def consent(self) -> dict[str, bool] | None:
        """cpx('consent'), once the tag has started."""
        state: dict[str, bool] | None = self.read(READ_CONSENT, None)
        return state

    def storage(self) -> list[tuple[str, str]]:
        """The keys in local and session storage, as (area, key)."""
        return [(area, key) for area, key in self.read(READ_STORAGE, [])]

    def finish(self, label: str, decided: bool, screenshot: str = "",
               any_page: bool = False) -> Steps[Step]:
        """Settle, then read what the step left behind (on a page without our tag, also
        whether a banner shows)."""
        yield from self.quiet()
        page = self.page
        url = pii.scan_url(page.url).mask(page.url)
        step = Step(self.recorder.step, label, decided, round(self.began, 3), url,
                    banner=self.showing() if any_page else None,
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
        try:
            self.page.screenshot(path=folder / f"{name}.png")
        except playwright().Error:
            return ""
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
        try:
            self.context.close()
        except playwright().Error:
            pass

    # -- one visitor alone (the pytest plugin's visits) --------------------------------

    def pump(self, seconds: float) -> None:
        self.page.wait_for_timeout(seconds * 1000)

    def goto(self, url: str) -> None:
        drive(self.load(url), self.pump)

    def reload(self) -> None:
        drive(self.reloading(), self.pump)

    def started(self) -> bool:
        return drive(self.tag_start(), self.pump)

    def settle(self) -> None:
        drive(self.quiet(), self.pump)

    def decide(self, action: str, categories: tuple[str, ...]) -> None:
        drive(self.tag_decide(action, categories), self.pump)


def held(item: dict[str, Any]) -> Held:
    src = pii.scan_url(item["src"]).mask(item["src"]) if item["src"] else ""
    return Held(item["tag"], src, item["category"], item["runs"])
