"""The consentpixel command, run as a user runs it."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from consentpixel.buffer import Batch, Cell
from consentpixel.store import open_store

T0 = int(time.time()) // 3600 * 3600


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "consentpixel", *args], capture_output=True,
                          text=True, timeout=60, cwd=cwd,
                          env={**os.environ, **env} if env else None)


@pytest.fixture
def filled(tmp_path: Path) -> str:
    """A store with a few days of demo counts."""
    db = f"sqlite:///{tmp_path / 'filled.db'}"
    store = open_store(db)
    cells = {}
    for day in range(3):
        period = T0 - day * 86400
        cells[Cell(site="demo", period=period, event="pageview", path="/", source="direct",
                   medium="(none)", device="desktop")] = [10 + day, 0]
        cells[Cell(site="demo", period=period, event="purchase", path="/thanks",
                   source="newsletter", medium="email", campaign="spring", device="mobile",
                   currency="EUR")] = [2, 9980]
    store.write(Batch(cells=cells))
    store.close()
    return db


def test_report_table(filled: str) -> None:
    done = run("report", "--site", "demo", "--db", filled)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["event", "count", "value", "currency"]
    assert lines[2].split() == ["pageview", "33", "0", ""][:3]
    assert lines[3].split() == ["purchase", "6", "299.40", "EUR"]


def test_report_json_rows(filled: str) -> None:
    done = run("report", "--site", "demo", "--db", filled, "--by", "day", "--by", "campaign",
               "--format", "json")
    rows = json.loads(done.stdout)
    purchases = [row for row in rows if row["event"] == "purchase"]
    assert len(purchases) == 3
    assert set(purchases[0]) == {"day", "campaign", "event", "count", "value", "currency"}
    assert purchases[0]["campaign"] == "spring" and purchases[0]["value"] == 99.8


@pytest.mark.parametrize("by", ["event", "day", "path", "source", "campaign"])
def test_report_csv_for_every_grouping(filled: str, by: str) -> None:
    done = run("report", "--site", "demo", "--db", filled, "--by", by, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert rows and {"event", "count", "value", "currency", by} <= set(rows[0])
    assert sum(int(row["count"]) for row in rows) == 39


def test_report_date_range(filled: str) -> None:
    today = time.strftime("%Y-%m-%d", time.gmtime(T0))
    done = run("report", "--site", "demo", "--db", filled, "--from", today, "--to", today,
               "--format", "json")
    assert {row["event"]: row["count"] for row in json.loads(done.stdout)} == {
        "pageview": 10, "purchase": 2}


@pytest.mark.parametrize("args, message", [
    (["report", "--site", "nope"], "no site 'nope'"),
    (["report", "--site", "demo", "--from", "yesterday"], "'yesterday' is not a day"),
    (["report", "--site", "demo", "--days", "0"], "--days must be 1 or more"),
    (["serve", "--config", "/nonexistent.toml"], "no such file"),
    (["report", "--site", "demo", "--db", "mysql://x"], "use sqlite:///path"),
    (["secret", "rotate", "--db", "sqlite:///:memory:"], "a store in memory keeps no admin"),
    (["secret", "spin"], "invalid choice: 'spin' (choose from 'rotate')"),
])
def test_errors_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    done = run(*args, cwd=tmp_path)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) <= 3


def test_init_writes_a_starter_that_check_accepts(tmp_path: Path) -> None:
    done = run("init", cwd=tmp_path)
    assert done.returncode == 0 and "consentpixel serve --config" in done.stdout
    assert run("check", "consentpixel.toml", cwd=tmp_path).stdout.startswith(
        "consentpixel.toml: ok")
    again = run("init", cwd=tmp_path)
    assert again.returncode == 2 and "--force" in again.stderr
    assert run("init", "--force", cwd=tmp_path).returncode == 0


def test_a_bad_config_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text('[sites.shop]\norigins = ["https://x.example"]\n'
                                       'mode = "sometimes"\n')
    done = run("check", "bad.toml", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == ("consentpixel: bad.toml: sites.shop.mode: must be one of "
                                   "'opt-in', 'opt-out', not 'sometimes'")


def test_help_and_version() -> None:
    assert "serve" in run("--help").stdout
    assert run("--version").stdout.startswith("consentpixel ")


def test_python_dash_m_and_the_script_are_the_same_command() -> None:
    script = Path(sys.executable).parent / "consentpixel"
    assert subprocess.run([str(script), "--version"], capture_output=True, text=True
                          ).stdout == run("--version").stdout


# (arguments, environment, exit status, the one line on stderr); run in an empty directory
MISTAKES = [
    (["serve", "--port", "99999"], {}, 2,
     "consentpixel serve: argument --port: '99999' is not a port from 0 to 65535 "
     "(see consentpixel serve --help)"),
    (["serve"], {"CONSENTPIXEL_PORT": "abc"}, 2,
     "consentpixel: CONSENTPIXEL_PORT: 'abc' is not a port from 0 to 65535"),
    (["serve", "--port", "0", "--db", "sqlite:////nonexistent/dir/x.db"], {}, 2,
     "consentpixel: /nonexistent/dir/x.db: the directory /nonexistent/dir does not exist; "
     "create it first"),
    (["serve", "--port", "0", "--db", "sqlite:///{tmp}/file/x.db"], {}, 2,
     "consentpixel: {tmp}/file/x.db: {tmp}/file is not a directory"),
    (["report", "--site", "demo"], {}, 2,
     "consentpixel: no database at {tmp}/consentpixel.db: `consentpixel serve` creates it; "
     "name another with --config or --db (no --config, CONSENTPIXEL_CONFIG or "
     "./consentpixel.toml: this is the demo site's store)"),
    (["report", "--drops", "--db", "sqlite:///{tmp}/typo.db"], {}, 2,
     "consentpixel: no database at {tmp}/typo.db: `consentpixel serve` creates it; "
     "name another with --config or --db (no --config, CONSENTPIXEL_CONFIG or "
     "./consentpixel.toml: this is the demo site's store)"),
    (["cost", "--site", "demo", "--day", "2026-03-01", "--amount", "5", "--link",
      "spring-sale"], {"CONSENTPIXEL_DB": "sqlite:///{tmp}/typo.db"}, 2,
     "consentpixel: no database at {tmp}/typo.db: `consentpixel serve` creates it; "
     "name another with --config or --db (no --config, CONSENTPIXEL_CONFIG or "
     "./consentpixel.toml: this is the demo site's store)"),
    (["report", "--site", "demo", "--db", "postgresql://nobody@127.0.0.1:1/x"], {}, 1,
     "consentpixel: postgresql://nobody@127.0.0.1:1/x: connection failed: connection to "
     'server at "127.0.0.1", port 1 failed: Connection refused'),
]


@pytest.mark.parametrize("args, env, status, line", MISTAKES,
                         ids=[" ".join(m[0][:3]) + str(m[1]) for m in MISTAKES])
def test_mistakes_are_one_line_and_create_nothing(tmp_path: Path, args: list[str],
                                                  env: dict[str, str], status: int,
                                                  line: str) -> None:
    (tmp_path / "file").write_text("not a directory")
    fill = {"{tmp}": str(tmp_path)}
    args = [fill.get(arg, arg).replace("{tmp}", str(tmp_path)) for arg in args]
    env = {key: value.replace("{tmp}", str(tmp_path)) for key, value in env.items()}
    done = run(*args, cwd=tmp_path, env=env)
    assert (done.returncode, done.stderr.strip()) == (status, line.replace("{tmp}",
                                                                           str(tmp_path)))
    assert sorted(path.name for path in tmp_path.iterdir()) == ["file"]
    assert not Path("/nonexistent").exists()


def test_reading_finds_the_config_as_serve_does(filled: str, tmp_path: Path) -> None:
    config = f'[collector]\ndb = "{filled}"\n\n[sites.demo]\norigins = ["https://x.example"]\n'
    (tmp_path / "consentpixel.toml").write_text(config)
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "mine.toml").write_text(config)
    found = {
        "./consentpixel.toml": run("report", "--site", "demo", cwd=tmp_path),
        "CONSENTPIXEL_CONFIG": run("report", "--site", "demo", cwd=tmp_path.parent, env={
            "CONSENTPIXEL_CONFIG": str(tmp_path / "consentpixel.toml")}),
        "--config": run("report", "--site", "demo", "--config", "elsewhere/mine.toml",
                        cwd=tmp_path),
    }
    for where, done in found.items():
        assert done.returncode == 0, (where, done.stderr)
        assert done.stdout.splitlines()[3].split() == ["purchase", "6", "299.40", "EUR"], where
