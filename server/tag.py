"""The tag as the collector serves it: built by minify.py, gzipped, with ETags.

    /t.js?site=SITE       the tag: the core with the site's settings written in; on a
                          first visit the collector can tell (no decision cookie came
                          with the request, as one would from a page on this host),
                          also the consent module (b.js) with its styles and the banner
    /p/SITE.js?a=1        the parts a page asks for later: the attribution (a.js:
    /p/SITE.js?b=LANG       campaigns and conversions), the consent module with its
    /p/SITE.js?h=LANG       styles and the banner in one language, the release of held
                            scripts and embeds (h.js) with its placeholders' words
    /p/SITE.js?l=LANG     the module as cores before the settings were written into
                          them ask for it, its banner as their settings' texts
    /s/SITE.css           the site's theme and the banner's styles, for browsers
                          without constructed stylesheets
    /s/SITE.js            the settings with the parts, as the core before the one-file
                          tag asked for them: cores still in a browser's or a proxy's
                          cache (an hour, a day stale) keep working after an upgrade
    /t.js                 the tag as first published (<script … data-site="SITE">):
                          loads t.js?site=SITE as the same element would
    /w.js                 the words of the console warnings, only when something is wrong
    /gcm/SITE.js          Google Consent Mode defaults and updates, for sites that want it

The tag depends on the page's origin (the script's Referer): when the site does not list
it, it also carries the warning, and is not stored by any cache.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from . import attribution, privacy, tagkeys, templating, texts
from .config import Site
from .minify import minify_css, minify_js

JS = "application/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"
# The core and the warnings are revalidated hourly, a site's files every five minutes.
CORE_CACHE = "public, max-age=3600, stale-while-revalidate=86400"
SITE_CACHE = "public, max-age=300"
# The tag on a page of the collector's host depends on the visitor's cookies.
VISITOR_CACHE = "private, max-age=300"
NO_STORE = "no-store"
PROBLEM_TOKEN = "__PROBLEM__"
SETTINGS_TOKEN = "__SETTINGS__"  # in t.js, where the site's settings go
TEXTS_TOKEN = "__TEXTS__"  # in b.js, where its banner goes when not among the settings
# w.js on its own reads the problem from its URL's fragment (see warn() in t.js).
PROBLEM_FROM_URL = "JSON.parse(decodeURIComponent(document.currentScript.src.split('#')[1]))"
LANGUAGE = re.compile(r"[a-z]{2,3}")


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    etag: str
    media_type: str
    cache: str
    vary: str = "Accept-Encoding"

    @classmethod
    def build(cls, text: str, media_type: str, cache: str,
              vary: str = "Accept-Encoding") -> Asset:
        body = text.encode("utf-8")
        digest = hashlib.sha256(body).hexdigest()[:16]
        return cls(body, gzip.compress(body, 9, mtime=0), f'"{digest}"', media_type, cache,
                   vary)

    def response(self, request: Request) -> Response:
        headers = {"ETag": self.etag, "Cache-Control": self.cache, "Vary": self.vary,
                   "Cross-Origin-Resource-Policy": "cross-origin",
                   "X-Content-Type-Options": "nosniff"}
        if self.etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
            return Response(self.gzipped, media_type=self.media_type, headers=headers)
        return Response(self.body, media_type=self.media_type, headers=headers)


def source(name: str) -> str:
    return resources.files("consentpixel.static").joinpath(name).read_text("utf-8")


class TagFiles:
    """Every file of the tag, built once when the collector starts."""

    def __init__(self, sites: dict[str, Site]) -> None:
        self.attribution = (minify_js(source("a.js"), shared_names=True)
                            .replace("__UTM_PARAMETERS__", as_js(list(attribution.UTM_PARAMS)))
                            .replace("__CLICK_IDS__", as_js(list(attribution.CLICK_IDS))))
        self.module = minify_js(source("b.js"), shared_names=True)
        self.core = minify_js(source("t.js"), shared_names=True)
        self.held = minify_js(source("h.js"), shared_names=True)
        self.styles = minify_css(source("b.css"))
        self.warnings = minify_js(source("w.js"))
        self.files = {
            "t.js": Asset.build(minify_js(source("site.js")), JS, CORE_CACHE),
            # for consent modules cached before held content became a part: no placeholders
            "h.js": Asset.build(self.held.replace("__WORDS__", as_js({"cats": {}})), JS,
                                CORE_CACHE),
            "w.js": Asset.build(self.warnings.replace(PROBLEM_TOKEN, PROBLEM_FROM_URL), JS,
                                CORE_CACHE),
        }
        self.sites = {name: SiteFiles(site, self) for name, site in sites.items()}

    def response(self, request: Request) -> Response:
        name = request.url.path.rsplit("/", 1)[-1]
        if name != "t.js" or "site" not in request.query_params:
            return self.files[name].response(request)
        site = request.query_params["site"]
        if site in self.sites:
            return self.sites[site].tag(request)
        return self.warning(["site", site, site]).response(request)

    def warning(self, problem: list[str]) -> Asset:
        """The console warning about a problem the collector sees itself, uncached."""
        return Asset.build(self.warnings.replace(PROBLEM_TOKEN, as_js(problem)), JS, NO_STORE)


class SiteFiles:
    """One site's tag (the core and its settings, with the consent module on a first
    visit), the parts a page asks for later, its stylesheet and its Consent Mode adapter."""

    def __init__(self, site: Site, tag: TagFiles) -> None:
        self.site = site
        self.files = tag
        self.built: dict[tuple[object, ...], Asset] = {}  # a handful, built on first use
        styles = layout_css(tag.styles, site.banner)
        self.stylesheet = Asset.build(theme_css(site, styles) + styles, CSS, SITE_CACHE)
        self.module_template = tag.module.replace("__STYLES__",
                                                  as_js(self.stylesheet.body.decode()))
        self.module = self.module_with(None)  # its banner among the settings
        self.consent_mode = consent_mode_script(site)

    def tag(self, request: Request) -> Response:
        """The core and the settings; on a first visit the collector can tell, the consent
        module and the banner in the browser's language too (the module asks for the
        page's if the site speaks it and it differs); and the warning when the page's
        origin is not one of the site's."""
        referer = request.headers.get("referer", "")
        # A decision cookie comes with the request when the page is on this host: the
        # same origin (also through a proxy on the site's host, where the collector's own
        # name may differ), or the same host on another port.
        same_host = (request.headers.get("sec-fetch-site") == "same-origin"
                     or page_host(referer) == request.url.hostname)
        first_visit = same_host and self.site.mode == "opt-in" and not request.cookies.get("cpx")
        lang, gpc = self.language(request, "" if first_visit else None)
        origin = page_origin(referer)
        if origin and not self.site.allows_origin(origin):
            problem = ["origin", origin, self.site.name]
            warning = self.files.warning(problem).body.decode()
            text = self.text(True, False, lang, gpc) + ";" + warning
            return Asset.build(text, JS, NO_STORE).response(request)
        vary = "Accept-Encoding, Referer, Sec-Fetch-Site" + (", Cookie" if same_host else "") + \
            (", Accept-Language, Sec-GPC" if lang else "")
        cache = VISITOR_CACHE if same_host else SITE_CACHE
        return self.asset(("tag", lang, gpc, same_host), lambda: self.text(True, False, lang, gpc),
                          cache, vary).response(request)

    def parts(self, request: Request) -> Response:
        """What a page asks for after the tag: with a=1 the attribution, with b the
        consent module with the banner in the page's language (or the browser's), with h
        the release of held content in the banner's. With l, the module as cores before
        the settings were written into them ask for it: the banner as their texts."""
        query = request.query_params
        attribution = query.get("a") == "1"
        held = query.get("h")
        if held is not None:  # in the banner's language, as the module asks
            lang, _ = self.language(request, held)
            return self.asset(("held", lang), lambda: self.held(lang), SITE_CACHE,
                              "Accept-Encoding, Accept-Language").response(request)
        earlier = "b" not in query
        lang, gpc = self.language(request, query.get("l") if earlier else query["b"])
        vary = "Accept-Encoding" + (", Accept-Language, Sec-GPC" if lang else "")
        return self.asset(("parts", attribution, lang, gpc, earlier),
                          lambda: self.text(False, attribution, lang, gpc, earlier),
                          SITE_CACHE, vary).response(request)

    def module_with(self, texts: dict[str, Any] | None) -> str:
        """The consent module with its banner written in, or with none (0): then the
        module takes the banner from the settings."""
        return self.module_template.replace(TEXTS_TOKEN, as_js(texts) if texts else "0")

    def held(self, lang: str | None) -> str:
        """h.js with what its placeholders say, in the banner's language, escaped."""
        words, categories = site_words(self.site, lang or self.site.languages[0])
        said = {"cats": {name: [html.escape(label), html.escape(description)]
                         for name, label, description in categories},
                "allow": html.escape(words["allow"])}
        return self.files.held.replace("__WORDS__", as_js(said)) + ";"

    def settings_script(self, request: Request) -> Response:
        """The settings with the parts asked for, as cores before the one-file tag ask:
        the attribution first, then the settings (with the texts), then the module."""
        attribution = request.query_params.get("a") == "1"
        lang, gpc = self.language(request, request.query_params.get("l"))

        def text() -> str:
            parts = [self.files.attribution] if attribution else []
            parts.append(config(site_settings(self.site, lang, gpc)))
            if lang is not None:
                parts.append(self.module)
            return ";".join(parts) + ";"

        vary = "Accept-Encoding" + (", Accept-Language, Sec-GPC" if lang else "")
        return self.asset(("settings", attribution, lang, gpc), text, SITE_CACHE,
                          vary).response(request)

    def language(self, request: Request, wanted: str | None) -> tuple[str | None, bool]:
        """The banner's language, if texts are wanted, and whether to add the note on
        Global Privacy Control: only for the browsers that send it."""
        if wanted is None:
            return None, False
        lang = language(self.site, wanted, request.headers.get("accept-language", ""))
        return lang, request.headers.get("sec-gpc", "").strip() == "1"

    def asset(self, key: tuple[object, ...], text: Callable[[], str], cache: str,
              vary: str) -> Asset:
        if key not in self.built:
            self.built[key] = Asset.build(text(), JS, cache, vary)
        return self.built[key]

    def text(self, core: bool, attribution: bool, lang: str | None, gpc: bool = False,
             earlier: bool = False) -> str:
        """The core with the settings written in; the attribution; the consent module
        with the banner: among the settings that come with the core, else written into
        the module, or for an earlier core (earlier) as its settings' texts."""
        parts = [self.files.attribution] if attribution else []
        if lang is not None:
            if core:
                parts.append(self.module)
            elif earlier:
                parts.append(config({tagkeys.short("texts"): site_texts(self.site, lang, gpc)}))
                parts.append(self.module)
            else:
                parts.append(self.module_with(site_texts(self.site, lang, gpc)))
        if not core:
            return ";".join(parts) + ";"
        tag = self.files.core.replace(SETTINGS_TOKEN, as_js(site_settings(self.site, lang, gpc)))
        # What comes with the core calls the API it returns, which is nothing when the
        # core stood aside (the page has another cpx, or a copy of the tag runs already).
        return f"(function(cpx){{if(cpx){{{';'.join(parts)}}}}})({tag})" if parts else tag


