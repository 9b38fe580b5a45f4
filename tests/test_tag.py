"""The tag as served: within its size budget, free of eval and inline styles."""

from __future__ import annotations

import gzip
import re

import pytest

from consentpixel import demo
from consentpixel.tag import TagFiles, site_settings, source

CORE_BUDGET = 2000
FIRST_VISIT_BUDGET = 5000


@pytest.fixture(scope="module")
def tag() -> TagFiles:
    return TagFiles()


def size(body: bytes) -> int:
    return len(gzip.compress(body, 9))


def test_the_core_fits_its_budget(tag: TagFiles) -> None:
    assert size(tag.files["t.js"].body) <= CORE_BUDGET
    assert tag.files["t.js"].gzipped == gzip.compress(tag.files["t.js"].body, 9, mtime=0)


def test_a_first_visit_fits_its_budget(tag: TagFiles) -> None:
    total = sum(size(tag.files[name].body) for name in ("t.js", "b.js", "b.css"))
    assert total <= FIRST_VISIT_BUDGET


@pytest.mark.parametrize("name", ["t.js", "b.js", "gcm.js"])
def test_no_eval_and_no_inline_styles(name: str) -> None:
    text = source(name)
    assert not re.search(r"\beval\(|new Function|setTimeout\(['\"]|\.style\b|cssText", text)
    assert "innerHTML" not in text or name == "b.js"  # b.js escapes everything it inserts


def test_the_core_defines_only_its_api_name() -> None:
    text = source("t.js")
    assert re.findall(r"\bw\.(\w+)\s*=", text) == ["cpx"]
    assert text.strip().startswith("/*") and text.rstrip().endswith("})(window, document);")


def test_site_settings_carry_no_secrets_and_the_rules() -> None:
    config = demo.config()
    settings = site_settings(config.sites["demo"])
    assert settings["s"] == "demo" and settings["c"] == ["analytics", "ads"]
    assert [rule[0] for rule in settings["r"]][:2] == [":email", ":ip"]
    assert "gclid" in settings["i"] and "utm_source" in settings["u"]
    assert set(settings["t"]) == {"en", "de", "fr", "es"}
    text = str(settings)
    assert "spring-sale" not in text  # links and other settings stay on the collector


def test_css_minification_keeps_combinators_and_calc() -> None:
    from consentpixel.tag import minify_css

    css = "/* c */\n.a .b ,\n.c :focus-visible { width : calc(100% - 2rem) ;\n color: red; }\n"
    assert minify_css(css) == ".a .b,.c :focus-visible{width:calc(100% - 2rem);color:red}"
