"""The tag's build: jsmin, names shortened by calmjs.parse, the settings' keys and the
shared properties from tagkeys.py, rcssmin; once per process."""

from __future__ import annotations

import re

import pytest

from consentpixel import minify, tagkeys
from consentpixel.tag import source

TAG_SOURCES = ["t.js", "b.js", "a.js", "h.js"]


@pytest.mark.parametrize("name", TAG_SOURCES)
def test_the_readable_names_do_not_reach_the_wire(name: str) -> None:
    text = source(name)
    built = minify.minify_js(text, shared_names=True)
    assert len(built) < len(text) / 2 and "/*" not in built and "//" not in built.replace("://", "")
    reads = set(re.findall(r"\bsettings\.(\w+)", text))
    assert reads and reads <= set(tagkeys.SETTINGS)
    for long in list(reads) + [n for n in tagkeys.SHARED if f".{n}" in text]:
        assert not re.search(rf"\.{long}\b", built), long
    assert "settings" not in built and "function (" not in built


def test_a_settings_read_the_table_lacks_stops_the_build() -> None:
    with pytest.raises(minify.BuildError, match="settings.colour"):
        minify.minify_js("(function (core) { return core.settings.colour; })(x);", True)


def test_neighbouring_declarations_share_one_var() -> None:
    built = minify.minify_js("(function () { var a = 1; var b = [a]; return b; })();")
    assert built.count("var ") == 1


def test_functions_of_one_shape_print_alike() -> None:
    # Names are handed out in the order they are declared, parameters first, however
    # often each is used.
    built = minify.minify_js(
        "(function () { window.sum = function (first, second) { var total = first + second;"
        " return total; }; window.cube = function (left, right) { var result = right * right"
        " * right; return result + result + left; }; })();")
    shapes = re.findall(r"function\((\w),(\w)\)\{var (\w)=", built)
    assert len(shapes) == 2 and shapes[0] == shapes[1] and len(set(shapes[0])) == 3


def test_names_are_made_of_the_letters_used_most() -> None:
    letters = minify.letters_by_use("xxx yy z; xyz")
    assert letters.startswith("xyza") and sorted(letters) == sorted(minify.ID_CHARS)


def test_other_scripts_keep_their_property_names() -> None:
    built = minify.minify_js("(function (settings) { return settings.map.gpc; })(x);")
    assert "settings" not in built and ".map.gpc" in built


def test_each_file_is_built_once_per_process() -> None:
    text = source("b.js")
    first = minify.minify_js(text, shared_names=True)
    assert minify.minify_js(text, shared_names=True) is first


def test_css_keeps_combinators_and_calc() -> None:
    css = "/* c */\n.a .b ,\n.c :focus-visible { width : calc(100% - 2rem) ;\n color: red; }\n"
    assert minify.minify_css(css) == ".a .b,.c :focus-visible{width:calc(100% - 2rem);color:red}"


@pytest.mark.parametrize("source, built", [
    ("if (a) { b(); } else { c(); }", "if(a)b();else c()"),
    ("for (;;) { d(); }", "for(;;)d()"),
    # the inner if would take the else: its braces stay
    ("if (a) { if (b) c(); } else { d(); }", "if(a){if(b)c()}else d()"),
    ("if (a) { b(); c(); }", "if(a){b();c()}"),
])
def test_single_statements_lose_their_braces_where_the_meaning_stays(source: str,
                                                                     built: str) -> None:
    assert minify.minify_js(source) == built
