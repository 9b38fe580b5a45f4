"""Admin tokens and sessions, the backend that checks them once, and failed attempts
limited per client."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.testclient import TestClient

from consentpixel import auth
from consentpixel.sessions import Sessions
from consentpixel.store import Store


def request(headers: dict[str, str] | None = None, cookie: str = "") -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    if cookie:
        raw.append((b"cookie", f"{auth.COOKIE}={cookie}".encode()))
    return Request({"type": "http", "method": "GET", "path": "/", "headers": raw,
                    "query_string": b""})


def test_csrf_tokens_follow_the_session() -> None:
    one, two = request(cookie="a" * 43), request(cookie="b" * 43)
    token = auth.csrf_token(one, "s3cret")
    assert auth.valid_csrf(one, "s3cret", token)
    assert not auth.valid_csrf(two, "s3cret", token)
    assert not auth.valid_csrf(one, "other", token)
    assert not auth.valid_csrf(one, "s3cret", "")


# headers, session cookie -> admitted?
CREDENTIALS = [
    ({"Authorization": "Bearer s3cret"}, "", True),
    ({"Authorization": "bearer  s3cret "}, "", True),
    ({}, "session", True),
    ({"Authorization": "Bearer wrong"}, "session", False),  # a wrong token is never rescued
    ({"Authorization": "Bearer wrong"}, "", False),
    ({"Authorization": "Basic s3cret"}, "", False),
    ({}, "9999999999.forged", False),
    ({}, "A" * 43, False),  # shaped like an ID, never begun
    ({}, "", False),
]


@pytest.fixture
def sessions(store: Store) -> Sessions:
    return Sessions(store, lambda: "s3cret", 3600)


@pytest.mark.parametrize("headers, cookie, admitted", CREDENTIALS)
def test_the_backend_gives_the_admin_scope_for_the_secret_only(
        sessions: Sessions, headers: dict[str, str], cookie: str, admitted: bool) -> None:
    session = sessions.start() if cookie == "session" else cookie
    backend = auth.AdminBackend(lambda: "s3cret", sessions, auth.Failures(10))
    found = asyncio.run(backend.authenticate(request(headers, session)))
    if admitted:
        assert found is not None
        credentials, user = found
        assert credentials.scopes == [auth.ADMIN] and user.is_authenticated
    else:
        assert found is None


def test_machines_without_the_secret_are_told_how_to_send_it() -> None:
    response = auth.unauthorized(request(), HTTPException(401))
    assert (response.status_code, response.body) == (401, b"admin secret required\n")
    assert response.headers["www-authenticate"] == 'Bearer realm="consentpixel"'
    assert response.headers["cache-control"] == "no-store"


def test_the_pixels_are_answered_without_the_admin_check(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    checked: list[str] = []
    real = auth.AdminBackend.authenticate

    async def counting(backend: auth.AdminBackend, conn: HTTPConnection) -> Any:
        checked.append(conn.url.path)
        return await real(backend, conn)

    monkeypatch.setattr(auth.AdminBackend, "authenticate", counting)
    for path in ("/p.gif?s=demo", "/i.gif?s=demo", "/c.gif?s=demo"):
        assert client.get(path).status_code == 200
    assert checked == []
    assert client.get("/metrics").status_code == 401
    assert client.get("/healthz").status_code == 200
    assert checked == ["/metrics", "/healthz"]


# -- failed attempts ---------------------------------------------------------------------


def test_failures_are_limited_per_client_for_a_minute() -> None:
    failures = auth.Failures(3)
    for second in (100.0, 101.0, 102.0):
        assert failures.retry_after("192.0.2.1", second) == 0
        failures.add("192.0.2.1", second)
    assert failures.retry_after("192.0.2.1", 102.5) == 58  # the minute began at 100
    assert failures.retry_after("192.0.2.1", 159.2) == 1
    assert failures.retry_after("192.0.2.2", 102.5) == 0  # another client is not refused
    assert failures.retry_after("192.0.2.1", 160.0) == 0  # a new minute, a new count
    failures.add("192.0.2.1", 160.0)
    assert failures.retry_after("192.0.2.1", 160.0) == 0


def test_the_right_secret_clears_a_clients_failures() -> None:
    failures = auth.Failures(2)
    failures.add("192.0.2.1", 100.0)
    failures.clear("192.0.2.1")
    failures.add("192.0.2.1", 101.0)
    assert failures.retry_after("192.0.2.1", 101.0) == 0


def test_the_failures_remembered_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "MAX_CLIENTS", 3)
    failures = auth.Failures(1)
    for index in range(5):
        failures.add(f"192.0.2.{index}", 100.0)
    assert len(failures.clients) == 3
    assert failures.retry_after("192.0.2.4", 100.0) == 60  # the newest are kept
    failures.add("192.0.2.9", 200.0)  # the others' minutes are over: they make room
    assert list(failures.clients) == ["192.0.2.9"]


# the client's address -> whom its failures count against: as the rate limit counts it
CLIENTS = [("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"), ("testclient", "testclient"),
           ("", "")]


@pytest.mark.parametrize("host, client", CLIENTS)
def test_whom_failures_count_against(host: str, client: str) -> None:
    conn = Request({"type": "http", "method": "GET", "path": "/", "headers": [],
                    "query_string": b"", "client": (host, 5000) if host else None})
    assert auth.client_of(conn) == client


def test_a_client_past_its_failures_is_refused_without_a_check(sessions: Sessions) -> None:
    failures = auth.Failures(2)
    backend = auth.AdminBackend(lambda: "s3cret", sessions, failures)
    wrong = request({"Authorization": "Bearer wrong"})
    right = request({"Authorization": "Bearer s3cret"})
    for _ in range(2):
        assert asyncio.run(backend.authenticate(wrong)) is None
    with pytest.raises(auth.TooManyFailures) as refused:
        asyncio.run(backend.authenticate(right))
    assert 59 <= refused.value.retry_after <= 60
    response = auth.refused(right, refused.value)
    assert response.status_code == 429
    assert response.headers["retry-after"] == str(refused.value.retry_after)
    api = Request({"type": "http", "method": "GET", "path": "/api/v1/sites", "headers": [],
                   "query_string": b""})
    assert auth.refused(api, refused.value).headers["content-type"] == "application/json"
