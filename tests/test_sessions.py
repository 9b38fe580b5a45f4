"""Dashboard sessions: random IDs, kept as digests in the store every process shares."""

from __future__ import annotations

import pytest

from consentpixel.sessions import Sessions
from consentpixel.store import Store, open_store

SECRET = "the-admin-secret-for-sessions"
HOUR = 3600


@pytest.fixture
def sessions(store: Store) -> Sessions:
    return Sessions(store, lambda: SECRET, HOUR)


def test_two_sign_ins_in_one_second_get_different_sessions(sessions: Sessions) -> None:
    one, two = sessions.start(now=1000), sessions.start(now=1000)
    assert one != two
    assert sessions.alive(one, now=1000) and sessions.alive(two, now=1000)


def test_a_session_lasts_a_fixed_time_however_used(sessions: Sessions) -> None:
    session = sessions.start(now=1000)
    for moment in (1000, 1000 + HOUR // 2, 1000 + HOUR - 1):
        assert sessions.alive(session, now=moment)  # using it does not extend it
    assert not sessions.alive(session, now=1000 + HOUR)


def test_signing_out_ends_it_for_every_process_on_the_store(database: str,
                                                            sessions: Sessions) -> None:
    other = open_store(database)  # another worker, or a collector on another host
    try:
        elsewhere = Sessions(other, lambda: SECRET, HOUR)
        session = sessions.start()
        assert elsewhere.alive(session)
        elsewhere.end(session)
        assert not sessions.alive(session) and not elsewhere.alive(session)
    finally:
        other.close()


def test_a_new_secret_ends_every_session(store: Store) -> None:
    current = [SECRET]
    sessions = Sessions(store, lambda: current[0], HOUR)
    session = sessions.start()
    current[0] = "a-rotated-admin-secret"
    assert not sessions.alive(session)


def test_the_store_holds_digests_only(store: Store, sessions: Sessions) -> None:
    session = sessions.start(now=1000)
    rows = store.fetch("SELECT digest, expires FROM sessions")
    assert rows == [(sessions.digest(session), 1000 + HOUR)]
    assert session not in rows[0][0] and SECRET not in rows[0][0]


@pytest.mark.parametrize("cookie", ["", "short", "9999999999." + "a" * 64, "é" * 43,
                                    "a" * 42 + "/"])
def test_what_was_never_an_id_is_not_looked_up(cookie: str, store: Store) -> None:
    class Untouchable(Store):
        def session_alive(self, digest: str, now: float) -> bool:
            raise AssertionError("looked up")

    assert not Sessions(Untouchable(), lambda: SECRET, HOUR).alive(cookie)


def test_sessions_past_their_time_are_forgotten(store: Store, sessions: Sessions) -> None:
    sessions.start(now=1000)
    kept = sessions.start(now=5000)
    assert store.forget_sessions(now=1000 + HOUR) == 1
    assert sessions.alive(kept, now=5000)
    assert store.end_sessions() == 1
    assert not sessions.alive(kept, now=5000)
