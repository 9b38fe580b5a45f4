"""The JSON API under /api/v1/, through the real app and a real SQLite store."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import time
from dataclasses import replace
from typing import Any, Iterator

import pytest
from starlette.testclient import TestClient

from consentpixel import auth, config as config_module
from consentpixel.app import create_app
from consentpixel.config import Config
from consentpixel.store import open_store

from .helpers import DAY, ORIGIN, T0, cell, seed

SECRET = "s3cret-for-tests"
BEARER = {"Authorization": f"Bearer {SECRET}"}
MARCH = "from=2026-03-01&to=2026-03-31"
SITE = "/api/v1/sites/demo"


@pytest.fixture
def config(demo_config: Config) -> Config:
    return replace(demo_config, admin_secret=SECRET)


@pytest.fixture
def api(config: Config) -> Iterator[TestClient]:
    store = open_store(config.db)
    seed(store, {
        cell("impression", "spring-sale", content="hero"): (400, 0),
        cell("click", "spring-sale", content="hero"): (20, 0),
        cell("pageview", "spring-sale", path="/demo/"): (18, 0),
        cell("purchase", "spring-sale", path="/demo/thanks", currency="EUR"): (4, 19960),
        cell("purchase", "spring-sale", period=T0 + DAY, currency="EUR"): (1, 4990),
        cell("pageview", path="/demo/"): (30, 0),
        cell("signup", "whisper", path="/demo/"): (1, 0),  # a rare label: merged
    })
    store.close()
    with TestClient(create_app(config), base_url=ORIGIN) as client:
        yield client


def get(api: TestClient, path: str, **kwargs: Any) -> Any:
    response = api.get(path, headers=BEARER, **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    return response.json()


# -- the secret --------------------------------------------------------------------------

PATHS = ["/api/v1/sites", f"{SITE}/report", f"{SITE}/campaigns", f"{SITE}/events",
         f"{SITE}/consents", f"{SITE}/costs", "/api/v1/sites/nope/report", "/api/v1/nothing"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"},
                                     {"Authorization": f"Basic {SECRET}"},
                                     {"Cookie": f"{auth.COOKIE}=9999999999.forged"}],
                         ids=["none", "wrong", "basic", "forged-session"])
def test_everything_needs_the_secret(api: TestClient, path: str,
                                     headers: dict[str, str]) -> None:
    response = api.get(path, headers=headers)
    assert response.status_code == 401
    assert response.json() == {"error": "send the admin secret: Authorization: Bearer SECRET"}
    assert response.headers["www-authenticate"].startswith("Bearer")


def test_the_secret_is_never_read_from_the_url(api: TestClient) -> None:
    assert api.get(f"/api/v1/sites?token={SECRET}&secret={SECRET}").status_code == 401


def test_writes_need_the_secret_too(api: TestClient) -> None:
    response = api.post(f"{SITE}/costs", json={"day": "2026-03-01", "link": "spring-sale",
                                               "amount": "1"})
    assert response.status_code == 401
    assert get(api, f"{SITE}/costs?{MARCH}")["rows"] == []


# -- reading -----------------------------------------------------------------------------


def test_sites(api: TestClient) -> None:
    (site,) = get(api, "/api/v1/sites")["sites"]
    assert (site["name"], site["currency"], site["min_count"]) == ("demo", "EUR", 3)
    assert site["links"][0]["id"] == "spring-sale"


def test_report_by_day(api: TestClient) -> None:
    body = get(api, f"{SITE}/report?{MARCH}")
    assert (body["from"], body["to"], body["by"]) == ("2026-03-01", "2026-03-31", ["day"])
    assert [(row["day"], row["conversions"], row["value"]) for row in body["rows"]] == [
        ("2026-03-01", 5, {"EUR": 199.6}), ("2026-03-02", 1, {"EUR": 49.9})]
    assert body["totals"] == {
        "pageviews": 48, "impressions": 400, "clicks": 20, "ctr": 0.05, "conversions": 6,
        "conversion_rate": 0.3, "value": {"EUR": 249.5}, "cost": {}, "cpa": {}, "roas": {}}


def test_report_groupings_repeat_or_list(api: TestClient) -> None:
    listed = get(api, f"{SITE}/report?{MARCH}&by=campaign,path")
    repeated = get(api, f"{SITE}/report?{MARCH}&by=campaign&by=path")
    assert listed == repeated and listed["by"] == ["campaign", "path"]
    assert [(r["campaign"], r["path"]) for r in listed["rows"]] == [
        ("spring-sale", "/demo/thanks"), ("spring-sale", "/"), ("", "/demo/"),
        ("spring-sale", "/demo/"), ("(other)", "(other)")]


def test_campaigns_funnel_with_spend(api: TestClient) -> None:
    response = api.put(f"{SITE}/costs", headers=BEARER, json=[
        {"day": "2026-03-01", "link": "spring-sale", "amount": "50"},
        {"day": "2026-03-02", "source": "newsletter", "medium": "email",
         "campaign": "spring-sale", "amount": 12.5}])
    assert response.status_code == 200, response.text
    assert [c["amount"] for c in response.json()["recorded"]] == [50.0, 12.5]
    rows = get(api, f"{SITE}/campaigns?{MARCH}")["rows"]
    spring = rows[0]
    assert spring == {
        "source": "newsletter", "medium": "email", "campaign": "spring-sale",
        "pageviews": 18, "impressions": 400, "clicks": 20, "ctr": 0.05, "conversions": 5,
        "conversion_rate": 0.25, "value": {"EUR": 249.5}, "cost": {"EUR": 62.5},
        "cpa": {"EUR": 12.5}, "roas": {"EUR": 3.992}}
    assert rows[-1]["campaign"] == "(other)"  # "whisper" had one hit


def test_events_are_the_clis_rows(api: TestClient) -> None:
    rows = get(api, f"{SITE}/events?{MARCH}")["rows"]
    assert rows[:2] == [
        {"event": "click", "count": 20, "value": 0, "currency": ""},
        {"event": "impression", "count": 400, "value": 0, "currency": ""}]
    assert {"event": "purchase", "count": 5, "value": 249.5, "currency": "EUR"} in rows


def test_consents(api: TestClient) -> None:
    for granted in ("analytics-ads", "analytics", "analytics"):
        api.get(f"/c.gif?s=demo&y={granted}&n={'' if 'ads' in granted else 'ads'}",
                headers={"Referer": ORIGIN + "/"})
    body = wait_for(api, lambda: get(api, f"{SITE}/consents?days=1"),
                    lambda b: b["rows"][0]["granted"] == 3)
    assert body["rows"] == [
        {"category": "analytics", "granted": 3, "refused": 0, "rate": 1.0},
        {"category": "ads", "granted": 1, "refused": 2, "rate": 0.3333}]
    (daily, *_) = get(api, f"{SITE}/consents?days=1&by=day")["rows"]
    assert set(daily) == {"day", "category", "granted", "refused", "rate"}


def wait_for(api: TestClient, fetch: Any, done: Any, tries: int = 50) -> Any:
    """Poll until the collector has flushed (every second)."""
    for _ in range(tries):
        body = fetch()
        if done(body):
            return body
        time.sleep(0.1)
    raise AssertionError(f"not flushed: {body}")


@pytest.mark.parametrize("path, header", [
    (f"{SITE}/report?{MARCH}&format=csv", "day,pageviews,impressions,clicks,ctr,conversions,"
                                          "conversion_rate,value_EUR,cost_EUR,cpa_EUR,"
                                          "roas_EUR"),
    (f"{SITE}/campaigns?{MARCH}&format=csv", "source,medium,campaign,pageviews,"),
    (f"{SITE}/events?{MARCH}&by=day&format=csv", "day,event,count,value,currency"),
    (f"{SITE}/consents?{MARCH}&format=csv", "category,granted,refused,rate"),
    (f"{SITE}/costs?{MARCH}&format=csv", "day,source,medium,campaign,currency,amount"),
])
def test_csv_exports(api: TestClient, path: str, header: str) -> None:
    response = api.get(path, headers=BEARER)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith('attachment; filename="demo-')
    assert response.text.splitlines()[0].startswith(header)


def test_report_csv_figures(api: TestClient) -> None:
    text = api.get(f"{SITE}/report?{MARCH}&format=csv", headers=BEARER).text
    first = next(csv.DictReader(io.StringIO(text)))
    assert (first["day"], first["conversions"], first["value_EUR"], first["cpa_EUR"]) == (
        "2026-03-01", "5", "199.60", "")


# -- writing costs -----------------------------------------------------------------------


def test_recording_a_day_again_replaces_it(api: TestClient) -> None:
    for amount in ("30", "20"):
        response = api.post(f"{SITE}/costs", headers=BEARER,
                            json={"day": "2026-03-01", "link": "spring-sale",
                                  "amount": amount})
        assert response.status_code == 200
    assert get(api, f"{SITE}/costs?{MARCH}")["rows"] == [
        {"day": "2026-03-01", "source": "newsletter", "medium": "email",
         "campaign": "spring-sale", "currency": "EUR", "amount": 20.0}]


@pytest.mark.parametrize("body, status, error", [
    ({"day": "2026-03-01", "link": "spring-sale"}, 400, "amount: required, e.g. 120.50"),
    ({"day": "2026-13-01", "link": "spring-sale", "amount": "1"}, 400,
     "day: '2026-13-01' is not a day like 2026-03-01"),
    ([{"day": "2026-03-01", "link": "spring-sale", "amount": "1"},
      {"day": "2026-03-01", "link": "nope", "amount": "1"}], 400,
     "[1].link: 'nope' is not a link of site 'demo'"),
    ([], 400, "send one cost or a list of 1 to 1000"),
    (["spring-sale"], 400, '[0]: a cost is an object like {"day": "2026-03-01", '
                           '"link": "spring-sale", "amount": "120.50"}'),
])
def test_bad_costs_are_refused_whole(api: TestClient, body: Any, status: int,
                                     error: str) -> None:
    response = api.post(f"{SITE}/costs", headers=BEARER, json=body)
    assert (response.status_code, response.json()) == (status, {"error": error})
    assert get(api, f"{SITE}/costs?{MARCH}")["rows"] == []  # nothing half-written


@pytest.mark.parametrize("content, kind, status, error", [
    (b"day=2026-03-01", "application/x-www-form-urlencoded", 415,
     "send the body as Content-Type: application/json"),
    (b"{not json", "application/json", 400, "the body is not JSON"),
    (b"[" + b" " * (1 << 20) + b"]", "application/json", 413, "the body is over"),
    (b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "the body nests too deeply"),
    (b'[[[[{"day": "2026-03-01"}]]]]', "application/json", 400, "the body nests too deeply"),
    (b'{"amount": ' + b"9" * 5000 + b"}", "application/json", 400,
     "the body holds a number of 5000 digits; an amount has at most 30"),
    (b'{"amount": NaN}', "application/json", 400, "the body holds NaN, which JSON does not"),
    (b'{"day": "2026-03-01", "link": "spring-sale", "amount": "1", "\\udc00": "x"}',
     "application/json", 400, "the body holds a lone surrogate in '\\udc00'"),
    (b'{"day": "2026-03-01", "source": "\\ud800", "medium": "cpc", "campaign": "c", '
     b'"amount": "1"}', "application/json", 400, "the body holds a lone surrogate"),
    (b'{"day": "2026-03-01", "link": "spring-sale", "amount": "1"}\xff', "application/json",
     400, "the body is not JSON"),
])
def test_bodies_that_are_not_json(api: TestClient, content: bytes, kind: str, status: int,
                                  error: str) -> None:
    response = api.post(f"{SITE}/costs", headers={**BEARER, "Content-Type": kind},
                        content=content)
    assert response.status_code == status
    assert response.json()["error"].startswith(error)


def test_the_session_reads_and_writes_with_its_csrf_token(api: TestClient) -> None:
    session = api.app.app.state.collector.sessions.start()  # type: ignore[attr-defined]
    api.cookies.set(auth.COOKIE, session)
    assert api.get(f"{SITE}/costs?{MARCH}").status_code == 200
    cost = {"day": "2026-03-01", "link": "spring-sale", "amount": "9"}
    refused = api.post(f"{SITE}/costs", json=cost)
    assert refused.status_code == 403 and "X-CSRF-Token" in refused.json()["error"]
    token = auth.sign(SECRET, "csrf:" + session)
    assert api.post(f"{SITE}/costs", json=cost, headers={"X-CSRF-Token": token}
                    ).status_code == 200


# -- bad requests ------------------------------------------------------------------------


@pytest.mark.parametrize("path, status, error", [
    (f"{SITE}/report?by=referrer", 400, "by: 'referrer' is not one of event, day, hour"),
    (f"{SITE}/report?from=yesterday", 400, "from: 'yesterday' is not a day like 2026-03-01"),
    (f"{SITE}/report?from=2026-03-05&to=2026-03-01", 400, "from: 2026-03-05 is after to"),
    (f"{SITE}/report?days=0", 400, "days: '0' is not a whole number from 1 to 3660"),
    (f"{SITE}/report?days=ten", 400, "days: 'ten' is not a whole number"),
    (f"{SITE}/report?format=xml", 400, "format: 'xml' is not one of json, csv"),
    (f"{SITE}/report?form=csv", 400, "form: unknown parameter (known: from, to, days"),
    (f"{SITE}/campaigns?by=path", 400, "by: unknown parameter"),
    (f"{SITE}/consents?by=path", 400, "by: 'path' is not one of category, day"),
    ("/api/v1/sites/nope/report", 404, "no site 'nope'"),
    ("/api/v1/sites/demo", 404, "no endpoint /api/v1/sites/demo"),
])
def test_bad_requests_get_json_errors(api: TestClient, path: str, status: int,
                                      error: str) -> None:
    response = api.get(path, headers=BEARER)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"].startswith(error)


@pytest.mark.parametrize("method, path", [("POST", f"{SITE}/report"),
                                          ("DELETE", f"{SITE}/costs"),
                                          ("PUT", "/api/v1/sites")])
def test_wrong_methods(api: TestClient, method: str, path: str) -> None:
    response = api.request(method, path, headers=BEARER)
    assert response.status_code == 405
    assert "is not allowed here" in response.json()["error"]
    assert "GET" in response.headers["allow"]


def test_labels_come_back_as_stored_text(api: TestClient) -> None:
    """JSON is data, not markup: a hostile label comes back verbatim, never sniffed as HTML."""
    for _ in range(3):
        api.get("/p.gif?s=demo&e=pageview&a=analytics&p=%2F&utm_source=x"
                "&utm_campaign=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
                headers={"Referer": ORIGIN + "/"})
    body = wait_for(api, lambda: get(api, f"{SITE}/campaigns?days=1"), lambda b: b["rows"])
    assert body["rows"][0]["campaign"] == "<script>alert(1)</script>"
    response = api.get(f"{SITE}/campaigns?days=1", headers=BEARER)
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_clicks_and_conversions_meet_in_one_row(tmp_path: Any) -> None:
    """A link's labels are cleaned as the tag's are, whatever their case in the config."""
    config = config_module.parse({
        "collector": {"db": f"sqlite:///{tmp_path / 'links.db'}", "admin_secret": SECRET},
        "sites": {"shop": {"origins": [ORIGIN], "min_count": 1, "links": {"sale": {
            "url": ORIGIN + "/sale", "source": "Newsletter", "medium": "Email",
            "campaign": "Spring-Sale"}}}}})
    with TestClient(create_app(config), base_url=ORIGIN) as client:
        redirect = client.get("/go/shop/sale", follow_redirects=False)
        assert redirect.status_code == 302
        landing = redirect.headers["location"].split("?", 1)[1]
        client.get(f"/p.gif?s=shop&e=purchase&a=ads&v=20&{landing}",
                   headers={"Referer": ORIGIN + "/"})
        body = wait_for(client, lambda: get(client, "/api/v1/sites/shop/campaigns?days=1"),
                        lambda b: b["totals"]["conversions"] == 1)
    (row,) = body["rows"]
    assert (row["source"], row["medium"], row["campaign"]) == (
        "newsletter", "email", "spring-sale")
    assert (row["clicks"], row["conversions"], row["conversion_rate"]) == (1, 1, 1.0)


def test_the_api_and_the_command_merge_alike_and_say_so(api: TestClient, config: Config
                                                        ) -> None:
    body = get(api, f"{SITE}/events?{MARCH}&by=campaign")
    assert (body["min_count"], body["merged"]) == (3, 1)
    assert body["note"] == ("1 label combination with fewer than 3 hits merged into (other), "
                            "so that small groups of visitors are not shown apart (min_count; "
                            "totals are exact)")
    assert get(api, f"{SITE}/campaigns?{MARCH}")["note"] == body["note"]
    done = subprocess.run([sys.executable, "-m", "consentpixel", "report", "--site", "demo",
                           "--db", config.db, "--by", "campaign", "--from", "2026-03-01",
                           "--to", "2026-03-31", "--format", "json"],
                          capture_output=True, text=True, timeout=60)
    assert json.loads(done.stdout) == body["rows"]
    assert done.stderr == f"consentpixel: {body['note']}; --min-count 1 shows every row\n"


def test_drops_need_a_known_site(api: TestClient) -> None:
    assert get(api, "/api/v1/drops")["rows"] == []
    response = api.get("/api/v1/drops?site=nope", headers=BEARER)
    assert (response.status_code, response.json()) == (404, {"error": "no site 'nope'"})
