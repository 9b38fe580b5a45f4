"""Load and validate the TOML configuration: the collector and its sites.

Every problem is reported as one ConfigError naming the key, so the CLI can print
one line instead of a traceback.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from . import proxies, settings, texts
from .currencies import MINOR_UNITS
from .privacy import Template, parse_template
from .settings import Setting

NAME = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
SITE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
LINK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
LANG = re.compile(r"^[a-z]{2,3}$")
MIN_SECRET = 16  # characters of an admin secret someone chose
CONSENT_MODE_TYPES = frozenset(
    {"ad_storage", "analytics_storage", "ad_user_data", "ad_personalization",
     "functionality_storage", "personalization_storage", "security_storage"})


class ConfigError(Exception):
    """A problem with the configuration, worded for the person who wrote it."""


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: str  # digits, "" for the scheme's default, or "*" for any
    subdomains: bool = False

    @classmethod
    def parse(cls, text: str) -> Origin:
        match = re.fullmatch(r"(https?)://(\*\.)?([a-z0-9.-]+|\[[0-9a-f:]+\])(?::(\d{1,5}|\*))?/?",
                             text.strip().lower())
        if not match:
            raise ValueError(f"{text!r} is not an origin like https://shop.example")
        scheme, star, host, port = match.groups()
        return cls(scheme, host, port or "", bool(star))

    def matches(self, scheme: str, host: str, port: str) -> bool:
        if scheme != self.scheme:
            return False
        if self.port != "*" and port != self.port:
            return False
        if self.subdomains:  # like CSP: *.shop.example is every subdomain, not the apex
            return host.endswith("." + self.host)
        return host == self.host


LOOPBACK = tuple(Origin(scheme, host, "*") for scheme in ("http", "https")
                 for host in ("localhost", "127.0.0.1", "[::1]"))


@dataclass(frozen=True)
class Category:
    name: str
    label: dict[str, str]
    description: dict[str, str]
    cookies: tuple[str, ...] = ()
    consent_mode: tuple[str, ...] = ()


@dataclass(frozen=True)
class Link:
    id: str
    url: str
    source: str
    medium: str
    campaign: str
    content: str = ""


# The dataclasses' defaults are the settings table's, so they are written down once.
COLLECTOR_DEFAULTS: dict[str, Any] = {setting.name: setting.default
                                      for setting in settings.COLLECTOR}
SITE_DEFAULTS: dict[str, Any] = {setting.name: setting.default for setting in settings.SITE}
THEME_DEFAULTS: dict[str, str] = {setting.name: setting.default for setting in settings.THEME}
# What a theme value may be: it is written into the site's stylesheet as is.
COLOR = re.compile(r"#[0-9a-f]{3,8}|(?:rgb|hsl)a?\([0-9., %/deg]{1,60}\)|[a-z]{3,20}", re.I)
LENGTH = re.compile(r"(?:0|\d{1,3}(?:\.\d{1,3})?(?:px|rem|em|%))")
FONT = re.compile(r"[A-Za-z0-9 ,'\"-]{1,120}")


@dataclass(frozen=True)
class Site:
    name: str
    origins: tuple[Origin, ...]
    mode: str = SITE_DEFAULTS["mode"]
    policy_version: int = SITE_DEFAULTS["policy_version"]
    consent_days: int = SITE_DEFAULTS["consent_days"]
    count_automation: bool = SITE_DEFAULTS["count_automation"]
    currency: str = SITE_DEFAULTS["currency"]
    lookback_days: int = SITE_DEFAULTS["lookback_days"]
    min_count: int = SITE_DEFAULTS["min_count"]
    hourly_days: int = SITE_DEFAULTS["hourly_days"]
    retention_days: int = SITE_DEFAULTS["retention_days"]
    rate_limit: int = SITE_DEFAULTS["rate_limit"]
    gpc_categories: frozenset[str] = frozenset(SITE_DEFAULTS["gpc_categories"])
    # The table's events are added to the standard ones, which a site has by default.
    events: dict[str, str] = field(default_factory=lambda: dict(settings.STANDARD_EVENTS))
    exempt_events: frozenset[str] = frozenset(SITE_DEFAULTS["exempt_events"])
    languages: tuple[str, ...] = tuple(SITE_DEFAULTS["languages"])
    banner: str = SITE_DEFAULTS["banner"]
    consent_tallies: bool = SITE_DEFAULTS["consent_tallies"]
    theme: dict[str, str] = field(default_factory=lambda: dict(THEME_DEFAULTS))
    categories: dict[str, Category] = field(default_factory=dict)
    links: dict[str, Link] = field(default_factory=dict)
    text: dict[str, dict[str, str]] = field(default_factory=dict)
    crowd_clients: int = SITE_DEFAULTS["crowd_clients"]
    crowd_hours: int = SITE_DEFAULTS["crowd_hours"]
    paths: tuple[Template, ...] = ()
    campaigns: tuple[str, ...] = ()

    def allows_origin(self, origin: str) -> bool:
        try:
            parts = urlsplit(origin)
            scheme, host = parts.scheme, (parts.hostname or "")
            port = str(parts.port) if parts.port else ""
        except ValueError:
            return False
        if ":" in host:
            host = f"[{host}]"
        return any(allowed.matches(scheme, host, port) for allowed in self.origins)


@dataclass(frozen=True)
class Config:
    sites: dict[str, Site]
    db: str = COLLECTOR_DEFAULTS["db"]
    admin_secret: str = COLLECTOR_DEFAULTS["admin_secret"]
    flush_interval: float = COLLECTOR_DEFAULTS["flush_interval"]
    max_cells_per_hour: int = COLLECTOR_DEFAULTS["max_cells_per_hour"]
    max_buffer_cells: int = COLLECTOR_DEFAULTS["max_buffer_cells"]
    admin_secret_file: str = COLLECTOR_DEFAULTS["admin_secret_file"]
    admin_max_failures: int = COLLECTOR_DEFAULTS["admin_max_failures"]
    session_hours: int = COLLECTOR_DEFAULTS["session_hours"]
    max_orders_per_hour: int = COLLECTOR_DEFAULTS["max_orders_per_hour"]
    rate_limit_clients: int = COLLECTOR_DEFAULTS["rate_limit_clients"]
    max_connections: int = COLLECTOR_DEFAULTS["max_connections"]
    forwarded_allow_ips: list[str] = field(
        default_factory=lambda: list(COLLECTOR_DEFAULTS["forwarded_allow_ips"]))
    forwarded_header: str = COLLECTOR_DEFAULTS["forwarded_header"]
    public_url: str = COLLECTOR_DEFAULTS["public_url"]
    path: str | None = None
    demo: bool = False  # serve the demo shop under /demo/


def load(path: str | Path) -> Config:
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file (consentpixel init {path} writes a starter)"
                          ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read it: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    try:
        return parse(raw, str(path))
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def parse(raw: dict[str, Any], path: str | None = None) -> Config:
    check_known_keys(raw, {"collector", "sites"}, "")
    collector = require_table(raw.get("collector", {}), "collector")
    # A misspelt key would leave its safe default silently, e.g. no proxy trusted.
    check_known_keys(collector, {s.name for s in settings.COLLECTOR}, "collector")
    values = read(collector, settings.COLLECTOR, "collector")
    sites_raw = require_table(raw.get("sites", {}), "sites")
    if not sites_raw:
        raise ConfigError("sites: declare at least one site, e.g. [sites.shop]")
    sites = {name: parse_site(name, require_table(body, f"sites.{name}"))
             for name, body in sites_raw.items()}
    if not str(values["db"]).startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise ConfigError("collector.db: use sqlite:///path or postgresql://…")
    if values["flush_interval"] <= 0:
        raise ConfigError("collector.flush_interval: must be more than 0")
    if values["admin_secret"]:
        check_secret(values["admin_secret"], "collector.admin_secret")
    for name in ("admin_max_failures", "session_hours"):
        if values[name] < 1:
            raise ConfigError(f"collector.{name}: must be 1 or more")
    parse_network_limits(values)
    return Config(sites=sites, path=path, **values)


def check_secret(secret: str, where: str) -> str:
    """An admin secret someone chose must not be guessable in a few tries."""
    if len(secret) < MIN_SECRET:
        raise ConfigError(f"{where}: the admin secret needs at least {MIN_SECRET} characters, "
                          f"not {len(secret)} (leave it unset and serve generates one)")
    return secret


def parse_network_limits(values: dict[str, Any]) -> None:
    """The collector's connection and proxy settings, checked in place."""
    for key in ("max_orders_per_hour", "rate_limit_clients", "max_connections"):
        if values[key] < 1:
            raise ConfigError(f"collector.{key}: must be 1 or more")
    try:
        proxies.parse_networks(values["forwarded_allow_ips"])
    except ValueError as exc:
        raise ConfigError(f"collector.forwarded_allow_ips: {exc}") from None
    values["public_url"] = parse_public_url(values["public_url"])


