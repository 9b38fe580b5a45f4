"""The banner side by side with its peers: time to a visible Reject button.

Both banners sit on the same page, served by the same static server (this one, gzip -9,
HTTP/1.1 on loopback): vanilla-cookieconsent's files from npm as its README sets them up
(stylesheet and script in the page, the configuration beside them), Osano cookieconsent's
and Orejime's released builds (vendored for the audit's tests) as theirs do, consentpixel's
from a running collector (`consentpixel serve`): through the same server, as a collector
on the site's own host, and straight from the collector on another host. One Chromium;
every round opens each banner on each link in turn, in a fresh context (empty cache, no
cookie); "slow" is DevTools network emulation at 150 ms latency, 1.6 Mbit/s down and
750 kbit/s up.

Measured in the page: a requestAnimationFrame poll, installed before any script runs,
notes performance.now() (from the start of navigation) on the first frame where the
Reject button is rendered (checkVisibility with opacity and visibility) and is what the
browser hits at its center (elementFromPoint). Bytes are gzip -9 of each banner's files;
requests in sequence are the depth of Chromium's initiator chain, the page being 0.
"""

from __future__ import annotations

import gzip
import http.server
import json
import shutil
import statistics
import subprocess
import tempfile
import threading
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from consentpixel.testing.chains import chain_depth

NPM_PACKAGE = "vanilla-cookieconsent@3"
# The released builds of two more peers, vendored (with their licences) for the audit's tests
VENDORED = Path(__file__).resolve().parent.parent / "e2e" / "audit_sites" / "cmp"
PEER_FILES = {  # path on the static server -> vendored file
    "/osano/cookieconsent.min.css": "cookieconsent-3.1.1/cookieconsent.min.css",
    "/osano/cookieconsent.min.js": "cookieconsent-3.1.1/cookieconsent.min.js",
    "/orejime/orejime-standard.css": "orejime-3.2.1/orejime-standard.css",
    "/orejime/orejime-standard.js": "orejime-3.2.1/orejime-standard-de.js",
}
NPM_CACHE = Path.home() / ".cache" / "consentpixel-bench"
SLOW = {"offline": False, "latency": 150, "downloadThroughput": 1_600_000 / 8,
        "uploadThroughput": 750_000 / 8}
COLLECTOR_FILES = ("/t.js", "/w.js", "/h.js", "/s/", "/p/", "/p.gif", "/c.gif")
CONFIG = """
[sites.bench]
origins = ["http://127.0.0.1:*", "http://localhost:*"]
count_automation = true
banner = "box"
"""
ARTICLE = "".join(f"<p>Paragraph {i}: the page both banners sit on.</p>" for i in range(20))
# banner -> what goes into <head>, what ends <body>, its Reject button
PAGES = {
    "consentpixel": (
        '<script async src="/t.js?site=bench"></script>', "", "[data-a=reject]"),
    # The collector on another host than the page's: no cookie comes with the tag's
    # request, so the banner comes in a second one.
    "consentpixel, collector on another host": (
        '<script async src="{collector}/t.js?site=bench"></script>', "", "[data-a=reject]"),
    # As its getting-started page sets it up: the stylesheet in <head>, at the end of
    # <body> a module with the configuration, which imports the script.
    "vanilla-cookieconsent 3": (
        '<link rel="stylesheet" href="/vcc/cookieconsent.css">',
        '<script type="module" src="/vcc/cookieconsent-config.js"></script>',
        "[data-role=necessary]"),
    # Its fastest setup: both scripts in <head>, deferred, side by side with the stylesheet.
    "vanilla-cookieconsent 3, all in <head>": (
        '<link rel="stylesheet" href="/vcc/cookieconsent.css">'
        '<script defer src="/vcc/cookieconsent.umd.js"></script>'
        '<script defer src="/vcc/config.js"></script>', "", "[data-role=necessary]"),
    # Osano's cookieconsent as its documentation shows it: stylesheet and script in
    # <head>, initialised on the window's load event, opt-in.
    "Osano cookieconsent 3": (
        '<link rel="stylesheet" href="/osano/cookieconsent.min.css">'
        '<script src="/osano/cookieconsent.min.js"></script>'
        '<script src="/osano/config.js"></script>', "", ".cc-deny"),
    # Orejime as its README shows it: stylesheet, configuration, then the standard build.
    "Orejime 3": (
        '<link rel="stylesheet" href="/orejime/orejime-standard.css">'
        '<script src="/orejime/config.js"></script>'
        '<script src="/orejime/orejime-standard.js"></script>', "",
        ".orejime-Button--decline"),
}
OSANO_CONFIG = """window.addEventListener('load', function () {
  window.cookieconsent.initialise({type: 'opt-in', content: {
    message: 'We count visits and campaign results in aggregate, without identifying you.',
    allow: 'Accept all', deny: 'Reject all', link: 'Learn more'}});
});
"""
OREJIME_CONFIG = """window.orejimeConfig = {privacyPolicyUrl: '/privacy.html', purposes: [
  {id: 'analytics', title: 'Analytics', description: 'Counts page views in aggregate.'}]};
"""
# As vanilla-cookieconsent's documentation configures it: one optional category; it
# hides from automated browsers unless told not to, and this one is automated.
VANILLA_CONFIG = """CookieConsent.run({
  hideFromBots: false,
  categories: {necessary: {enabled: true, readOnly: true}, analytics: {}},
  language: {default: 'en', translations: {en: {
    consentModal: {title: 'Your privacy choices',
      description: 'We count visits and campaign results in aggregate, without identifying you.',
      acceptAllBtn: 'Accept all', acceptNecessaryBtn: 'Reject all', showPreferencesBtn: 'Preferences'},
    preferencesModal: {title: 'Preferences', acceptAllBtn: 'Accept all',
      acceptNecessaryBtn: 'Reject all', savePreferencesBtn: 'Save choices',
      sections: [{title: 'Analytics', description: 'Counts page views in aggregate.',
                  linkedCategory: 'analytics'}]}}}}
});
"""
POLL = """(() => {
  const visible = el => {
    if (!el.checkVisibility({opacityProperty: true, visibilityProperty: true})) return false;
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1) return false;
    const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);
    return !!hit && (hit === el || el.contains(hit));
  };
  const poll = () => {
    const el = document.querySelector(SELECTOR);
    if (el && visible(el)) window.__rejectVisible = performance.now();
    else requestAnimationFrame(poll);
  };
  requestAnimationFrame(poll);
})();"""


