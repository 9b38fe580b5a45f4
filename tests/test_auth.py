"""Admin sessions and tokens, and the authentication backend that checks them once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.testclient import TestClient

from consentpixel import auth


def request(headers: dict[str, str] | None = None, cookie: str = "") -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    if cookie:
        raw.append((b"cookie", f"{auth.COOKIE}={cookie}".encode()))
    return Request({"type": "http", "method": "GET", "path": "/", "headers": raw,
                    "query_string": b""})


def test_sessions_expire_and_are_bound_to_the_secret() -> None:
    session = auth.new_session("s3cret", now=1000)
    assert auth.valid_session(session, "s3cret", now=1000 + 60)
    assert not auth.valid_session(session, "s3cret", now=1000 + auth.SESSION_SECONDS + 1)
    assert not auth.valid_session(session, "other", now=1001)
    assert not auth.valid_session("9999999999.forged", "s3cret")
    assert not auth.valid_session("", "s3cret")


def test_bearer_tokens_and_cookies() -> None:
    assert auth.is_admin(request({"Authorization": "Bearer s3cret"}), "s3cret")
    assert not auth.is_admin(request({"Authorization": "Bearer wrong"}), "s3cret")
    assert not auth.is_admin(request({"Authorization": "Basic s3cret"}), "s3cret")
    assert auth.is_admin(request(cookie=auth.new_session("s3cret")), "s3cret")
    assert not auth.is_admin(request(), "s3cret")


def test_csrf_tokens_follow_the_session() -> None:
    one = request(cookie=auth.new_session("s3cret", now=1))
    two = request(cookie=auth.new_session("s3cret", now=2))
    token = auth.csrf_token(one, "s3cret")
    assert auth.valid_csrf(one, "s3cret", token)
    assert not auth.valid_csrf(two, "s3cret", token)
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
    ({}, "", False),
]


@pytest.mark.parametrize("headers, cookie, admitted", CREDENTIALS)
def test_the_backend_gives_the_admin_scope_for_the_secret_only(
        headers: dict[str, str], cookie: str, admitted: bool) -> None:
    session = auth.new_session("s3cret") if cookie == "session" else cookie
    found = asyncio.run(auth.AdminBackend("s3cret").authenticate(request(headers, session)))
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
