"""The admin secret: chosen by the operator, or generated once and kept in a file.

One precedence everywhere, in one process or `serve --workers N`, for `serve` and the CLI:
CONSENTPIXEL_ADMIN_SECRET, then `collector.admin_secret`, then the generated secret kept
in a file only its owner may read (mode 0600). That file is made the first time it is
needed: `collector.admin_secret_file`, else beside a SQLite store (`shop.db` →
`shop.secret`), else beside the config file, else `consentpixel.secret` in the working
directory. Collectors re-read it when it changes, so `consentpixel secret rotate` takes
effect at their next request, and every session signed with the old one ends.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from pathlib import Path

from .config import Config, ConfigError, check_secret

log = logging.getLogger("consentpixel")

VARIABLE = "CONSENTPIXEL_ADMIN_SECRET"
DEFAULT_FILE = "consentpixel.secret"


def chosen(config: Config) -> tuple[str, str]:
    """(secret, where it is set) when someone chose one; the environment's wins."""
    if os.environ.get(VARIABLE):
        return check_secret(os.environ[VARIABLE], VARIABLE), VARIABLE
    if config.admin_secret:
        where = f"collector.admin_secret in {config.path}" if config.path else \
            "collector.admin_secret"
        return check_secret(config.admin_secret, where), where
    return "", ""


def kept_file(config: Config) -> Path | None:
    """Where the generated secret is kept; None for a store in memory (nothing to share)."""
    if config.admin_secret_file:
        path = Path(config.admin_secret_file).expanduser()
        # A relative path in a config file is read from the file's directory.
        return path if path.is_absolute() or not config.path else \
            Path(config.path).parent / path
    if config.db.startswith("sqlite:///"):
        database = config.db.removeprefix("sqlite:///") or "consentpixel.db"
        return None if database == ":memory:" else Path(database).with_suffix(".secret")
    if config.path:
        return Path(config.path).with_suffix(".secret")
    return Path(DEFAULT_FILE)


def generate() -> str:
    return secrets.token_urlsafe(24)  # 32 characters, 192 random bits


def read_kept(path: Path) -> str:
    """The secret in path; FileNotFoundError when there is none yet."""
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{path}: others may read the admin secret (mode "
                          f"{stat.S_IMODE(mode):04o}): chmod 600 {path}")
    return check_secret(path.read_text(encoding="utf-8").strip(), str(path))


def write(path: Path, secret: str, replace: bool) -> None:
    """Write the secret, mode 0600, whole or not at all; without replace, a file another
    process made first stands."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(secret + "\n")
            file.flush()
            os.fsync(file.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass
    except OSError as exc:
        raise ConfigError(f"cannot keep the admin secret in {path}: {exc.strerror or exc} "
                          f"(set collector.admin_secret_file or {VARIABLE})") from None
    finally:
        temporary.unlink(missing_ok=True)


def kept(path: Path) -> str:
    """The kept secret, generated and written the first time."""
    try:
        return read_kept(path)
    except FileNotFoundError:
        write(path, generate(), replace=False)
    except OSError as exc:
        raise ConfigError(f"cannot read the admin secret in {path}: {exc.strerror or exc}"
                          ) from None
    return read_kept(path)


def rotate(config: Config) -> Path:
    """Replace the kept secret with a new one; a chosen secret is changed where it is set."""
    _, where = chosen(config)
    if where:
        raise ConfigError(f"the admin secret is set in {where}: change it there "
                          "(sessions end when it changes)")
    path = kept_file(config)
    if path is None:
        raise ConfigError("a store in memory keeps no admin secret to rotate")
    write(path, generate(), replace=True)
    return path


class AdminSecret:
    """The secret a collector checks, and where it comes from (what `serve` says)."""

    def __init__(self, config: Config) -> None:
        self.value, self.where = chosen(config)
        self.path: Path | None = None
        self.stamp: tuple[int, int, int] | None = None
        if self.value:
            return
        self.path = kept_file(config)
        if self.path is None:
            self.value = generate()
            return
        self.value = kept(self.path)
        self.stamp = stamp_of(self.path)
        self.where = str(self.path.resolve())

    def current(self) -> str:
        """The secret now: a kept one is read again when its file changes (a rotation)."""
        if self.path is None:
            return self.value
        try:
            found = stamp_of(self.path)
            if found != self.stamp:
                self.value, self.stamp = read_kept(self.path), found
        except (OSError, ConfigError) as exc:
            if self.stamp is not None:  # say it once, and keep checking the last one read
                log.warning("consentpixel: cannot read the admin secret, still checking the "
                            "last one read: %s", exc)
            self.stamp = None
        return self.value

    @property
    def described(self) -> str:
        """Where the secret is, for `serve` to say (never the secret itself)."""
        if self.path is not None:
            return f"kept in {self.where}"
        if self.where:
            return f"as configured in {self.where}"
        return "made up for this process only: its store is in memory"


def stamp_of(path: Path) -> tuple[int, int, int]:
    found = path.stat()
    return found.st_ino, found.st_mtime_ns, found.st_size
