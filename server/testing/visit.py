"""One visitor with a fresh profile in headless Chromium: what their browser sent, how
they decide, and assertions a test reads like a sentence.

A visit drives the audit's `Session`; Playwright loads with the browser it is given.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ..audit.checks import gated
from ..audit.chromium import PageError
from ..audit.model import RecordedRequest, Scenario, Step, TagSettings
from ..audit.session import Options, Session
from ..audit.traffic import Classifier, ours, pixel_params
from .collector import CollectorProcess

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


class Visit:
    """One visitor with a fresh profile: what their browser sent, and how to decide.

    Pixels reach the collector (so it counts them); known third-party tracker beacons
    are answered inside the browser, so the suite needs no internet and counts in no
    one's statistics.
    """

    def __init__(self, session: Session, collector: CollectorProcess) -> None:
        self.session = session
        self.collector = collector
        self.page: Page = session.page

    @classmethod
    def start(cls, browser: Browser, collector: CollectorProcess, *, gpc: bool = False
              ) -> Visit:
        """A new visitor, under Global Privacy Control if gpc; open a page with goto()."""
        return cls(Session(browser, Options(), gpc=gpc, answer_pixels=False), collector)

    def goto(self, url: str) -> Visit:
        try:
            self.session.goto(url)
        except PageError as exc:
            raise AssertionError(f"{url}: {exc}") from None
        self.session.started()
        return self

    def reload(self) -> None:
        """Reload the page and wait for the tag to start again."""
        self.session.reload()
        self.session.started()

    def accept(self) -> None:
        self.decide("accept")

    def reject(self) -> None:
        self.decide("reject")

    def choose(self, *categories: str) -> None:
        """Allow these categories only, through the banner's preferences."""
        self.decide("only", categories)

    def decide(self, action: str, categories: tuple[str, ...] = ()) -> None:
        try:
            self.session.decide(action, categories)
        except PageError as exc:
            raise AssertionError(str(exc)) from None

    def consent(self) -> dict[str, bool] | None:
        """cpx('consent'), once the tag has started."""
        return self.session.consent()

    def settle(self) -> None:
        """Wait until the page has sent nothing for a moment."""
        self.session.settle()

    def settings(self) -> TagSettings:
        settings = self.session.settings()
        if settings is None:
            raise AssertionError("the tag did not start: its site settings never arrived")
        return settings

    def requests(self) -> list[RecordedRequest]:
        """Every request so far, classified, with personal data masked."""
        return [self.classifier().request(raw) for raw in self.session.recorder.requests()]

    def pixels(self, event: str | None = None, file: str = "p.gif") -> list[dict[str, str]]:
        """The parameters of the collector's pixels so far (p.gif, or c.gif, i.gif)."""
        base = self.collector.url + "/"
        found = [pixel_params(raw.url) for raw in self.session.recorder.requests()
                 if ours(raw.url, base) == file]
        return [p for p in found if event is None or p.get("e") == event]

    def events(self) -> list[str]:
        return [pixel.get("e", "") for pixel in self.pixels()]

    def assert_fired(self, event: str, timeout: float = 5.0, **params: Any) -> dict[str, str]:
        """The first pixel for event whose parameters include params; waits for it."""
        wanted = {key: str(value) for key, value in params.items()}
        deadline = time.monotonic() + timeout
        while True:
            for pixel in self.pixels(event):
                if all(pixel.get(key) == value for key, value in wanted.items()):
                    return pixel
            if time.monotonic() > deadline:
                raise AssertionError(f"no {event} pixel with {wanted}; fired: {self.pixels()}"
                                     + self.collector.not_counted())
            self.page.wait_for_timeout(100)

    def assert_nothing_gated(self, *granted: str) -> None:
        """Nothing beyond `granted` (default: nothing) fired or was stored: no pixel
        for another category, no known tracker beacon, cookie or storage key."""
        self.settle()
        settings = self.settings()
        classifier = self.classifier()
        step = Step(self.session.recorder.step, "so far", decided=True, t=0.0)
        step.cookies = [classifier.cookie(c["name"], c["domain"], c["value"])
                        for c in self.session.context.cookies()]
        step.storage = [classifier.stored(area, key) for area, key in self.session.storage()]
        visit = Scenario("visit", "this visit", "none", granted, steps=[step],
                         requests=self.requests())
        problems = gated(visit, [step], settings)
        if problems:
            raise AssertionError("gated by consent, yet sent or stored:\n  "
                                 + "\n  ".join(problems))

    def classifier(self) -> Classifier:
        found = sorted(self.session.recorder.collectors)
        return Classifier(self.page.url, found[0] if found else self.collector.url + "/",
                          self.session.options.trackers, self.session.settings())

    def close(self) -> None:
        self.session.close()
