"""Every request a browser context sends, with the step it was sent in.

The recorder also notices the collector a page uses (where the tag, t.js?site=…, and
its settings came from) and, unless the audit runs live, answers its pixels and known
tracker beacons inside the browser, so an audit never counts in anyone's statistics.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

from ..pixel import GIF
from .traffic import Raw
from .trackers import Trackers

if TYPE_CHECKING:
    from playwright.sync_api import Request, Route

PIXEL_URL = re.compile(r"/[pci]\.gif(?:\?|$)")
TAG_FILE = re.compile(r"^(.*/)(t\.js|b\.js|[sp]/[^/?#]+\.js)(?:[?#]|$)")
TAG_URL = re.compile(r"^(.*/)t\.js(?:[?#]|$)")
SETTINGS_URL = re.compile(r"^(.*/)t\.js\?(?:[^#]*&)?site=")
LONG_REQUEST = 2.0  # seconds after which a request in flight no longer delays settling


class Recorder:
    """The requests of one browser context, and the collector its pages use."""

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
        self.collectors: set[str] = set()  # … with the site's settings
        self.settings: list[Any] = []      # responses of t.js?site=…
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
        if settings:
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

    def tag_failure(self) -> str:
        """Why one of the tag's files (t.js, its settings, the banner's b.js) did not
        load, or "": the tag will not start, or not show its banner."""
        for raw in self.raws.values():
            match = TAG_FILE.match(raw.url)
            if not match or match.group(1) not in self.candidates or raw.step != self.step:
                continue
            if raw.failure and "ERR_ABORTED" not in raw.failure:
                return f"{match.group(2)} did not load: {raw.failure}"
            if raw.status and raw.status >= 400:
                return f"{match.group(2)} answered {raw.status}"
        return ""

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