def config(settings: dict[str, Any]) -> str:
    return f"cpx('_config',{as_js(settings)})"


def page_host(referer: str) -> str | None:
    """The host of a Referer, or None when there is none to tell."""
    try:
        return urlsplit(referer).hostname
    except ValueError:
        return None


def page_origin(referer: str) -> str:
    """scheme://host[:port] of a Referer, or "" when there is none to tell."""
    try:
        parts = urlsplit(referer)
    except ValueError:
        return ""
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme in ("http", "https") else ""


def language(site: Site, wanted: str, accept_language: str) -> str:
    """The page's language if the site speaks it, else the first of the browser's that
    it does, else the site's first."""
    candidates = [wanted] + [part.split(";")[0] for part in accept_language.split(",")]
    for candidate in candidates:
        primary = candidate.strip().split("-")[0].lower()
        if LANGUAGE.fullmatch(primary) and primary in site.languages:
            return primary
    return site.languages[0]


def site_settings(site: Site, lang: str | None = None, gpc: bool = True) -> dict[str, Any]:
    """What the core and the consent module need to know of a site, and nothing more,
    under the short keys of tagkeys.py."""
    categories = site.categories
    conversion = site.events.get("purchase", "ads")
    readable = {
        "site": site.name,
        "policyVersion": site.policy_version,
        "mode": site.mode,
        "consentDays": site.consent_days,
        "lookbackDays": site.lookback_days,
        "attributionCategory": conversion if conversion in categories else "",
        "events": site.events,
        "categories": list(categories),
        "gpcCategories": sorted(site.gpc_categories),
        "cookies": {name: list(cat.cookies) for name, cat in categories.items() if cat.cookies},
        "rules": [list(rule) for rule in privacy.TAG_RULES],  # [placeholder, pattern]
        "countsAutomation": site.count_automation,
        "tallies": site.consent_tallies,
        "layout": site.banner,
        # Every key, even empty: one the page put on Object.prototype never stands in.
        # With the settings, the texts are in the browser's language: the module asks for
        # the page's if the site speaks it and it differs. A returning visitor gets none.
        "texts": None if lang is None else {**site_texts(site, lang, gpc),
                                            "languages": list(site.languages)},
    }
    return {tagkeys.short(name): value for name, value in readable.items()}