def parse_public_url(text: str) -> str:
    """An origin such as https://collect.example, without a trailing slash."""
    if not text:
        return ""
    parts = urlsplit(text)
    try:
        parts.port  # noqa: B018 (it checks the port)
    except ValueError:
        parts = parts._replace(scheme="")
    if parts.scheme not in ("http", "https") or not parts.hostname or \
            parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ConfigError(f"collector.public_url: {text!r} is not a URL like "
                          "https://collect.example (scheme and host, no path)")
    return f"{parts.scheme}://{parts.netloc}"


def parse_site(name: str, raw: dict[str, Any]) -> Site:
    where = f"sites.{name}"
    if not SITE_NAME.match(name):
        raise ConfigError(f"{where}: site names use a-z, 0-9, '_', '-' and '.'")
    check_known_keys(raw, {s.name for s in settings.SITE} | {"categories", "links", "text", "theme"},
                     where)
    values = read(raw, settings.SITE, where)
    if "origins" not in raw:
        raise ConfigError(f"{where}.origins: required: the page origins that may send hits")
    values["origins"] = tuple(parse_origin(o, f"{where}.origins") for o in values["origins"])
    for key in ("policy_version", "consent_days", "lookback_days", "hourly_days",
                "retention_days", "crowd_clients", "crowd_hours"):
        if values[key] < 1:
            raise ConfigError(f"{where}.{key}: must be 1 or more")
    for key in ("min_count", "rate_limit"):
        if values[key] < 0:
            raise ConfigError(f"{where}.{key}: must be 0 or more")
    values["currency"] = parse_currency(values["currency"], f"{where}.currency")
    categories = parse_categories(raw.get("categories"), where)
    values["categories"] = categories
    values["events"] = parse_events(values["events"], categories, where)
    values["exempt_events"] = parse_names(values["exempt_events"], f"{where}.exempt_events",
                                    known=values["events"])
    if "gpc_categories" not in raw:  # the default names ads, which a site may not have
        values["gpc_categories"] = [c for c in values["gpc_categories"] if c in categories]
    values["gpc_categories"] = parse_names(values["gpc_categories"], f"{where}.gpc_categories",
                                     known=categories)
    values["languages"] = tuple(parse_languages(values["languages"], f"{where}.languages"))
    values["links"] = parse_links(raw.get("links", {}), values["origins"], where)
    values["text"] = parse_text(raw.get("text", {}), where)
    values["theme"] = parse_theme(raw.get("theme", {}), f"{where}.theme")
    values["paths"] = parse_templates(values["paths"], f"{where}.paths")
    values["campaigns"] = tuple(values["campaigns"])
    return Site(name=name, **values)


