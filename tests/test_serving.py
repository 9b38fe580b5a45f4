"""`consentpixel serve`: real processes on free ports, real HTTP.

The admin secret is resolved once, with the environment winning over the config file,
whether one process serves or uvicorn's workers do.
"""

from __future__ import annotations

import http.client
import re
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from uvicorn.importer import import_from_string

from consentpixel import demo, serving
from consentpixel.secret import VARIABLE as SECRET_VARIABLE, AdminSecret
from consentpixel.store import open_store

from .servers import SECRET, ServeProcess, config_file

CONFIGURED = "the-config-files-secret"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "consentpixel", *args], capture_output=True,
                          text=True, timeout=60)


def start(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[str], str, str]:
    db = f"sqlite:///{tmp_path / 'served.db'}"
    process = subprocess.Popen([sys.executable, "-m", "consentpixel", "serve", "--port", "0",
                                "--db", db, *extra], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    first = process.stdout.readline()
    assert "collecting on" in first, first + process.stdout.read()
    return process, first.split("collecting on ")[1].strip(), db


def finish(process: subprocess.Popen[str]) -> int:
    try:
        return process.wait(timeout=20)
    finally:
        if process.stdout:
            process.stdout.close()


def test_sigterm_writes_every_answered_hit(tmp_path: Path) -> None:
    process, url, db = start(tmp_path)
    answered = 0
    request = urllib.request.Request(f"{url}/p.gif?s=demo&e=pageview&p=%2Fload&a=analytics",
                                     headers={"Referer": url + "/"})
    for _ in range(300):
        with urllib.request.urlopen(request) as response:
            assert response.status == 200
            answered += 1
    process.send_signal(signal.SIGTERM)
    # uvicorn shuts down gracefully, then re-raises the signal for the supervisor's sake.
    assert finish(process) in (0, -signal.SIGTERM)
    store = open_store(db)
    assert store.totals("demo", 0, 2**40, []) == [("pageview", "", answered, 0)]
    store.close()


def test_serve_refuses_a_busy_port(tmp_path: Path) -> None:
    process, url, _ = start(tmp_path)
    try:
        done = run("serve", "--port", url.rsplit(":", 1)[1], "--db",
                   f"sqlite:///{tmp_path / 'other.db'}")
        assert done.returncode == 2 and "cannot listen on" in done.stderr
    finally:
        process.terminate()
        finish(process)


def test_a_busy_port_is_a_serve_error() -> None:
    taken = serving.listen("127.0.0.1", 0)
    try:
        port = taken.getsockname()[1]
        with pytest.raises(serving.ServeError, match=f"cannot listen on 127.0.0.1:{port}: "):
            serving.listen("127.0.0.1", port)
    finally:
        taken.close()


def test_the_workers_run_this_modules_factory() -> None:
    assert import_from_string(serving.FACTORY) is serving.app_from_environment


@pytest.mark.parametrize("host, url", [
    ("127.0.0.1", "http://127.0.0.1:8000"),
    ("0.0.0.0", "http://127.0.0.1:8000"),
    ("::", "http://127.0.0.1:8000"),
    ("::1", "http://[::1]:8000"),
    ("shop.example", "http://shop.example:8000"),
])
def test_the_announced_url(host: str, url: str) -> None:
    assert serving.public_url(host, 8000) == url


def test_where_the_secret_is_is_announced_never_the_secret(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_VARIABLE, raising=False)
    config = demo.config(f"sqlite:///{tmp_path / 'shop.db'}")
    generated = AdminSecret(config)
    serving.announce(config, "http://127.0.0.1:8000", generated)
    made_up = capsys.readouterr().out
    assert ("dashboard  http://127.0.0.1:8000/dashboard  (admin secret: kept in "
            f"{tmp_path / 'shop.secret'})") in made_up
    assert generated.current() not in made_up
    assert "demo shop  http://127.0.0.1:8000/demo/" in made_up
    monkeypatch.setenv(SECRET_VARIABLE, CONFIGURED)
    serving.announce(config, "http://127.0.0.1:8000", AdminSecret(config))
    chosen = capsys.readouterr().out
    assert f"(admin secret: as configured in {SECRET_VARIABLE})" in chosen
    assert CONFIGURED not in chosen


def test_the_store_is_announced_without_its_password(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_VARIABLE, CONFIGURED)
    config = demo.config("postgresql://shop:hunter2-and-more@db.internal/shop")
    serving.announce(config, "http://127.0.0.1:8000", AdminSecret(config))
    said = capsys.readouterr().out
    assert "store      postgresql://shop:***@db.internal/shop" in said
    assert "hunter2" not in said


# -- the admin secret, end to end ---------------------------------------------------------


def metrics(connection: http.client.HTTPConnection, secret: str) -> tuple[int, str]:
    connection.request("GET", "/metrics", headers={"Authorization": f"Bearer {secret}"})
    response = connection.getresponse()
    return response.status, response.read().decode()


def answers_by_worker(collector: ServeProcess, workers: int) -> dict[str, tuple[int, int]]:
    """Per worker process (the pid /metrics reports): the status for the environment's
    secret and, on the same connection and so the same process, for the config's."""
    parts = urlsplit(collector.url)
    found: dict[str, tuple[int, int]] = {}
    deadline = time.monotonic() + 30
    while len(found) < workers and time.monotonic() < deadline:
        connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
        try:
            status, text = metrics(connection, SECRET)
            match = re.search(r'pid="(\d+)"', text)
            assert status == 200 and match, (status, text, collector.log())
            found[match.group(1)] = (status, metrics(connection, CONFIGURED)[0])
        finally:
            connection.close()
    return found


@pytest.mark.parametrize("workers", [1, 2])
def test_the_environments_secret_wins_in_every_process(tmp_path: Path, workers: int) -> None:
    path = config_file(tmp_path, f"sqlite:///{tmp_path / 'secret.db'}",
                       admin_secret=CONFIGURED)
    # ServeProcess runs serve with CONSENTPIXEL_ADMIN_SECRET=SECRET in its environment.
    with ServeProcess("--config", str(path), "--workers", str(workers)) as collector:
        assert "(admin secret: as configured in CONSENTPIXEL_ADMIN_SECRET)" in collector.log()
        answers = answers_by_worker(collector, workers)
        assert collector.get("/api/v1/sites", {"Authorization": f"Bearer {CONFIGURED}"}
                             )[0] == 401
        assert collector.get("/api/v1/sites", {"Authorization": f"Bearer {SECRET}"})[0] == 200
    assert len(answers) == workers, answers
    assert set(answers.values()) == {(200, 401)}
    assert SECRET not in collector.log() and CONFIGURED not in collector.log()


# -- file descriptors ---------------------------------------------------------------------

INFINITY = serving.resource.RLIM_INFINITY


@pytest.mark.parametrize("limits, wanted, raised, fits", [
    ((1024, 524288), 4096, (4160, 524288), 4096),  # raised as far as needed
    ((256, 256), 4096, None, 192),  # the hard limit leaves room for fewer
    ((1024, 2048), 4096, (2048, 2048), 1984),
    ((65536, 65536), 4096, None, 4096),  # already enough
    ((INFINITY, INFINITY), 4096, None, 4096),
])
def test_the_file_limit_is_raised_to_fit_the_connections(
        monkeypatch: pytest.MonkeyPatch, limits: tuple[int, int], wanted: int,
        raised: tuple[int, int] | None, fits: int) -> None:
    calls: list[tuple[int, int]] = []
    monkeypatch.setattr(serving.resource, "getrlimit", lambda kind: limits)
    monkeypatch.setattr(serving.resource, "setrlimit", lambda kind, value: calls.append(value))
    assert serving.fit_file_limit(wanted) == fits
    assert calls == ([raised] if raised else [])


def test_fewer_connections_than_configured_are_announced(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_VARIABLE, CONFIGURED)
    config = demo.config()
    serving.announce(config, "http://127.0.0.1:8000", AdminSecret(config), 192)
    assert "room for 192 connections, not max_connections = 4096" in capsys.readouterr().out
    serving.announce(config, "http://127.0.0.1:8000", AdminSecret(config), 4096)
    assert "warning" not in capsys.readouterr().out


def test_the_tag_and_the_dashboard_are_announced_at_the_public_url(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_VARIABLE, CONFIGURED)
    config = replace(demo.config(), public_url="https://collect.example")
    serving.announce(config, "http://127.0.0.1:8000", AdminSecret(config))
    said = capsys.readouterr().out
    assert "collecting on http://127.0.0.1:8000" in said
    assert '<script async src="https://collect.example/t.js?site=' in said
    assert "dashboard  https://collect.example/dashboard" in said
