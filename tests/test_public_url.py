"""Absolute URLs come from public_url when it is set, and pages vary by Host either way."""

from __future__ import annotations

from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from consentpixel.app import create_app
from consentpixel.config import Config

PUBLIC = "https://collect.example"
FORGED = {"Host": "evil.example"}

# path, what the page or redirect carries that is built from the request's URL
PAGES = [
    ("/", 'src="https://collect.example/t.js?site=SITE"'),
    ("/demo/", 'src="https://collect.example/t.js?site=demo"'),
    ("/demo/", 'href="https://collect.example/static/demo.css"'),
    ("/dashboard/login", 'href="https://collect.example/static/dashboard.css"'),
]


@pytest.fixture
def public(demo_config: Config) -> TestClient:
    return TestClient(create_app(replace(demo_config, public_url=PUBLIC)))


@pytest.mark.parametrize("path, built", PAGES)
def test_pages_are_built_from_the_public_url(public: TestClient, path: str, built: str) -> None:
    with public:
        response = public.get(path, headers=FORGED)
    assert response.status_code == 200
    assert built in response.text and "evil.example" not in response.text
    assert "Host" in response.headers["vary"]


def test_a_trailing_slash_redirect_goes_to_the_public_url(public: TestClient) -> None:
    with public:
        response = public.get("/dashboard/", headers=FORGED, follow_redirects=False)
    assert response.headers["location"] == f"{PUBLIC}/dashboard"
    assert "Host" in response.headers["vary"]


def test_without_a_public_url_pages_vary_by_host(demo_config: Config) -> None:
    with TestClient(create_app(demo_config)) as client:
        for path, _ in PAGES:
            response = client.get(path, headers=FORGED)
            assert "evil.example" in response.text  # built from the Host header, so…
            assert "Host" in response.headers["vary"], path  # …no cache may share it


def test_what_carries_no_url_does_not_vary_by_host(public: TestClient) -> None:
    with public:
        for path in ("/t.js", "/p.gif?s=demo", "/healthz"):
            assert "Host" not in public.get(path, headers=FORGED).headers.get("vary", ""), path
