"""The tag as the collector serves it: its byte budgets per visitor, free of eval and
inline styles, the settings under their short keys, the parts a page asks for, and the
warning about a page origin the site does not list."""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from consentpixel import config, demo, tagkeys
from consentpixel.app import create_app
from consentpixel.audit.model import TagSettings
from consentpixel.tag import SETTINGS_TOKEN, TagFiles, language, layout_css, site_settings

# gzip -9 of what the collector serves to each visitor (the files the tag asks for:
# e2e/test_tag_loading.py checks that a browser asks for these and no others), within
# the budgets of the tag's second edition (docs/tag.md, "Sizes"). A page on another
# host than the collector's (the usual case) sends no cookie with the tag's request;
# a page on the collector's host does, and its first visit needs one file.
CORE_BUDGET = 1800
RETURNING_BUDGET = 2500
FIRST_VISIT_BUDGET = 5000
PAGE = "http://localhost:8080/shop.html"
PAGE_ON_THIS_HOST = "http://127.0.0.1:8080/shop.html"
DECIDED = {"Cookie": "cpx=1.1765000000.analytics-ads."}
VISITS = {  # visitor -> [(path, headers)]
    "returning": [("/t.js?site=demo", {})],
    "returning, page on the collector's host": [
        ("/t.js?site=demo", {"Referer": PAGE_ON_THIS_HOST, **DECIDED})],
    "first": [("/t.js?site=demo", {}), ("/p/demo.js?b=en", {})],
    "first, page on the collector's host": [
        ("/t.js?site=demo", {"Referer": PAGE_ON_THIS_HOST})],
}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    store = tmp_path_factory.mktemp("tag") / "store.db"
    with TestClient(create_app(demo.config(f"sqlite:///{store}")),
                    base_url="http://127.0.0.1:8000") as client:
        yield client


def served(client: TestClient, path: str, **headers: str) -> bytes:
    response = client.get(path, headers={"Referer": PAGE, **headers})
    assert response.status_code == 200, path
    return response.content


def size(body: bytes | str) -> int:
    return len(gzip.compress(body.encode() if isinstance(body, str) else body, 9))


def test_the_core_fits_its_budget() -> None:
    # the script as served, without the site's settings that the collector writes in
    core = TagFiles(demo.config().sites).core
    assert SETTINGS_TOKEN in core and size(core.replace(SETTINGS_TOKEN, "")) <= CORE_BUDGET


@pytest.mark.parametrize("visit", VISITS)
def test_each_visit_fits_its_budget(client: TestClient, visit: str) -> None:
    budget = RETURNING_BUDGET if visit.startswith("returning") else FIRST_VISIT_BUDGET
    assert sum(size(served(client, path, **headers)) for path, headers in VISITS[visit]) <= budget


def parts(text: str) -> list[str]:
    """The parts of the tag a script hands over, in order."""
    return list(dict.fromkeys(re.findall(r"cpx\('(_\w+)'", text)))


def settings_in(text: str) -> bool:
    """The tag carries the site's settings, written into the core."""
    settings = TagSettings.from_script(text)
    return settings is not None and settings.site == "demo"


def test_the_tag_brings_the_banner_to_a_first_visit_on_the_collectors_host(
        client: TestClient) -> None:
    first = client.get("/t.js?site=demo", headers={"Referer": PAGE_ON_THIS_HOST})
    assert parts(first.text) == ["_module"] and settings_in(first.text)
    assert first.headers["cache-control"] == "private, max-age=300"
    assert "Cookie" in first.headers["vary"] and "Accept-Language" in first.headers["vary"]
    decided = client.get("/t.js?site=demo", headers={"Referer": PAGE_ON_THIS_HOST, **DECIDED})
    assert parts(decided.text) == [] and settings_in(decided.text)
    elsewhere = client.get("/t.js?site=demo", headers={"Referer": PAGE})  # no cookie can come
    assert parts(elsewhere.text) == [] and settings_in(elsewhere.text)
    assert elsewhere.headers["cache-control"] == "public, max-age=300"
    assert "Cookie" not in elsewhere.headers["vary"]
    # Behind a proxy on the site's own host, the browser says the page is of the same origin.
    proxied = client.get("/t.js?site=demo", headers={"Referer": "https://shop.example/",
                                                      "Sec-Fetch-Site": "same-origin"})
    assert parts(proxied.text) == ["_module"]
    german = client.get("/t.js?site=demo", headers={"Referer": PAGE_ON_THIS_HOST,
                                                     "Accept-Language": "de-DE,de;q=0.9"})
    assert "Alle akzeptieren" in german.text  # the module asks for the page's language


