"""Shared fixtures for unit and integration tests."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest
from starlette.testclient import TestClient

from consentpixel import config as config_module
from consentpixel.app import create_app
from consentpixel.config import Config
from consentpixel.store import Store, open_store

from .helpers import ORIGIN


@pytest.fixture
def demo_config(tmp_path: Path) -> Config:
    return config_module.demo(f"sqlite:///{tmp_path / 'store.db'}")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{tmp_path / 'unit.db'}")
    yield opened
    opened.close()


@pytest.fixture
def client(demo_config: Config) -> Iterator[TestClient]:
    with TestClient(create_app(demo_config), base_url=ORIGIN) as test_client:
        yield test_client
