"""The collector's endpoints, through the real ASGI app and a real SQLite store."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from starlette.testclient import TestClient

from consentpixel.app import create_app
from consentpixel.config import Config
from consentpixel.store import StoreError

from .helpers import ORIGIN, PII_CASES

TAB = {"Referer": ORIGIN + "/", "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/130.0"}


def stored(config: Config) -> bytes:
    path = Path(config.db.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*")).lower()


def rows(config: Config, sql: str) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(config.db.removeprefix("sqlite:///"))
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def test_hits_are_written_on_shutdown(demo_config: Config) -> None:
    with TestClient(create_app(demo_config), base_url=ORIGIN) as client:
        for _ in range(3):
            client.get("/p.gif?s=demo&e=pageview&p=%2Fbeans&a=analytics", headers=TAB)
        client.get("/p.gif?s=demo&e=pageview&p=%2Fbeans", headers=TAB)  # no consent
        client.get("/p.gif?s=elsewhere&e=pageview", headers=TAB)
    assert rows(demo_config, "SELECT event, path, count FROM cells") == [
        ("pageview", "/beans", 3)]


def test_every_shared_case_stays_out_of_the_store(demo_config: Config) -> None:
    """Each case from the shared table sent the way a careless client would."""
    with TestClient(create_app(demo_config), base_url=ORIGIN,
                    client=("2001:db8:85a3::8a2e:370:7334", 50000)) as client:
        for case in PII_CASES:
            where, raw = case["where"], case["input"]
            params = {"s": "demo", "e": "purchase", "a": "analytics-ads", "v": "10",
                      "c": "EUR", "p": "/checkout"}
            head = dict(TAB)
            if where == "path":
                params["p"] = raw
            elif where in ("query", "fragment"):
                params["p"] = "/landing" + raw
                for key, value in [pair.split("=", 1) for pair in raw.strip("?#").split("&")]:
                    params[key] = value  # as if the client forwarded every parameter
            elif where == "referrer":
                params["r"] = raw
            elif where == "event_property":
                params.update(raw)
            elif where == "event_name":
                params["e"] = raw
            elif where == "order_id":
                params["o"] = raw
            elif where == "header":
                name, value = raw.split(": ", 1)
                head[name] = value
            client.get("/p.gif?" + urlencode(params), headers=head)
            client.get("/p.gif?" + urlencode({**params, "e": "pageview"}), headers=head)
    data = stored(demo_config)
    assert rows(demo_config, "SELECT SUM(count) FROM cells")[0][0] > 20
    for case in PII_CASES:
        for absent in case["absent"]:
            assert absent.encode() not in data, (case, absent)


def test_the_tag_is_minified_gzipped_and_cached(client: TestClient) -> None:
    plain = client.get("/t.js", headers={"Accept-Encoding": "identity"})
    zipped = client.get("/t.js", headers={"Accept-Encoding": "gzip"})
    assert plain.status_code == 200
    assert plain.headers["content-type"] == "application/javascript; charset=utf-8"
    assert "max-age" in plain.headers["cache-control"]
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.content == plain.content  # the client decompressed it
    assert "/*" not in plain.text and "\n\n" not in plain.text
    assert "__ASSETS__" not in plain.text
    again = client.get("/t.js", headers={"If-None-Match": plain.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_the_banner_comes_with_the_site_script_and_stylesheet(client: TestClient) -> None:
    module = client.get("/p/demo.js?b=en")
    assert module.status_code == 200 and "cpx('_module'," in module.text
    assert module.headers["cache-control"] == "public, max-age=300"
    styles = client.get("/s/demo.css")
    assert styles.status_code == 200 and styles.headers["content-type"].startswith("text/css")
    assert client.get("/s/nope.css").status_code == 404
    assert client.get("/b.js").status_code == 404  # no longer a file of its own


def test_the_tag_is_the_core_with_the_sites_settings(client: TestClient) -> None:
    response = client.get("/t.js?site=demo")
    assert response.text.startswith("(function(") and "})(window,document,{" in response.text
    assert '"m":"opt-in"' in response.text
    assert response.headers["cache-control"] == "public, max-age=300"
    unknown = client.get("/t.js?site=nope")  # the console says why nothing is counted
    assert unknown.status_code == 200 and '["site","nope","nope"]' in unknown.text
    assert unknown.headers["cache-control"] == "no-store"
    missing = client.get("/s/nope.js")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(
        "application/javascript")


def test_consent_mode_adapter(client: TestClient) -> None:
    script = client.get("/gcm/demo.js").text
    assert "'consent','default'" in script and "analytics_storage" in script
    assert "__SETTINGS__" not in script


def test_click_links_count_and_redirect_with_labels(demo_config: Config) -> None:
    with TestClient(create_app(demo_config), base_url=ORIGIN) as client:
        response = client.get("/go/demo/spring-sale", follow_redirects=False, headers=TAB)
        assert response.status_code == 302
        assert response.headers["location"] == (
            "http://127.0.0.1:8000/demo/?utm_source=newsletter&utm_medium=email"
            "&utm_campaign=spring-sale&utm_content=hero")
    assert rows(demo_config, "SELECT event, source, campaign, count FROM cells") == [
        ("click", "newsletter", "spring-sale", 1)]


HOSTILE = ["nope", "..%2F..%2Fevil", "%2F%2Fevil.example", "javascript:alert(1)",
           "javascript%3Aalert(1)", "spring-sale%2F..%2F..%2F%2Fevil.example",
           "http:%2F%2Fevil.example", "%5C%5Cevil.example", "spring-sale%00",
           "SPRING-SALE", "spring-sale/extra"]


@pytest.mark.parametrize("link", HOSTILE)
@pytest.mark.parametrize("site", ["demo", "evil.example", "%2F%2Fevil.example"])
def test_click_links_are_never_open_redirects(client: TestClient, site: str, link: str) -> None:
    response = client.get(f"/go/{site}/{link}", follow_redirects=False)
    assert response.status_code == 404
    assert "location" not in response.headers
    assert "evil" not in response.text


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json()["status"] == "ok"


def test_health_details_need_the_admin_secret(demo_config: Config) -> None:
    secret = "the-admin-secret-for-health"
    app = create_app(replace(demo_config, admin_secret=secret))
    with TestClient(app, base_url=ORIGIN) as client:
        flusher = app.app.state.collector.flusher  # type: ignore[attr-defined]
        flusher.failed(StoreError("postgresql://cpx:***@db.internal/cpx: connection refused"))
        public = client.get("/healthz")
        assert (public.status_code, public.json()) == (200, {"status": "degraded"})
        detail = client.get("/healthz", headers={"Authorization": f"Bearer {secret}"}).json()
        assert detail["store"] == "unreachable" and "db.internal" in detail["error"]
        flusher.buffer.max_cells = 0  # memory full: hits are being lost
        down = client.get("/healthz")
        assert (down.status_code, down.json()) == (503, {"status": "down"})


@pytest.mark.parametrize("path", ["/demo/", "/demo/product/yirgacheffe",
                                  "/demo/thanks?product=huila&order=D-1"])
def test_demo_pages_carry_the_tag_under_a_strict_csp(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert 'src="http://127.0.0.1:8000/t.js?site=demo"' in response.text
    assert "<style" not in response.text and " style=" not in response.text


def test_the_thank_you_page_declares_the_purchase(client: TestClient) -> None:
    page = client.get("/demo/thanks?product=huila&order=D-42").text
    assert 'data-event="purchase" data-value="12.50" data-currency="EUR"' in page
    assert 'data-order-id="D-42"' in page


def test_demo_pages_escape_what_they_echo(client: TestClient) -> None:
    page = client.get("/demo/thanks?product=huila&order=" + quote("<script>x</script>")).text
    assert "<script>x</script>" not in page and "&lt;script&gt;" in page


def test_no_demo_without_the_demo_config(tmp_path: Path) -> None:
    from consentpixel import config as config_module

    config = config_module.parse({"collector": {"db": f"sqlite:///{tmp_path}/x.db"},
                                  "sites": {"shop": {"origins": ["https://shop.example"]}}})
    with TestClient(create_app(config)) as client:
        assert client.get("/demo/").status_code == 404



def test_the_newsletter_form_posts_and_keeps_nothing(client: TestClient) -> None:
    page = client.get("/demo/").text
    (form,) = re.findall(r'<form class="signup"[^>]*>', page)
    assert 'method="post"' in form and 'action="/demo/subscribe"' in form
    done = client.post("/demo/subscribe", data={"email": "grace.hopper@navy.example"},
                       follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, "/demo/?subscribed=1")
    assert "grace" not in client.get(done.headers["location"]).text
    assert client.get("/demo/subscribe?email=x%40y.example").status_code == 405
