"""Shared fixtures for unit and integration tests.

PostgreSQL tests use the server at CONSENTPIXEL_TEST_POSTGRES (default: the local
cluster over its unix socket, as the current user) and a fresh database per test. They
are skipped when it cannot be reached, unless CONSENTPIXEL_REQUIRE_POSTGRES=1 (CI),
which makes them fail instead.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit

import pytest
from hypothesis import settings
from starlette.testclient import TestClient

from consentpixel import demo
from consentpixel.app import create_app
from consentpixel.config import Config
from consentpixel.store import Store, open_store

from .helpers import ORIGIN

POSTGRES = os.environ.get("CONSENTPIXEL_TEST_POSTGRES",
                          "postgresql:///postgres?host=/var/run/postgresql")
REQUIRE_POSTGRES = os.environ.get("CONSENTPIXEL_REQUIRE_POSTGRES") == "1"
DATABASES = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]

# Properties are about answers, not speed: on a busy two-core CI machine one example may
# take longer than Hypothesis's default 200 ms. Speed is measured by bench/, not here.
settings.register_profile("suite", deadline=None)
settings.load_profile("suite")


@pytest.fixture
def demo_config(tmp_path: Path) -> Config:
    return demo.config(f"sqlite:///{tmp_path / 'store.db'}")


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The URL of a database on a running PostgreSQL server we may create databases on."""
    try:
        import psycopg

        psycopg.connect(POSTGRES, connect_timeout=3).close()
    except Exception as exc:  # psycopg missing, server down, no role: one message
        reason = " ".join(str(exc).split()) or type(exc).__name__
        message = (f"PostgreSQL is not reachable at {POSTGRES}: {reason}; "
                   "start it with .ci/postgres or point CONSENTPIXEL_TEST_POSTGRES at one")
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)
    return POSTGRES


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database, dropped after the test."""
    import psycopg
    from psycopg import sql

    name = f"consentpixel_test_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield with_database(postgres_server, name)
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))


def with_database(url: str, name: str) -> str:
    # urlunsplit would drop the empty host of postgresql:///db?host=/socket/dir
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/{name}" + (f"?{parts.query}" if parts.query else "")


@pytest.fixture(params=DATABASES)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL for each store: a SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'unit.db'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(database: str) -> Iterator[Store]:
    opened = open_store(database)
    yield opened
    opened.close()


@pytest.fixture
def private_postgres() -> Iterator[Any]:
    """A PostgreSQL server of the test's own, which it may stop and start."""
    from .servers import PrivatePostgres

    try:
        server = PrivatePostgres()
    except (FileNotFoundError, AssertionError) as exc:
        message = f"cannot run a private PostgreSQL server: {' '.join(str(exc).split())}"
        if REQUIRE_POSTGRES:
            pytest.fail(message)
        pytest.skip(message)
    yield server
    server.close()


@pytest.fixture
def client(demo_config: Config) -> Iterator[TestClient]:
    with TestClient(create_app(demo_config), base_url=ORIGIN) as test_client:
        yield test_client