def parse_templates(values: list[str], key: str) -> tuple[Template, ...]:
    try:
        return tuple(parse_template(value) for value in values)
    except ValueError as exc:
        raise ConfigError(f"{key}: {exc}") from None


def parse_theme(raw: Any, where: str) -> dict[str, str]:
    theme = read_table(raw, settings.THEME, where)
    for name, value in theme.items():
        pattern = (LENGTH if name.endswith("radius") else FONT if name == "font" else COLOR)
        if not pattern.fullmatch(value):
            raise ConfigError(f"{where}.{name}: {value!r} is not a CSS "
                              f"{'length' if pattern is LENGTH else name if pattern is FONT else 'color'}")
    return theme


def parse_categories(raw: Any, where: str) -> dict[str, Category]:
    if raw is None:
        raw = {name: {} for name in texts.CATEGORIES}
    raw = require_table(raw, f"{where}.categories")
    if not raw:
        raise ConfigError(f"{where}.categories: declare at least one category")
    categories = {}
    for name, body in raw.items():
        key = f"{where}.categories.{name}"
        if not NAME.match(name) or name == "necessary":
            raise ConfigError(f"{key}: names use a-z, 0-9 and '_' ('necessary' is built in)")
        values = read_table(body, settings.CATEGORY, key)
        builtin: dict[str, Any] = texts.CATEGORIES.get(name, {})
        for text_key in ("label", "description"):
            given = per_language(values[text_key], f"{key}.{text_key}")
            values[text_key] = {**builtin.get(text_key, {}), **given}
        if not values["label"]:
            raise ConfigError(f"{key}.label: required for a custom category")
        for cookie in values["cookies"]:
            if not re.fullmatch(r"[!#$%&'+.^_`|~0-9A-Za-z-]+\*?", cookie):
                raise ConfigError(f"{key}.cookies: {cookie!r} is not a cookie name or prefix*")
        modes = values["consent_mode"] or builtin.get("consent_mode", [])
        for mode in modes:
            if mode not in CONSENT_MODE_TYPES:
                raise ConfigError(f"{key}.consent_mode: {mode!r} is not a Consent Mode type "
                                  f"({', '.join(sorted(CONSENT_MODE_TYPES))})")
        categories[name] = Category(name, values["label"], values["description"],
                                    tuple(values["cookies"]), tuple(modes))
    return categories


