"""Dashboard sessions: a random ID in the browser's cookie, its digest in the store.

The store is what every worker and every collector process on it shares, so a session
begun on one is good on all, and signing out on one ends it on all. The store holds a
digest of the ID keyed with the admin secret, never the ID: a copy of the store opens
nothing, and a new secret (a rotation) ends every session at once. A session lasts a
fixed time from sign-in (`session_hours`), however active.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from typing import Callable

from .store import Store

ID = re.compile(r"^[A-Za-z0-9_-]{43}$")  # what secrets.token_urlsafe(32) gives


class Sessions:
    def __init__(self, store: Store, secret: Callable[[], str], seconds: int) -> None:
        self.store = store
        self.secret = secret
        self.seconds = seconds

    def digest(self, session: str) -> str:
        return hmac.new(self.secret().encode(), b"session:" + session.encode(),
                        hashlib.sha256).hexdigest()

    def start(self, now: float | None = None) -> str:
        """A new session's ID, for the cookie; two sign-ins never share one."""
        session = secrets.token_urlsafe(32)
        now = time.time() if now is None else now
        self.store.add_session(self.digest(session), int(now) + self.seconds)
        return session

    def alive(self, session: str, now: float | None = None) -> bool:
        if not ID.match(session):  # nothing to look up for what was never an ID
            return False
        return self.store.session_alive(self.digest(session),
                                        time.time() if now is None else now)

    def end(self, session: str) -> None:
        if ID.match(session):
            self.store.end_session(self.digest(session))
