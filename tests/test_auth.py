"""Admin sessions and tokens."""

from __future__ import annotations

from starlette.requests import Request

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