def site_words(site: Site, lang: str) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
    """The banner's words in one language (built in, then the site's own), and each
    category's name, label and description."""
    first = site.languages[0]

    def pick(table: dict[str, str]) -> str:
        return table.get(lang) or table.get(first) or table.get("en") or ""

    words = {**texts.BUTTONS.get(lang, texts.BUTTONS["en"]),
             **texts.BANNER.get(lang, texts.BANNER["en"]), **site.text.get(lang, {})}
    return words, [(name, pick(cat.label), pick(cat.description))
                   for name, cat in site.categories.items()]


def site_texts(site: Site, lang: str, gpc: bool = True) -> dict[str, Any]:
    """The banner in one language: its markup, rendered here (autoescaped) for the consent
    module to show as it is, with the note on Global Privacy Control only for the
    browsers that send it."""
    words, categories = site_words(site, lang)
    refused = [label for name, label, _ in categories if name in site.gpc_categories]
    gpc_note = words["gpc"].replace("{cats}", ", ".join(refused)) if gpc and refused else ""
    markup = BANNER.render(lang=lang, rtl=lang in texts.RTL_LANGUAGES, words=words,
                           categories=categories, gpc_note=gpc_note)
    return {"banner": BETWEEN_TAGS.sub("><", markup.strip()), "lang": lang}