def parse_events(raw: Any, categories: dict[str, Category], where: str) -> dict[str, str]:
    # A standard event whose category the site does not declare is off until mapped.
    events = {name: cat for name, cat in settings.STANDARD_EVENTS.items() if cat in categories}
    for name, category in require_table(raw, f"{where}.events").items():
        if not NAME.match(name):
            raise ConfigError(f"{where}.events.{name}: event names use a-z, 0-9 and '_', "
                              "up to 32 characters")
        if category != "necessary" and category not in categories:
            raise ConfigError(f"{where}.events.{name}: {category!r} is not a category "
                              f"of this site ({', '.join(categories)}, necessary)")
        events[name] = category
    return events


def parse_links(raw: Any, origins: tuple[Origin, ...], where: str) -> dict[str, Link]:
    links = {}
    for link_id, body in require_table(raw, f"{where}.links").items():
        key = f"{where}.links.{link_id}"
        if not LINK_ID.match(link_id):
            raise ConfigError(f"{key}: link ids use A-Z, a-z, 0-9, '_' and '-'")
        values = read_table(body, settings.LINK, key)
        url = values["url"]
        parts = urlsplit(url)
        probe = Site(name="probe", origins=origins)
        if parts.scheme not in ("http", "https") or not probe.allows_origin(url):
            raise ConfigError(f"{key}.url: {url!r} is not on one of the site's origins")
        links[link_id] = Link(link_id, **values)
    return links


def parse_text(raw: Any, where: str) -> dict[str, dict[str, str]]:
    result = {}
    for lang, body in require_table(raw, f"{where}.text").items():
        key = f"{where}.text.{lang}"
        if not LANG.match(lang):
            raise ConfigError(f"{key}: use a language code such as en or de")
        result[lang] = {k: v for k, v in read_table(body, settings.TEXT, key).items() if v}
    return result


def read_table(raw: Any, table: tuple[Setting, ...], where: str) -> dict[str, Any]:
    """A nested table whose keys are all settings of table, checked and defaulted."""
    raw = require_table(raw, where)
    check_known_keys(raw, {s.name for s in table}, where)
    return read(raw, table, where)


def read(raw: dict[str, Any], table: tuple[Setting, ...], where: str) -> dict[str, Any]:
    values = {}
    for setting in table:
        value = raw.get(setting.name, setting.default)
        values[setting.name] = checked(value, setting, f"{where}.{setting.name}")
    return values


def checked(value: Any, setting: Setting, key: str) -> Any:
    default = setting.default
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: must be true or false, not {value!r}")
    elif isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: must be a whole number, not {value!r}")
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key}: must be a number, not {value!r}")
        value = float(value)
    elif isinstance(default, list):
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{key}: must be a list of strings, not {value!r}")
    elif isinstance(default, dict):
        if not isinstance(value, dict):
            raise ConfigError(f"{key}: must be a table, not {value!r}")
    elif setting.name in ("label", "description"):
        if not isinstance(value, (str, dict)):
            raise ConfigError(f"{key}: must be a string or a table per language")
    elif not isinstance(value, str):
        raise ConfigError(f"{key}: must be a string, not {value!r}")
    if setting.choices and value not in setting.choices:
        raise ConfigError(f"{key}: must be one of {', '.join(map(repr, setting.choices))}, "
                          f"not {value!r}")
    return value


def require_table(value: Any, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: must be a table, not {value!r}")
    return value


def check_known_keys(raw: dict[str, Any], allowed: set[str], where: str) -> None:
    for key in raw:
        if key not in allowed:
            full = f"{where}.{key}" if where else key
            raise ConfigError(f"{full}: unknown setting (known: {', '.join(sorted(allowed))})")


def parse_origin(text: Any, key: str) -> Origin:
    if not isinstance(text, str):
        raise ConfigError(f"{key}: {text!r} is not a string")
    try:
        return Origin.parse(text)
    except ValueError as exc:
        raise ConfigError(f"{key}: {exc}") from None


def parse_currency(code: str, key: str) -> str:
    if code.upper() not in MINOR_UNITS:
        raise ConfigError(f"{key}: {code!r} is not an ISO 4217 currency code")
    return code.upper()


def parse_names(values: list[str], key: str, known: dict[str, Any]) -> frozenset[str]:
    for value in values:
        if value not in known:
            raise ConfigError(f"{key}: {value!r} is not one of {', '.join(known)}")
    return frozenset(values)


def parse_languages(values: list[str], key: str) -> list[str]:
    if not values:
        raise ConfigError(f"{key}: name at least one language")
    for value in values:
        if not LANG.match(value):
            raise ConfigError(f"{key}: {value!r} is not a language code such as en")
    return values


def per_language(value: str | dict[str, Any], key: str) -> dict[str, str]:
    if isinstance(value, str):
        return {"en": value} if value else {}
    for lang, text in value.items():
        if not LANG.match(lang) or not isinstance(text, str):
            raise ConfigError(f"{key}.{lang}: give a text per language code, e.g. en = \"…\"")
    return dict(value)