@dataclass
class Result:
    tag: str
    link: str
    times: list[float] = field(default_factory=list)
    bytes: int = 0
    depth: int = 0


def vanilla_files() -> Path:
    """vanilla-cookieconsent's dist/, installed with npm into a cache the first time."""
    dist = NPM_CACHE / "node_modules" / "vanilla-cookieconsent" / "dist"
    if not dist.exists():
        if not shutil.which("npm"):
            raise RuntimeError("npm is needed once to fetch vanilla-cookieconsent")
        NPM_CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", str(NPM_CACHE), "--no-audit", "--no-fund",
                        "--silent", NPM_PACKAGE], check=True)
    return dist


class StaticServer:
    """The pages and vanilla-cookieconsent's files, gzip -9; the collector's paths are
    passed through to it, so both banners come from the page's own origin."""

    def __init__(self, vanilla: Path, collector: str) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}
        for name, (head, end, _) in PAGES.items():
            head = head.replace("{collector}", collector.replace("127.0.0.1", "localhost"))
            html = (f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
                    f'<title>Bench</title>{head}</head><body><main><h1>An article</h1>'
                    f'{ARTICLE}</main>{end}</body></html>')
            self.files[page_path(name)] = (html.encode(), "text/html; charset=utf-8")
        for file, kind in (("cookieconsent.css", "text/css"),
                           ("cookieconsent.umd.js", "application/javascript")):
            self.files[f"/vcc/{file}"] = ((vanilla / file).read_bytes(), kind)
        self.files["/vcc/config.js"] = (VANILLA_CONFIG.encode(), "application/javascript")
        for path, vendored in PEER_FILES.items():
            kind = "text/css" if path.endswith(".css") else "application/javascript"
            self.files[path] = ((VENDORED / vendored).read_bytes(), kind)
        self.files["/osano/config.js"] = (OSANO_CONFIG.encode(), "application/javascript")
        self.files["/orejime/config.js"] = (OREJIME_CONFIG.encode(), "application/javascript")
        self.files["/vcc/cookieconsent-config.js"] = (
            b"import '/vcc/cookieconsent.umd.js';\n" + VANILLA_CONFIG.encode(),
            "application/javascript")
        self.collector = collector
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?", 1)[0]
                if path.startswith(COLLECTOR_FILES):
                    return self.forward()
                if path not in server.files:
                    self.send_error(404)
                    return
                body, kind = server.files[path]
                self.answer(200, gzip.compress(body, 9),
                            {"Content-Type": kind, "Content-Encoding": "gzip"})

            def forward(self) -> None:
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() in ("referer", "accept-language", "user-agent",
                                            "sec-gpc")}
                headers["Accept-Encoding"] = "gzip"
                request = urllib.request.Request(server.collector + self.path, headers=headers)
                with urllib.request.urlopen(request) as response:
                    body = response.read()
                    kept = {k: v for k, v in response.headers.items()
                            if k.lower() in ("content-type", "content-encoding",
                                             "cache-control", "etag", "vary")}
                    self.answer(response.status, body, kept)

            def answer(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def close(self) -> None:
        self.httpd.shutdown()


def page_path(tag: str) -> str:
    return "/" + "-".join(tag.replace(",", "").replace("<", "").replace(">", "").split()) + ".html"


def measure(browser: Any, server: StaticServer, tag: str, link: str) -> tuple[float, int, int]:
    """One fresh visit: ms to a visible Reject button, gz bytes of the banner's files,
    requests in sequence before it."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    try:
        page = context.new_page()
        page.add_init_script(POLL.replace("SELECTOR", json.dumps(PAGES[tag][2])))
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        if link == "slow":
            cdp.send("Network.emulateNetworkConditions", SLOW)
        depths: dict[str, int] = {}
        ours: list[str] = []  # scripts and stylesheets, in the order asked for

        def on_request(event: dict[str, Any]) -> None:
            url = event["request"]["url"]
            chain_depth(event, depths)
            if event.get("type") in ("Script", "Stylesheet"):
                ours.append(url)

        cdp.on("Network.requestWillBeSent", on_request)
        page.goto(server.url + page_path(tag))
        page.wait_for_function("window.__rejectVisible", timeout=30_000)
        shown = float(page.evaluate("window.__rejectVisible"))
        loaded = list(dict.fromkeys(ours))  # the banner's scripts and stylesheets
        size = sum(len(gzip.compress(fetch(url, page.url), 9)) for url in loaded)
        return shown, size, max(depths[url] for url in loaded)
    finally:
        context.close()


def fetch(url: str, page: str) -> bytes:
    request = urllib.request.Request(url, headers={"Referer": page, "Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request) as response:
        body = response.read()
        return gzip.decompress(body) if response.headers.get("Content-Encoding") == "gzip" else body


def run(rounds: int = 9) -> str:
    """The side-by-side table, medians of `rounds` interleaved rounds."""
    from consentpixel.audit.chromium import CHROMIUM_ARGS, chromium_path
    from consentpixel.testing import start_collector
    from playwright.sync_api import sync_playwright

    vanilla = vanilla_files()
    with tempfile.TemporaryDirectory(prefix="consentpixel-bench-banner-") as scratch:
        collector = start_collector(Path(scratch), CONFIG)
        server = StaticServer(vanilla, collector.url)
        results = {(tag, link): Result(tag, link) for tag in PAGES for link in ("fast", "slow")}
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium_path(),
                                                     args=CHROMIUM_ARGS)
                for key in results:  # warm up: the servers, not the browser's cache
                    measure(browser, server, *key)
                for _ in range(rounds):
                    for key, result in results.items():
                        shown, size, depth = measure(browser, server, *key)
                        result.times.append(shown)
                        result.bytes, result.depth = size, depth
                browser.close()
        finally:
            server.close()
            collector.stop()
    return table(list(results.values()), rounds)


def table(results: list[Result], rounds: int) -> str:
    lines = [f"Reject button visible, median of {rounds} interleaved rounds (ms from the "
             "start of navigation), one Chromium, fresh context each:",
             "| banner | link | reject visible, ms | min–max ms | gzip bytes "
             "| requests in sequence |",
             "|---|---|---:|---:|---:|---:|"]
    for result in results:
        lines.append(f"| {result.tag} | {result.link} | {statistics.median(result.times):.0f} | "
                     f"{min(result.times):.0f}–{max(result.times):.0f} | {result.bytes:,} | "
                     f"{result.depth} |")
    slow = {r.tag: statistics.median(r.times) for r in results if r.link == "slow"}
    ours = slow["consentpixel"]
    lines.append(f"\nOn the slow link consentpixel's Reject button is visible in "
                 f"{ours / slow['vanilla-cookieconsent 3']:.2f}× the time of "
                 f"vanilla-cookieconsent set up as its documentation does, "
                 f"{ours / slow['vanilla-cookieconsent 3, all in <head>']:.2f}× with "
                 f"all of it in <head>.")
    behind = [tag for tag, time in slow.items()
              if not tag.startswith("consentpixel") and time <= ours]
    lines.append("It is ahead of every other banner here on the slow link." if not behind
                 else f"On the slow link it is not ahead of: {', '.join(behind)}.")
    elsewhere = slow["consentpixel, collector on another host"]
    lines.append(f"With the collector on another host than the page, "
                 f"{elsewhere / slow['vanilla-cookieconsent 3']:.2f}× vanilla-cookieconsent's "
                 f"time.")
    return "\n".join(lines)
