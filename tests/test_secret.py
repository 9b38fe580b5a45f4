"""The admin secret: one precedence, at least 16 characters, generated once and kept."""

from __future__ import annotations

import os
import stat
from dataclasses import replace
from pathlib import Path

import pytest

from consentpixel import demo, secret
from consentpixel.config import Config, ConfigError, load
from consentpixel.secret import AdminSecret

ENVIRONMENT = "from-the-environment"
CONFIGURED = "from-the-config-file"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(secret.VARIABLE, raising=False)


def kept_beside(config: Config) -> Path:
    return Path(config.db.removeprefix("sqlite:///")).with_suffix(".secret")


# environment, config file -> the secret checked ("kept": the generated one)
SECRETS = [
    (ENVIRONMENT, CONFIGURED, ENVIRONMENT),
    (ENVIRONMENT, "", ENVIRONMENT),
    (None, CONFIGURED, CONFIGURED),
    ("", CONFIGURED, CONFIGURED),
    (None, "", "kept"),
    ("", "", "kept"),
]


@pytest.mark.parametrize("environment, configured, checked", SECRETS)
def test_the_environment_wins_then_the_config_then_the_kept_one(
        demo_config: Config, monkeypatch: pytest.MonkeyPatch, environment: str | None,
        configured: str, checked: str) -> None:
    if environment is not None:
        monkeypatch.setenv(secret.VARIABLE, environment)
    config = replace(demo_config, admin_secret=configured)
    resolved = AdminSecret(config)
    if checked == "kept":
        assert resolved.current() == kept_beside(config).read_text().strip()
        assert resolved.described == f"kept in {kept_beside(config).resolve()}"
    else:
        assert resolved.current() == checked
        assert not kept_beside(config).exists()  # nothing generated when one is chosen
        assert resolved.described.startswith("as configured in ")
        assert checked not in resolved.described


def test_the_generated_secret_is_made_once_for_the_owner_only(demo_config: Config) -> None:
    first = AdminSecret(demo_config).current()
    path = kept_beside(demo_config)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32
    assert AdminSecret(demo_config).current() == first  # a restart, another worker
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []


def test_a_rotation_reaches_a_running_collector(demo_config: Config) -> None:
    running = AdminSecret(demo_config)
    old = running.current()
    path = secret.rotate(demo_config)
    assert path == kept_beside(demo_config)
    new = path.read_text().strip()
    assert new != old and running.current() == new
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_chosen_secret_is_rotated_where_it_is_set(demo_config: Config,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="set in collector.admin_secret: change it there"):
        secret.rotate(replace(demo_config, admin_secret=CONFIGURED))
    monkeypatch.setenv(secret.VARIABLE, ENVIRONMENT)
    with pytest.raises(ConfigError, match=f"set in {secret.VARIABLE}: change it there"):
        secret.rotate(demo_config)


def test_two_processes_starting_at_once_keep_one_secret(tmp_path: Path) -> None:
    path = tmp_path / "shop.secret"
    secret.write(path, "the-first-one-written-stands", replace=False)
    secret.write(path, "a-second-one-comes-too-late", replace=False)
    assert secret.kept(path) == "the-first-one-written-stands"


# the secret -> the one-line error, wherever it is set
WEAK = [
    ("a", "the admin secret needs at least 16 characters, not 1"),
    ("fifteen-chars!!", "the admin secret needs at least 16 characters, not 15"),
]


@pytest.mark.parametrize("weak, message", WEAK)
def test_weak_secrets_are_refused_everywhere(tmp_path: Path, demo_config: Config,
                                             monkeypatch: pytest.MonkeyPatch, weak: str,
                                             message: str) -> None:
    path = tmp_path / "shop.toml"
    path.write_text(f'[collector]\nadmin_secret = "{weak}"\n'
                    '[sites.shop]\norigins = ["https://shop.example"]\n')
    with pytest.raises(ConfigError, match=f"collector.admin_secret: {message}"):
        load(path)
    kept = kept_beside(demo_config)
    secret.write(kept, weak, replace=False)
    with pytest.raises(ConfigError, match=f"{kept}: {message}"):
        AdminSecret(demo_config)
    monkeypatch.setenv(secret.VARIABLE, weak)
    with pytest.raises(ConfigError, match=f"{secret.VARIABLE}: {message}"):
        AdminSecret(demo_config)


def test_a_kept_secret_others_may_read_is_refused(demo_config: Config) -> None:
    AdminSecret(demo_config)
    path = kept_beside(demo_config)
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match=f"others may read the admin secret \\(mode 0644\\): "
                                          f"chmod 600 {path}"):
        AdminSecret(demo_config)


def test_an_unwritable_place_is_one_line(tmp_path: Path) -> None:
    config = demo.config(f"sqlite:///{tmp_path / 'missing' / 'shop.db'}")
    with pytest.raises(ConfigError, match="cannot keep the admin secret in .*shop.secret: "
                                          "No such file or directory \\(set collector."
                                          "admin_secret_file or CONSENTPIXEL_ADMIN_SECRET\\)"):
        AdminSecret(config)


# admin_secret_file, database, config file -> where the generated secret is kept
PLACES = [
    ("", "sqlite:///data/shop.db", "/etc/cpx/shop.toml", "data/shop.secret"),
    ("", "sqlite:///data/shop.db", None, "data/shop.secret"),
    ("", "postgresql://db.internal/cpx", "/etc/cpx/shop.toml", "/etc/cpx/shop.secret"),
    ("", "postgresql://db.internal/cpx", None, "consentpixel.secret"),
    ("keys/admin", "postgresql://db.internal/cpx", "/etc/cpx/shop.toml", "/etc/cpx/keys/admin"),
    ("/run/cpx/admin", "sqlite:///data/shop.db", "/etc/cpx/shop.toml", "/run/cpx/admin"),
    ("", "sqlite:///:memory:", None, None),
]


@pytest.mark.parametrize("setting, db, config_path, kept", PLACES)
def test_where_the_generated_secret_is_kept(setting: str, db: str, config_path: str | None,
                                            kept: str | None) -> None:
    config = replace(demo.config(db), admin_secret_file=setting, path=config_path)
    assert secret.kept_file(config) == (Path(kept) if kept else None)
