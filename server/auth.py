"""Admin access: the dashboard, the JSON API and /metrics require the admin secret.

Machines send it as `Authorization: Bearer SECRET`; people sign in once with it and get a
session cookie (HttpOnly, SameSite=Strict) holding a random ID that the store knows
(sessions.py). Either gives a request the "admin" scope: AdminBackend, run by
Starlette's AuthenticationMiddleware inside the app, checks them once, and every admin
endpoint asks for the scope with `requires(ADMIN, ...)`. Forms carry a CSRF token
derived from the session. Wrong secrets are counted per client (Failures): past the
limit, that client is answered 429 with Retry-After, without its guess being checked.
Nothing else on the collector needs a secret.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from typing import Callable

from starlette.authentication import (AuthCredentials, AuthenticationBackend,
                                      AuthenticationError, BaseUser, SimpleUser)
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from .proxies import client_key
from .sessions import Sessions
from .store import StoreError

ADMIN = "admin"  # the scope the secret gives
COOKIE = "cpx_admin"
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="consentpixel"', "Cache-Control": "no-store"}
WINDOW = 60  # seconds over which a client's failed attempts are counted
MAX_CLIENTS = 10_000  # clients with failures remembered at once
clock = time.time  # what failed attempts are timed by; tests hold it still


def same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def sign(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def bearer(conn: HTTPConnection) -> str:
    scheme, _, token = conn.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def client_of(conn: HTTPConnection) -> str:
    """Whom failures are counted against: the client as the rate limit counts it."""
    return client_key(conn.client.host if conn.client else "")


class Failures:
    """Wrong secrets per client over a minute, so a secret cannot be guessed at speed.

    Per client, so that nobody's failures lock out anybody else: the right secret from a
    client that has not failed is always checked. Per process, since no client address
    is ever written down: `serve --workers N` allows N times as many guesses.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.clients: dict[str, tuple[float, int]] = {}  # client -> (window start, count)

    def retry_after(self, client: str, now: float) -> int:
        """Seconds before the client may try again; 0 when it may now."""
        entry = self.clients.get(client)
        if entry is None:
            return 0
        start, count = entry
        if now >= start + WINDOW:
            del self.clients[client]
            return 0
        return max(1, math.ceil(start + WINDOW - now)) if count >= self.limit else 0

    def add(self, client: str, now: float) -> None:
        start, count = self.clients.get(client, (now, 0))
        if now >= start + WINDOW:
            start, count = now, 0
        if client not in self.clients and len(self.clients) >= MAX_CLIENTS:
            self.forget(now)
        self.clients[client] = (start, count + 1)

    def clear(self, client: str) -> None:
        self.clients.pop(client, None)

    def forget(self, now: float) -> None:
        """Make room: clients whose minute is over, else the longest known."""
        for client in [c for c, (start, _) in self.clients.items() if now >= start + WINDOW]:
            del self.clients[client]
        if len(self.clients) >= MAX_CLIENTS:
            del self.clients[next(iter(self.clients))]


class TooManyFailures(AuthenticationError):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many wrong admin secrets from this client: "
                         f"try again in {retry_after} s")
        self.retry_after = retry_after


class AdminBackend(AuthenticationBackend):
    """The admin scope for a request that carries the secret or a live session."""

    def __init__(self, secret: Callable[[], str], sessions: Sessions,
                 failures: Failures) -> None:
        self.secret = secret
        self.sessions = sessions
        self.failures = failures

    async def authenticate(self, conn: HTTPConnection
                           ) -> tuple[AuthCredentials, BaseUser] | None:
        token = bearer(conn)
        if token:  # a wrong token is never rescued by a cookie
            return admitted() if self.check_token(conn, token) else None
        session = conn.cookies.get(COOKIE, "")
        if session and await self.alive(session):
            return admitted()
        return None

    def check_token(self, conn: HTTPConnection, token: str) -> bool:
        client, now = client_of(conn), clock()
        wait = self.failures.retry_after(client, now)
        if wait:
            raise TooManyFailures(wait)
        if not same(token, self.secret()):
            self.failures.add(client, now)
            return False
        self.failures.clear(client)
        return True

    async def alive(self, session: str) -> bool:
        try:
            return await run_in_threadpool(self.sessions.alive, session)
        except StoreError:
            return False  # a session cannot be vouched for: sign in, or use the token


def admitted() -> tuple[AuthCredentials, BaseUser]:
    return AuthCredentials([ADMIN]), SimpleUser(ADMIN)


def middleware(secret: Callable[[], str], sessions: Sessions, failures: Failures
               ) -> Middleware:
    # Inside the Starlette app: the pixels, answered in front of it, never pay for it.
    return Middleware(AuthenticationMiddleware, backend=AdminBackend(secret, sessions, failures),
                      on_error=refused)


def refused(conn: HTTPConnection, exc: AuthenticationError) -> Response:
    """429 for a client past its failures, in the API's JSON under /api/, else text."""
    wait = exc.retry_after if isinstance(exc, TooManyFailures) else WINDOW
    headers = {"Retry-After": str(wait), "Cache-Control": "no-store"}
    if conn.url.path.startswith("/api/"):
        return JSONResponse({"error": str(exc)}, 429, headers=headers)
    return PlainTextResponse(f"{exc}\n", 429, headers=headers)


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
