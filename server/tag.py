"""The tag as the collector serves it: minified with jsmin, gzipped, with ETags.

t.js is the core every page loads; b.js and b.css (the consent module) load only when
a visitor has to decide. /s/SITE.js carries one site's settings and texts to the core;
/gcm/SITE.js mirrors decisions into Google Consent Mode for sites that want it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

from jsmin import jsmin
from starlette.requests import Request
from starlette.responses import Response

from . import attribution, privacy, texts
from .config import Site

JS = "application/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"
# The core is revalidated hourly; the banner's URL carries its digest, so it never changes.
CORE_CACHE = "public, max-age=3600, stale-while-revalidate=86400"
VERSIONED_CACHE = "public, max-age=31536000, immutable"
SITE_CACHE = "public, max-age=300"
ASSETS_TOKEN = "__ASSETS__"


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    etag: str
    media_type: str
    cache: str

    @classmethod
    def build(cls, text: str, media_type: str, cache: str) -> Asset:
        body = text.encode("utf-8")
        digest = hashlib.sha256(body).hexdigest()[:16]
        return cls(body, gzip.compress(body, 9, mtime=0), f'"{digest}"', media_type, cache)

    def response(self, request: Request) -> Response:
        headers = {"ETag": self.etag, "Cache-Control": self.cache, "Vary": "Accept-Encoding",
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


def minify_css(text: str) -> str:
    """Comments and needless whitespace out; a space between selectors is a combinator
    (".cpx :focus-visible"), so only spaces next to punctuation go."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"\s*([{};,>])\s*", r"\1", text)
    text = re.sub(r"([{;][\w-]+)\s+:", r"\1:", text)  # "width :" in a declaration
    text = re.sub(r":\s+", ":", text)
    return text.replace(";}", "}").strip()


class TagFiles:
    """The three tag files, built once when the collector starts."""

    def __init__(self) -> None:
        banner = Asset.build(jsmin(source("b.js")), JS, VERSIONED_CACHE)
        styles = Asset.build(minify_css(source("b.css")), CSS, VERSIONED_CACHE)
        version = hashlib.sha256(banner.body + styles.body).hexdigest()[:10]
        core = jsmin(source("t.js")).replace(ASSETS_TOKEN, version)
        self.files = {"t.js": Asset.build(core, JS, CORE_CACHE), "b.js": banner,
                      "b.css": styles}

    def response(self, request: Request) -> Response:
        return self.files[request.url.path.rsplit("/", 1)[-1]].response(request)


def site_settings(site: Site) -> dict[str, Any]:
    """What the core and the consent module need to know of a site, and nothing more."""
    categories = site.categories
    conversion = site.events.get("purchase", "ads")
    return {
        "s": site.name,
        "v": site.policy_version,
        "m": site.mode,
        "d": site.consent_days,
        "l": site.lookback_days,
        "a": conversion if conversion in categories else "",
        "e": site.events,
        "c": list(categories),
        "gp": sorted(site.gpc_categories),
        "k": {name: list(cat.cookies) for name, cat in categories.items() if cat.cookies},
        "f": privacy.SEPARATORS,
        "r": [list(rule) for rule in privacy.TAG_RULES],
        "u": list(attribution.UTM_PARAMS),
        "i": list(attribution.CLICK_IDS),
        "t": {lang: site_texts(site, lang) for lang in site.languages},
    }


def site_texts(site: Site, lang: str) -> dict[str, Any]:
    first = site.languages[0]

    def pick(table: dict[str, str]) -> str:
        return table.get(lang) or table.get(first) or table.get("en") or ""

    words: dict[str, Any] = {**texts.BUTTONS.get(lang, texts.BUTTONS["en"]),
             **texts.BANNER.get(lang, texts.BANNER["en"]), **site.text.get(lang, {})}
    words["cats"] = {name: [pick(cat.label), pick(cat.description)]
                     for name, cat in site.categories.items()}
    words["rtl"] = lang in texts.RTL_LANGUAGES
    words["lang"] = lang
    return words


def as_js(value: Any) -> str:
    # "</" would end an inline <script>; escape it in case someone inlines the file.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


def site_script(site: Site) -> Asset:
    return Asset.build(f"cpx('_config',{as_js(site_settings(site))});", JS, SITE_CACHE)


def consent_mode_script(site: Site) -> Asset:
    """gcm.js for one site: Consent Mode defaults at once, then every decision."""
    settings = {
        "map": {name: list(cat.consent_mode) for name, cat in site.categories.items()},
        "optOut": site.mode == "opt-out",
        "gpc": sorted(site.gpc_categories),
    }
    script = jsmin(source("gcm.js")).replace("__SETTINGS__", as_js(settings))
    return Asset.build(script, JS, SITE_CACHE)
