"""Admin access: the dashboard, the JSON API and /metrics require the admin secret.

Machines send it as `Authorization: Bearer SECRET`; people log in once with it and get a
signed session cookie (HttpOnly, SameSite=Strict). Forms carry a CSRF token derived
from the session. Nothing else on the collector needs a secret.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from starlette.requests import Request

COOKIE = "cpx_admin"
SESSION_SECONDS = 12 * 3600


def same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def sign(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def new_session(secret: str, now: float | None = None) -> str:
    """A cookie value that proves a login until it expires: expiry.signature."""
    expires = str(int((time.time() if now is None else now) + SESSION_SECONDS))
    return f"{expires}.{sign(secret, 'session:' + expires)}"


def valid_session(value: str, secret: str, now: float | None = None) -> bool:
    expires, _, signature = value.partition(".")
    if not expires.isdigit() or not same(signature, sign(secret, "session:" + expires)):
        return False
    return int(expires) > (time.time() if now is None else now)


def bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def is_admin(request: Request, secret: str) -> bool:
    """A valid bearer token or session cookie; never a secret in the URL."""
    token = bearer(request)
    if token:
        return same(token, secret)
    return valid_session(request.cookies.get(COOKIE, ""), secret)


def csrf_token(request: Request, secret: str) -> str:
    return sign(secret, "csrf:" + request.cookies.get(COOKIE, ""))


def valid_csrf(request: Request, secret: str, token: str) -> bool:
    return bool(token) and same(token, csrf_token(request, secret))
