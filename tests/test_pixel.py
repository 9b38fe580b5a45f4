"""The pixel endpoints: the same GIF for every request, and a count of what it carried."""

from __future__ import annotations

import logging

import pytest
from starlette.testclient import TestClient

from consentpixel.app import create_app
from consentpixel.config import Config
from consentpixel.pixel import GIF

from .helpers import ORIGIN

TAB = {"Referer": ORIGIN + "/", "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0"}


def test_the_gif_is_43_bytes() -> None:
    assert len(GIF) == 43 and GIF.startswith(b"GIF89a")


@pytest.mark.parametrize("method, query", [
    ("GET", "s=demo&e=pageview&p=%2F&a=analytics"),
    ("GET", ""),
    ("GET", "s=nope"),
    ("GET", "%ff%fe=%00&&&===&s=" + "x" * 10000),
    ("GET", "v=nan&v=inf&v=1e308&c=%00"),
    ("POST", "s=demo&e=pageview"),
    ("PUT", ""),
    ("DELETE", ""),
    ("OPTIONS", ""),
])
@pytest.mark.parametrize("path", ["/p.gif", "/i.gif", "/c.gif"])
def test_pixels_always_answer_the_gif(client: TestClient, method: str, query: str,
                                      path: str) -> None:
    response = client.request(method, f"{path}?{query}", headers=TAB)
    assert response.status_code == 200
    assert response.content == GIF
    assert response.headers["content-type"] == "image/gif"
    assert response.headers["cache-control"] == "no-store"
    assert "set-cookie" not in response.headers


def test_head_answers_without_a_body(client: TestClient) -> None:
    response = client.head("/p.gif?s=demo")
    assert response.status_code == 200 and response.content == b""


def test_drops_are_counted_by_reason(demo_config: Config) -> None:
    app = create_app(demo_config)
    with TestClient(app, base_url=ORIGIN) as client:
        client.get("/p.gif?s=demo&e=pageview&p=%2F", headers=TAB)
        client.get("/p.gif?s=elsewhere", headers=TAB)
        client.post("/p.gif?s=demo", headers=TAB)
        client.get("/p.gif?s=demo&e=pageview&a=analytics",
                   headers={**TAB, "Referer": "https://evil.example/"})
        ingest = app.app.state.collector.ingest
        assert (ingest.dropped["consent"], ingest.dropped["site"], ingest.dropped["method"],
                ingest.dropped["origin"]) == (1, 1, 1, 1)


def test_each_pixel_goes_through_its_front_door(demo_config: Config) -> None:
    app = create_app(demo_config)
    with TestClient(app, base_url=ORIGIN) as client:
        client.get("/p.gif?s=demo&e=pageview&p=%2F&a=analytics", headers=TAB)
        client.get("/i.gif?s=demo&utm_campaign=spring&utm_source=newsletter", headers=TAB)
        client.get("/c.gif?s=demo&y=analytics&n=ads", headers=TAB)
        ingest = app.ingest
        events = sorted(cell.event for cell in ingest.buffer.batch.cells)
        assert (ingest.accepted, ingest.decisions, events) == (2, 1, ["impression", "pageview"])


def test_a_failing_count_still_answers_and_is_counted(demo_config: Config,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    app = create_app(demo_config)

    def fail(query: bytes, headers: object, client: str) -> None:
        raise RuntimeError("a bug")

    app.handlers["/p.gif"] = fail
    with TestClient(app, base_url=ORIGIN) as client, caplog.at_level(logging.ERROR):
        response = client.get("/p.gif?s=demo", headers=TAB)
        assert response.status_code == 200 and response.content == GIF
        assert app.ingest.dropped["error"] == 1
    assert "pixel request failed" in caplog.text
