"""The TOML config: what loads, and the one-line errors for what does not."""

from __future__ import annotations

from pathlib import Path

import pytest

from consentpixel import settings
from consentpixel.cli import starter
from consentpixel.config import Config, ConfigError, Site, load, parse

MINIMAL = '[sites.shop]\norigins = ["https://shop.example"]\n'


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "consentpixel.toml"
    path.write_text(text)
    return path


def test_a_minimal_site_gets_the_defaults(tmp_path: Path) -> None:
    config = load(write(tmp_path, MINIMAL))
    site = config.sites["shop"]
    assert config.db == "sqlite:///consentpixel.db"
    assert (site.mode, site.policy_version, site.consent_days, site.count_automation) == (
        "opt-in", 1, 182, False)
    assert list(site.categories) == ["analytics", "ads"]
    assert site.events["pageview"] == "analytics" and site.events["purchase"] == "ads"
    assert site.categories["ads"].label["de"] == "Werbung"
    assert site.gpc_categories == {"ads"}


@pytest.mark.parametrize("setting", settings.COLLECTOR, ids=lambda s: s.name)
def test_the_collectors_defaults_are_the_settings_tables(setting: settings.Setting) -> None:
    assert getattr(Config(sites={}), setting.name) == setting.default


# The site's settings as the dataclass holds them: sets and tuples where the table has lists.
SITE_FIELDS = [setting for setting in settings.SITE if setting.name not in ("origins", "events")]


@pytest.mark.parametrize("setting", SITE_FIELDS, ids=lambda s: s.name)
def test_the_sites_defaults_are_the_settings_tables(setting: settings.Setting) -> None:
    value = getattr(Site(name="shop", origins=()), setting.name)
    if isinstance(setting.default, list):
        assert isinstance(value, (tuple, frozenset)) and value == type(value)(setting.default)
    else:
        assert value == setting.default


def test_a_default_is_written_once_in_the_package() -> None:
    server = Path(settings.__file__).parent
    found = [path.name for path in sorted(server.rglob("*.py"))
             if "sqlite:///consentpixel.db" in path.read_text()]
    assert found == ["settings.py"]


def test_a_sites_default_events_are_the_standard_ones() -> None:
    assert Site(name="shop", origins=()).events == settings.STANDARD_EVENTS


def test_the_starter_file_loads() -> None:
    config = parse(__import__("tomllib").loads(starter()))
    site = config.sites["shop"]
    assert site.links["spring-sale"].campaign == "spring-sale"
    assert site.events["webinar_signup"] == "ads"
    assert site.count_automation is False


def test_custom_categories_and_events(tmp_path: Path) -> None:
    config = load(write(tmp_path, MINIMAL + """
[sites.shop.categories.statistics]
label = { en = "Statistics", de = "Statistik" }
description = "Counts visits."
cookies = ["_pk_*"]
consent_mode = ["analytics_storage"]
[sites.shop.events]
pageview = "statistics"
newsletter = "necessary"
"""))
    site = config.sites["shop"]
    assert list(site.categories) == ["statistics"]
    assert site.events == {"pageview": "statistics", "newsletter": "necessary"}
    assert site.categories["statistics"].cookies == ("_pk_*",)


@pytest.mark.parametrize("text, message", [
    ("[sites.shop]\n", "sites.shop.origins: required"),
    ("", "sites: declare at least one site"),
    (MINIMAL + 'mode = "optin"\n', "sites.shop.mode: must be one of 'opt-in', 'opt-out', not 'optin'"),
    (MINIMAL + "policy_version = \"2\"\n", "sites.shop.policy_version: must be a whole number"),
    (MINIMAL + "policy_version = 0\n", "sites.shop.policy_version: must be 1 or more"),
    (MINIMAL + "count_automation = 1\n", "sites.shop.count_automation: must be true or false"),
    (MINIMAL + "colour = 1\n", "sites.shop.colour: unknown setting"),
    (MINIMAL + 'currency = "EURO"\n', "sites.shop.currency: 'EURO' is not an ISO 4217"),
    ('[sites.shop]\norigins = ["shop.example"]\n', "sites.shop.origins: 'shop.example' is not an origin"),
    (MINIMAL + '[sites.shop.events]\nbuy = "marketing"\n', "sites.shop.events.buy: 'marketing' is not a category"),
    (MINIMAL + '[sites.shop.events]\n"Buy Now" = "ads"\n', "sites.shop.events.Buy Now: event names use"),
    (MINIMAL + 'exempt_events = ["nothing"]\n', "sites.shop.exempt_events: 'nothing' is not one of"),
    (MINIMAL + '[sites.shop.categories.necessary]\nlabel = "x"\n', "sites.shop.categories.necessary: names use"),
    (MINIMAL + '[sites.shop.categories.custom]\n', "sites.shop.categories.custom.label: required"),
    (MINIMAL + '[sites.shop.categories.ads]\nconsent_mode = ["ads"]\n', "'ads' is not a Consent Mode type"),
    (MINIMAL + '[sites.shop.categories.ads]\ncookies = ["a b"]\n', "is not a cookie name"),
    (MINIMAL + '[sites.shop.links.x]\nurl = "https://evil.example/"\n', "sites.shop.links.x.url: 'https://evil.example/' is not on one of the site's origins"),
    (MINIMAL + '[sites.shop.links.x]\nurl = "javascript:alert(1)"\n', "sites.shop.links.x.url"),
    (MINIMAL + '[sites.shop.text.english]\ntitle = "x"\n', "sites.shop.text.english: use a language code"),
    (MINIMAL + '[collector]\ndb = "mysql://x"\n', "collector.db: use sqlite:///path or postgresql://"),
    (MINIMAL + '[collector]\nflush_interval = 0\n', "collector.flush_interval: must be more than 0"),
    (MINIMAL + '[collector]\nforwarded_allow_ips = ["nginx"]\n', "collector.forwarded_allow_ips: 'nginx' is not an address or network"),
    (MINIMAL + '[collector]\nforwarded_allow_ips = "127.0.0.1"\n', "collector.forwarded_allow_ips: must be a list of strings"),
    (MINIMAL + '[collector]\nforwarded_header = "x-real-ip"\n', "collector.forwarded_header: must be one of 'x-forwarded-for', 'forwarded'"),
    (MINIMAL + '[collector]\npublic_url = "https://collect.example/cpx"\n', "collector.public_url: 'https://collect.example/cpx' is not a URL like"),
    (MINIMAL + '[collector]\npublic_url = "collect.example"\n', "collector.public_url: 'collect.example' is not a URL like"),
    (MINIMAL + '[collector]\nforwarded_allow_ip = ["127.0.0.1"]\n', "collector.forwarded_allow_ip: unknown setting"),
    (MINIMAL + '[collector]\nmax_connections = 0\n', "collector.max_connections: must be 1 or more"),
    (MINIMAL + '[collector]\nmax_orders_per_hour = 0\n', "collector.max_orders_per_hour: must be 1 or more"),
    ("[sites.shop\n", "not valid TOML"),
])
def test_errors_name_the_key_and_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as error:
        load(path)
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_a_missing_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="consentpixel init"):
        load(tmp_path / "absent.toml")


def test_network_settings_load(tmp_path: Path) -> None:
    config = load(write(tmp_path, MINIMAL + '[collector]\npublic_url = "https://collect.example:8443/"\n'
                                 'forwarded_allow_ips = ["127.0.0.1", "10.0.0.0/8", "::1", "*"]\n'))
    assert config.public_url == "https://collect.example:8443"
    assert config.forwarded_allow_ips == ["127.0.0.1", "10.0.0.0/8", "::1", "*"]