BANNER = templating.environment.get_template("tag/banner.html")
BETWEEN_TAGS = re.compile(r">\s+<")


def as_js(value: Any) -> str:
    # "</" would end an inline <script>; escape it in case someone inlines the file.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


def theme_css(site: Site, styles: str) -> str:
    """The site's theme as custom properties; the dark_… ones for a dark color scheme.
    Only those the styles use: a bar has no rounded corners."""
    used = {name for name in site.theme
            if f"var(--cpx-{name.removeprefix('dark_').replace('_', '-')})" in styles}
    light = {name: value for name, value in site.theme.items()
             if name in used and not name.startswith("dark_")}
    dark = {name[5:]: value for name, value in site.theme.items()
            if name in used and name.startswith("dark_")}

    def block(values: dict[str, str]) -> str:
        return ".cpx,.cpx-ph{" + ";".join(f"--cpx-{name.replace('_', '-')}:{value}"
                                          for name, value in values.items()) + "}"

    return block(light) + "@media (prefers-color-scheme:dark){" + block(dark) + "}"


# A rule of the minified stylesheet (b.css has no nested blocks), and a layout's class.
CSS_RULE = re.compile(r"([^{}]+)\{([^{}]*)\}")
LAYOUT_CLASS = re.compile(r"\.cpx-(bar|box|modal)\b")


def layout_css(css: str, layout: str) -> str:
    """The stylesheet without the selectors of the layouts the site does not use (its
    banner is one layout, settings.py `banner`); a rule left without selectors goes."""
    def keep(rule: re.Match[str]) -> str:
        selectors = [selector for selector in rule.group(1).split(",")
                     if all(name == layout for name in LAYOUT_CLASS.findall(selector))]
        return ",".join(selectors) + "{" + rule.group(2) + "}" if selectors else ""

    return CSS_RULE.sub(keep, css)


def consent_mode_script(site: Site) -> Asset:
    """gcm.js for one site: Consent Mode defaults at once, then every decision."""
    settings = {
        "map": {name: list(cat.consent_mode) for name, cat in site.categories.items()},
        "optOut": site.mode == "opt-out",
        "gpc": sorted(site.gpc_categories),
    }
    script = minify_js(source("gcm.js")).replace("__SETTINGS__", as_js(settings))
    return Asset.build(script, JS, SITE_CACHE)
