"""The demo's config, and the choice every command makes: a config file, else the demo.

The demo shop's pages are requested through the whole app in test_app.py.
"""

from __future__ import annotations

from pathlib import Path

from consentpixel import demo
from consentpixel.config import COLLECTOR_DEFAULTS


def test_the_demo_accepts_any_loopback_page_and_counts_automation() -> None:
    config = demo.config()
    site = config.sites["demo"]
    assert config.demo and site.count_automation and site.mode == "opt-in"
    for origin in ("http://localhost:5173", "http://127.0.0.1:8000", "http://[::1]:3000",
                   "https://localhost"):
        assert site.allows_origin(origin), origin
    assert not site.allows_origin("http://192.168.1.2:8000")
    assert site.events["pageview"] == "analytics" and site.events["purchase"] == "ads"


def test_the_demo_link_leads_to_the_shop_where_it_runs() -> None:
    config = demo.config("sqlite:///elsewhere.db", "http://127.0.0.1:5001")
    assert config.db == "sqlite:///elsewhere.db"
    assert config.sites["demo"].links["spring-sale"].url == "http://127.0.0.1:5001/demo/"
    assert demo.config().db == COLLECTOR_DEFAULTS["db"]


def test_a_config_file_is_used_with_the_db_given(tmp_path: Path) -> None:
    path = tmp_path / "shop.toml"
    path.write_text('[collector]\ndb = "sqlite:///file.db"\n'
                    '[sites.shop]\norigins = ["https://shop.example"]\n')
    assert demo.config_or_demo(str(path), None).db == "sqlite:///file.db"
    chosen = demo.config_or_demo(str(path), "sqlite:///given.db")
    assert (chosen.db, list(chosen.sites), chosen.demo) == ("sqlite:///given.db", ["shop"],
                                                            False)


def test_without_a_config_file_the_demo_runs() -> None:
    chosen = demo.config_or_demo(None, "sqlite:///given.db", "http://127.0.0.1:5002")
    assert (chosen.db, list(chosen.sites), chosen.demo) == ("sqlite:///given.db", ["demo"],
                                                            True)
    assert chosen.sites["demo"].links["spring-sale"].url == "http://127.0.0.1:5002/demo/"