def test_the_tag_as_first_published_loads_the_tag_with_its_site(client: TestClient) -> None:
    shim = served(client, "/t.js").decode()
    assert "t.js?site=" in shim and "data-site" in shim and "cpx" not in shim
    assert size(shim) <= 400


def test_gzip_is_served_at_level_nine(client: TestClient) -> None:
    tag = TagFiles(demo.config().sites)
    core = tag.files["t.js"]
    assert core.gzipped == gzip.compress(core.body, 9, mtime=0)
    response = client.get("/t.js", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"


SCRIPTS = ["/t.js", "/t.js?site=demo", "/h.js", "/w.js", "/p/demo.js?a=1", "/p/demo.js?b=en",
           "/p/demo.js?l=en", "/p/demo.js?h=de", "/s/demo.js?a=1&l=de", "/gcm/demo.js"]


@pytest.mark.parametrize("path", SCRIPTS)
def test_no_eval_and_no_inline_styles(client: TestClient, path: str) -> None:
    text = served(client, path).decode()
    assert not re.search(r"\beval\(|new Function|set(Timeout|Interval)\(['\"]|\.style\b|cssText|"
                         r"setAttribute\(['\"]style|\sstyle=", text)
    assert "__" not in text  # every placeholder filled in


def test_the_core_defines_only_its_api_name() -> None:
    # One IIFE; the only assignment to a name it does not declare is window.cpx.
    text = TagFiles(demo.config().sites).core
    assert text.startswith("(function(") and text.endswith(f"}})(window,document,{SETTINGS_TOKEN})")
    window = re.match(r"\(function\((\w+),", text).group(1)  # type: ignore[union-attr]
    assert set(re.findall(rf"\b{window}\.(\w+)\s*=[^=]", text)) == {"cpx"}


def test_site_settings_carry_their_short_keys_and_no_secrets() -> None:
    site = demo.config().sites["demo"]
    settings = site_settings(site)
    assert set(settings) == set(tagkeys.SETTINGS.values())
    key = tagkeys.short
    assert settings[key("site")] == "demo" and settings[key("categories")] == ["analytics", "ads"]
    assert [rule[0] for rule in settings[key("rules")]][:2] == [":email", ":ip"]
    # the campaign parameters and click IDs come with the attribution, not to every page
    assert "gclid" not in str(settings) and "utm_source" not in str(settings)
    assert settings[key("texts")] is None  # a returning visitor gets no texts
    assert settings[key("layout")] == "bar" and settings[key("tallies")] is True
    assert "spring-sale" not in str(settings)  # links and other settings stay on the collector


def test_the_banner_comes_in_one_language_and_the_gpc_note_only_when_asked() -> None:
    site = demo.config().sites["demo"]
    texts = site_settings(site, "de", gpc=False)[tagkeys.short("texts")]
    banner = texts["banner"]
    assert banner.startswith('<dialog role="dialog"') and banner.endswith("</dialog>")
    assert '<button type="button" data-a="accept">Alle akzeptieren</button>' in banner
    assert texts["lang"] == "de" and 'lang="de" dir="ltr"' in banner
    assert "> <" not in banner and "\n" not in banner  # the first child is the dialog
    assert "Ihr Browser" not in banner and "cpx-gpc" not in banner
    noted = site_settings(site, "de")[tagkeys.short("texts")]["banner"]
    assert '<p class="cpx-gpc">' in noted and "Global-Privacy-Control" in noted
    assert 'dir="rtl"' in site_settings(site, "ar")[tagkeys.short("texts")]["banner"]


def test_a_sites_words_are_escaped_where_the_banner_is_built() -> None:
    shop = config.parse({"sites": {"shop": {
        "origins": ["https://shop.example"],
        "text": {"en": {"title": '<img src=x onerror="alert(1)">', "allow": "<b>Allow</b>"}},
        "categories": {"ads": {"label": {"en": "Ads & <i>offers</i>"}}}}}})
    site = shop.sites["shop"]
    banner = site_settings(site, "en")[tagkeys.short("texts")]["banner"]
    assert "<img" not in banner and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in banner
    assert "<i>" not in banner and "Ads &amp; &lt;i&gt;offers&lt;/i&gt;" in banner
    held = TagFiles(shop.sites).sites["shop"].held("en")
    assert "<b>" not in held and "&lt;b&gt;Allow&lt;/b&gt;" in held
    assert "Ads &amp; &lt;i&gt;offers&lt;/i&gt;" in held and "__WORDS__" not in held


def test_a_tag_cached_before_the_one_file_tag_still_gets_its_settings(
        client: TestClient) -> None:
    # t.js before this version asked /s/SITE.js for the settings, with the parts.
    returning = served(client, "/s/demo.js?").decode()
    assert parts(returning) == ["_config"] and '"m":"opt-in"' in returning
    first = served(client, "/s/demo.js?a=1&l=en").decode()
    assert parts(first) == ["_attribution", "_config", "_module"] and '"rules"' not in first
    assert TagSettings.from_script(first) is not None


@pytest.mark.parametrize("referer", ["http://[::1", "http://[zz]/", "not a url", ""])
def test_a_malformed_referer_gets_the_tag(client: TestClient, referer: str) -> None:
    response = client.get("/t.js?site=demo", headers={"Referer": referer})
    assert response.status_code == 200 and settings_in(response.text)


@pytest.mark.parametrize("wanted, accept_language, chosen", [
    ("de", "", "de"),
    ("de-CH", "fr", "de"),
    ("", "fr-FR,fr;q=0.9,en;q=0.8", "fr"),
    ("ja", "ja-JP, es;q=0.5", "es"),
    ("", "", "en"),            # the site's first language
    ("x<script>", "zz", "en"),
])
def test_the_language_is_the_pages_then_the_browsers(wanted: str, accept_language: str,
                                                     chosen: str) -> None:
    assert language(demo.config().sites["demo"], wanted, accept_language) == chosen


def test_the_tag_carries_the_settings_the_audit_reads(client: TestClient) -> None:
    settings = TagSettings.from_script(served(client, "/t.js?site=demo").decode())
    assert settings is not None and settings.site == "demo" and settings.mode == "opt-in"
    assert settings.categories == ("analytics", "ads") and settings.attribution == "ads"


@pytest.mark.parametrize("path, expected", [
    ("/p/demo.js?a=1", ["_attribution"]),
    ("/p/demo.js?b=en", ["_module"]),
    ("/p/demo.js?a=1&b=fr", ["_attribution", "_module"]),
    ("/p/demo.js?h=en", ["_held"]),
    # as cores before the settings were written into them ask: the banner as their texts
    ("/p/demo.js?l=en", ["_config", "_module"]),
    ("/p/demo.js?a=1&l=fr", ["_attribution", "_config", "_module"]),
])
def test_the_site_script_brings_the_parts_asked_for(client: TestClient, path: str,
                                                    expected: list[str]) -> None:
    text = served(client, path).decode()
    assert parts(text) == expected
    # the banner comes with the module (or joins an earlier core's settings), its styles too
    assert ('data-a=\\"accept\\"' in text and "--cpx-accent" in text) == ("_module" in expected)
    assert '"rules"' not in text and '"r":' not in text
    # the campaign parameters and click IDs the attribution needs come with it
    assert ('"utm_source"' in text and '"gclid"' in text) == ("_attribution" in expected)
    assert "__UTM_PARAMETERS__" not in text and "__CLICK_IDS__" not in text


def test_a_page_origin_the_site_does_not_list_gets_the_warning_uncached(
        client: TestClient) -> None:
    good = client.get("/t.js?site=demo", headers={"Referer": PAGE})
    assert good.headers["cache-control"] == "public, max-age=300"
    assert "Referer" in good.headers["vary"] and "console.warn" not in good.text
    bad = client.get("/t.js?site=demo", headers={"Referer": "https://elsewhere.example/"})
    assert bad.headers["cache-control"] == "no-store"
    assert '["origin","https://elsewhere.example","demo"]' in bad.text
    assert "console.warn" in bad.text and "127.0.0.1" not in bad.text  # the list stays private
    assert TagSettings.from_script(bad.text) is not None
    assert ");(function(" in bad.text  # the warning after the tag, not called on its result


def test_the_stylesheet_carries_the_sites_theme_light_and_dark(tmp_path_factory:
                                                              pytest.TempPathFactory) -> None:
    shop = config.parse({"sites": {"shop": {
        "origins": ["https://shop.example"], "banner": "box",
        "theme": {"accent": "#0a7d32", "dark_accent": "rgb(120, 220, 150)", "radius": "0"}}}})
    store = tmp_path_factory.mktemp("theme") / "store.db"
    with TestClient(create_app(replace(shop, db=f"sqlite:///{store}")),
                    base_url="http://127.0.0.1:8000") as client:
        css = served(client, "/s/shop.css").decode()
        settings = served(client, "/t.js?site=shop").decode()
    light, dark = css.split("@media (prefers-color-scheme:dark)")
    assert "--cpx-accent:#0a7d32" in light and "--cpx-radius:0" in light
    assert "--cpx-accent:rgb(120, 220, 150)" in dark.split("}")[0]
    assert ".cpx-box" in css and ".cpx :focus-visible" in css  # rcssmin keeps combinators
    assert '"b":"box"' in settings


@pytest.mark.parametrize("layout, kept, dropped", [
    ("bar", ".cpx-bar{inset:0}.cpx-cat b{x:1}", ".cpx-box"),
    ("box", ".cpx-box{w:1}.cpx-box{inset:1}.cpx-cat b{x:1}", ".cpx-modal"),
    ("modal", ".cpx-modal{w:1}.cpx-modal::backdrop{b:0}.cpx-cat b{x:1}", ".cpx-bar"),
])
def test_the_stylesheet_keeps_only_the_sites_layout(layout: str, kept: str, dropped: str) -> None:
    css = (".cpx-bar{inset:0}.cpx-box,.cpx-modal{w:1}.cpx-box{inset:1}"
           ".cpx-modal::backdrop{b:0}.cpx-cat b{x:1}")
    assert layout_css(css, layout) == kept and dropped not in kept


def test_a_sites_stylesheet_carries_its_layout_alone(client: TestClient) -> None:
    css = served(client, "/s/demo.css").decode()  # the demo's banner is a bar
    assert ".cpx-bar{" in css and ".cpx-cat input{" in css and ".cpx-ph button" in css
    assert ".cpx-box" not in css and ".cpx-modal" not in css and "backdrop" not in css
    assert "--cpx-radius:" not in css and "--cpx-button-radius:" in css  # a bar has no corners


@pytest.mark.parametrize("name, value", [("accent", "red;}body{display:none"),
                                         ("radius", "12"), ("font", "x}"),
                                         ("background", "url(https://x.example/a.png)")])
def test_a_theme_value_that_is_not_css_is_refused(name: str, value: str) -> None:
    with pytest.raises(config.ConfigError, match=f"sites.shop.theme.{name}"):
        config.parse({"sites": {"shop": {"origins": ["https://shop.example"],
                                         "theme": {name: value}}}})
