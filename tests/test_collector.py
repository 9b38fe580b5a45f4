"""The collector's state: one home, one way in, one admin secret, the workers' config."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from starlette.requests import Request
from starlette.testclient import TestClient

from consentpixel import demo
from consentpixel.app import create_app
from consentpixel.collector import (Collector, collector_of, config_from_environment,
                                    worker_environment)
from consentpixel.config import Config, load
from consentpixel.secret import AdminSecret
from consentpixel.store import open_store

from .helpers import ORIGIN

VARIABLES = ("CONSENTPIXEL_CONFIG", "CONSENTPIXEL_DB", "CONSENTPIXEL_ADMIN_SECRET",
             "CONSENTPIXEL_DEMO_URL")


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


# environment, config file -> the secret the collector checks ("kept": the generated one)
SECRETS = [
    ("from-the-environment", "from-the-config-file", "from-the-environment"),
    (None, "from-the-config-file", "from-the-config-file"),
    (None, "", "kept"),
]


@pytest.mark.parametrize("environment, configured, checked", SECRETS)
def test_the_collector_checks_the_secret_resolved_once(
        demo_config: Config, monkeypatch: pytest.MonkeyPatch, environment: str | None,
        configured: str, checked: str) -> None:
    if environment is not None:
        monkeypatch.setenv("CONSENTPIXEL_ADMIN_SECRET", environment)
    config = replace(demo_config, admin_secret=configured)
    store = open_store(config.db)
    held = Collector(config, store)
    store.close()
    if checked == "kept":
        kept = Path(config.db.removeprefix("sqlite:///")).with_suffix(".secret")
        assert held.admin_secret == kept.read_text().strip()
        assert len(held.admin_secret) >= 32
    else:
        assert held.admin_secret == checked


def test_a_request_finds_the_collector_of_its_app(demo_config: Config) -> None:
    app = create_app(demo_config)
    with TestClient(app, base_url=ORIGIN):
        state = app.app.state.collector  # type: ignore[attr-defined]
        request = Request({"type": "http", "app": app.app,  # type: ignore[attr-defined]
                           "method": "GET", "path": "/", "headers": []})
        assert isinstance(state, Collector)
        assert collector_of(request) is state and state.config is demo_config


def test_a_worker_reads_back_what_serve_handed_it(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "shop.toml"
    path.write_text('[collector]\nadmin_secret = "the-config-files-secret"\n'
                    '[sites.shop]\norigins = ["https://shop.example"]\n')
    served = replace(load(path), db=f"sqlite:///{tmp_path / 'given.db'}")
    variables = worker_environment(served, "http://127.0.0.1:5003")
    assert variables["CONSENTPIXEL_CONFIG"] == str(path.resolve())
    # The secret is not handed over: a worker resolves it as serve did, so a worker and
    # a single process agree on the precedence.
    assert "CONSENTPIXEL_ADMIN_SECRET" not in variables
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    worker = config_from_environment()
    assert (worker.db, list(worker.sites), worker.path) == (served.db, ["shop"],
                                                            str(path.resolve()))
    assert AdminSecret(worker).current() == AdminSecret(served).current() == \
        "the-config-files-secret"
    monkeypatch.setenv("CONSENTPIXEL_ADMIN_SECRET", "from-the-environment")
    assert AdminSecret(worker).current() == "from-the-environment"


def test_a_worker_without_a_config_file_runs_the_demo(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    served = demo.config(f"sqlite:///{tmp_path / 'demo.db'}", "http://127.0.0.1:5004")
    variables = worker_environment(served, "http://127.0.0.1:5004")
    assert "CONSENTPIXEL_CONFIG" not in variables
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    worker = config_from_environment()
    assert worker == served
    assert AdminSecret(worker).current() == AdminSecret(served).current()  # the kept one
