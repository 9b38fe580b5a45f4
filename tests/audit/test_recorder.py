"""The recorder on a stand-in browser context: which collector a page uses, which
requests it answers itself, and when a step has settled. The real thing runs in
e2e/test_audit.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from consentpixel.audit.recorder import LONG_REQUEST, Recorder
from consentpixel.audit.trackers import BUILTIN
from consentpixel.pixel import GIF

COLLECTOR = "http://127.0.0.1:8000/"


@dataclass(eq=False)
class FakeRequest:
    url: str
    method: str = "GET"
    resource_type: str = "script"
    post_data_buffer: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    failure: str | None = None
    navigation: bool = False

    def is_navigation_request(self) -> bool:
        return self.navigation


@dataclass
class FakeRoute:
    request: FakeRequest
    answer: dict[str, Any] | None = None
    passed: bool = False

    def fulfill(self, **answer: Any) -> None:
        self.answer = answer

    def fallback(self) -> None:
        self.passed = True


class FakeContext:
    def __init__(self) -> None:
        self.handlers: dict[str, Callable[..., None]] = {}
        self.routes: list[tuple[Any, Callable[[FakeRoute], None]]] = []

    def on(self, event: str, handler: Callable[..., None]) -> None:
        self.handlers[event] = handler

    def route(self, pattern: Any, handler: Callable[[FakeRoute], None]) -> None:
        self.routes.append((pattern, handler))

    def send(self, url: str, **fields: Any) -> FakeRequest:
        request = FakeRequest(url, **fields)
        self.handlers["request"](request)
        return request

    def route_of(self, url: str) -> FakeRoute:
        """Route url as Playwright does: the first pattern that matches it."""
        route = FakeRoute(FakeRequest(url, resource_type="image"))
        for pattern, handler in self.routes:
            if pattern.search(url):
                self.handlers["request"](route.request)
                handler(route)
                return route
        route.passed = True
        return route


def recorder(**answers: bool) -> tuple[Recorder, FakeContext]:
    context = FakeContext()
    options = {"answer_pixels": True, "answer_trackers": True} | answers
    return Recorder(context, trackers=BUILTIN, **options), context


def test_the_collector_is_where_the_tag_with_its_site_came_from() -> None:
    recording, context = recorder()
    context.send("https://other.example/s/shop.js")  # a site's script without a tag
    context.send("https://first.example/t.js")  # the tag as first published, not yet started
    assert recording.candidates == {"https://first.example/"} and recording.collectors == set()
    context.send(COLLECTOR + "t.js?site=demo")
    assert recording.collectors == {COLLECTOR}


def test_only_the_collectors_pixels_and_known_beacons_are_answered() -> None:
    recording, context = recorder()
    context.send(COLLECTOR + "t.js?site=demo")
    ours = context.route_of(COLLECTOR + "p.gif?s=demo&e=pageview")
    theirs = context.route_of("https://cdn.example/p.gif?x=1")
    beacon = context.route_of("https://www.facebook.com/tr?id=1&ev=PageView")
    assert ours.answer is not None and ours.answer["body"] == GIF and not ours.passed
    assert theirs.passed and theirs.answer is None
    assert beacon.answer is not None
    answered = {raw.url: raw.answered for raw in recording.requests()}
    assert answered[COLLECTOR + "p.gif?s=demo&e=pageview"] is True
    assert answered["https://cdn.example/p.gif?x=1"] is False


def test_live_answers_nothing() -> None:
    recording, context = recorder(answer_pixels=False, answer_trackers=False)
    assert context.routes == []


def test_requests_keep_their_step_order_and_failure() -> None:
    recording, context = recorder()
    recording.navigations.add("http://localhost:9000/")
    opened = context.send("http://localhost:9000/", resource_type="document", navigation=True)
    recording.step = "decision"
    failed = context.send("https://cdn.example/a.js")
    failed.failure = "net::ERR_BLOCKED_BY_CLIENT"
    context.handlers["requestfailed"](failed)
    redirected = context.send("http://localhost:9000/next", resource_type="document",
                              navigation=True)  # the page's own, not one the audit opened
    first, second, third = recording.requests()
    assert (first.url, first.step, first.navigation) == (opened.url, "load", True)
    assert (second.step, second.failure) == ("decision", "net::ERR_BLOCKED_BY_CLIENT")
    assert (third.url, third.navigation) == (redirected.url, False)


def test_a_step_settles_once_nothing_new_began_and_nothing_short_is_in_flight() -> None:
    recording, context = recorder()
    request = context.send("https://cdn.example/a.js")
    assert not recording.quiet(0.0)  # in flight
    recording.inflight[request] -= LONG_REQUEST + 1  # a long poll: no longer waited for
    recording.last -= 1.0
    assert recording.quiet(0.5)
    assert not recording.quiet(5.0)  # but something began less than 5 s ago
    context.handlers["requestfinished"](request)
    assert request not in recording.inflight
