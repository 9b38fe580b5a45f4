"""Admin access: the dashboard, the JSON API and /metrics require the admin secret.

Machines send it as `Authorization: Bearer SECRET`; people log in once with it and get a
signed session cookie (HttpOnly, SameSite=Strict). Either gives a request the "admin"
scope: AdminBackend, run by Starlette's AuthenticationMiddleware inside the app, checks
them once, and every admin endpoint asks for the scope with `requires(ADMIN, ...)`.
Forms carry a CSRF token derived from the session. Nothing else on the collector needs
a secret.
"""

from __future__ import annotations

import hashlib
import hmac
import time

from starlette.authentication import AuthCredentials, AuthenticationBackend, BaseUser, SimpleUser
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import PlainTextResponse, Response

ADMIN = "admin"  # the scope the secret gives
COOKIE = "cpx_admin"
SESSION_SECONDS = 12 * 3600
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="consentpixel"', "Cache-Control": "no-store"}
MAX_FAILURES = 20  # failed sign-ins per minute and process before answering 429
clock = time.time  # what the sign-in limit counts minutes by; tests hold it still


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


def bearer(conn: HTTPConnection) -> str:
    scheme, _, token = conn.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def is_admin(conn: HTTPConnection, secret: str) -> bool:
    """A valid bearer token or session cookie; never a secret in the URL."""
    token = bearer(conn)
    if token:
        return same(token, secret)
    return valid_session(conn.cookies.get(COOKIE, ""), secret)


class AdminBackend(AuthenticationBackend):
    """The admin scope for a request that carries the secret, nothing for the others."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    async def authenticate(self, conn: HTTPConnection
                           ) -> tuple[AuthCredentials, BaseUser] | None:
        if not is_admin(conn, self.secret):
            return None
        return AuthCredentials([ADMIN]), SimpleUser(ADMIN)


def middleware(secret: str) -> Middleware:
    # Inside the Starlette app: the pixels, answered in front of it, never pay for it.
    return Middleware(AuthenticationMiddleware, backend=AdminBackend(secret))


def signed_in(conn: HTTPConnection) -> bool:
    return ADMIN in conn.auth.scopes


def unauthorized(request: Request, exc: Exception) -> Response:
    """The answer to `requires(ADMIN, status_code=401)` for machines, e.g. a scraper of
    /metrics (the API answers in JSON, the dashboard sends people to sign in)."""
    return PlainTextResponse("admin secret required\n", 401, headers=CHALLENGE)


def csrf_token(conn: HTTPConnection, secret: str) -> str:
    return sign(secret, "csrf:" + conn.cookies.get(COOKIE, ""))


def valid_csrf(conn: HTTPConnection, secret: str, token: str) -> bool:
    return bool(token) and same(token, csrf_token(conn, secret))


class Failures:
    """Failed sign-ins this minute, so a guessed secret cannot be tried at speed."""

    def __init__(self) -> None:
        self.minute = 0
        self.count = 0

    def add(self, now: float) -> None:
        self.refresh(now)
        self.count += 1

    def too_many(self, now: float) -> bool:
        self.refresh(now)
        return self.count >= MAX_FAILURES

    def refresh(self, now: float) -> None:
        if int(now) // 60 != self.minute:
            self.minute, self.count = int(now) // 60, 0
