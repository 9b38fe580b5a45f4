"""`consentpixel audit` on pages without our tag, driving the consent managers they use.

The pages in e2e/audit_sites/ hold a GA4 beacon and a Meta Pixel with the released builds
of five open-source consent managers (vendored in audit_sites/cmp/, see its README) and
with a banner of our own in a third-party iframe. Each correct page must pass every check
that applies; each variant fails exactly the check named for its mistake. The trackers'
endpoints are answered inside the browser: nothing here needs the internet.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest
from playwright.sync_api import Browser

from consentpixel.audit.checks import TITLES
from consentpixel.audit.chromium import chromium
from consentpixel.audit.scheduler import Task
from consentpixel.audit.scheduler import run as run_side_by_side
from consentpixel.audit.session import Options, Session
from consentpixel.testing import PageServer

from .once import once

SITES = Path(__file__).parent / "audit_sites"
OUR_TAG_ONLY = {"tag-loaded", "held-scripts-wait", "pixels-after-acceptance", "choices-respected"}

# page → the consent manager recognised, how the banner was answered (reject, accept)
CORRECT = [
    ("vanilla-cookieconsent.html", "vanilla-cookieconsent", "“Reject all” in the page",
     "“Accept all” in the page"),
    ("klaro.html", "Klaro", "“Ik weiger” in the page", "“Dat is oké” in the page"),
    ("orejime.html", "Orejime", "“Ablehnen” in the page", "“Akzeptieren” in the page"),
    ("tarteaucitron.html", "tarteaucitron", "“Cookies : Tout refuser” in the page",
     "“Cookies : Tout accepter” in the page"),
    ("cookieconsent.html", "Osano cookieconsent", "“deny cookies” in the page",
     "“allow cookies” in the page"),
    ("framed.html", None, "“Rechazar todo” in an open shadow root of a third-party frame",
     "“Aceptar todo” in an open shadow root of a third-party frame"),
]
# page → the checks that must fail (every other one passes or does not apply)
FAULTY = [
    ("vanilla-cookieconsent-leak.html", {"nothing-before-consent", "refusal-respected"}),
    ("klaro-leak.html", {"nothing-before-consent", "refusal-respected"}),
    ("orejime-leak.html", {"nothing-before-consent", "refusal-respected"}),
    ("tarteaucitron-leak.html", {"nothing-before-consent", "refusal-respected"}),
    ("cookieconsent-leak.html", {"nothing-before-consent", "refusal-respected"}),
    ("vanilla-cookieconsent-accept-only.html", {"banner-shown"}),
    ("cookieconsent-notice-only.html", {"banner-shown", "nothing-before-consent",
                                        "refusal-respected", "consent-mode-first"}),
    ("index.html", {"banner-shown", "nothing-before-consent", "refusal-respected",
                    "gpc-honored", "no-pii"}),  # gpc-site/: claims GPC, ignores it, leaks
]
# page, check → a line its evidence or summary must hold
EVIDENCE = [
    ("klaro-leak.html", "nothing-before-consent",
     "before a decision: Meta Pixel (ads) GET https://www.facebook.com/tr/?id=1234567890&ev=PageView"),
    ("orejime-leak.html", "nothing-before-consent",
     "before a decision: Meta Pixel (ads) GET https://www.facebook.com/tr/?id=1234567890&ev=PageView"),
    # Orejime and Klaro delete the cookies of purposes not consented to, so whether _fbp
    # is still there when a step ends is a race the page runs; Osano's cookieconsent
    # leaves cookies alone, so there the cookie is always found.
    ("cookieconsent-leak.html", "nothing-before-consent",
     "before a decision: cookie _fbp on localhost (Meta Pixel, ads)"),
    ("orejime-leak.html", "nothing-before-consent",  # known from --trackers FILE only
     "before a decision: Acme Analytics (analytics) GET https://collect.acme.example/hit?page=/orejime-leak.html"),
    ("tarteaucitron-leak.html", "refusal-respected", "after a reload: Meta Pixel (ads) GET"),
    ("vanilla-cookieconsent-accept-only.html", "banner-shown",
     "no reject control on the first layer of vanilla-cookieconsent's banner (it offers "
     "“Accept all”, “Manage preferences”)"),
    ("vanilla-cookieconsent-accept-only.html", "refusal-respected",
     "nothing gated after CookieConsent.acceptCategory([]), vanilla-cookieconsent's API"),
    ("cookieconsent-notice-only.html", "refusal-respected", "found no way to refuse"),
    ("cookieconsent-notice-only.html", "nothing-before-consent",
     "before a decision: Google Analytics (analytics) POST https://region1.google-analytics.com/g/collect"),
    ("index.html", "gpc-honored", "[under Global Privacy Control, no choice] "),
    ("index.html", "banner-shown", "no consent banner found"),
    ("index.html", "no-pii", "before a decision: email in body field email of POST http://"),
]


def audit(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "consentpixel", "audit", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def sites() -> Iterator[PageServer]:
    server = PageServer(SITES)
    yield server
    server.close()


@pytest.fixture(scope="module")
def gpc_site(sites: PageServer) -> Iterator[PageServer]:
    """A site on an origin of its own, which says it honours Global Privacy Control."""
    server = PageServer(SITES / "gpc-site", sites.url)
    yield server
    server.close()


@pytest.fixture(scope="module")
def reports(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Two audits side by side, the correct pages and the faulty ones, once per test run:
    each JSON report by page, and each run's output and exit status."""

    def run(folder: Path) -> dict[str, Any]:
        sites: PageServer = request.getfixturevalue("sites")
        gpc_site: PageServer = request.getfixturevalue("gpc_site")
        faulty = [sites.page(name) for name, _ in FAULTY[:-1]] + [gpc_site.page("index.html")]
        runs = {
            "correct": audit(*[sites.page(name) for name, *_ in CORRECT], "--pages", "2",
                             "--json", str(folder / "correct.json"), "--html",
                             str(folder / "html")),
            "faulty": audit(*faulty, "--trackers", str(SITES / "acme-trackers.toml"),
                            "--json", str(folder / "faulty.json")),
        }
        found: dict[str, Any] = {"html": str(folder / "html")}
        for name, process in runs.items():
            stdout, stderr = process.communicate(timeout=600)
            found[name] = {"code": process.returncode, "stdout": stdout, "stderr": stderr,
                           "report": json.loads((folder / f"{name}.json").read_text())}
        return found

    found = once("audit-managers", request, run)
    for name in ("correct", "faulty"):
        found |= {page["url"].rsplit("/", 1)[1]: page for page in found[name]["report"]["pages"]}
    return found | {"html": Path(found["html"])}


def statuses(page: dict[str, Any]) -> dict[str, str]:
    return {check["name"]: check["status"] for check in page["checks"]}


def test_the_correct_pages_pass_and_the_audit_exits_zero(reports: dict[str, Any]) -> None:
    run = reports["correct"]
    assert run["code"] == 0, run["stdout"] + run["stderr"]
    assert "consentpixel audit passed: 6 URLs" in run["stdout"]


@pytest.mark.parametrize("page, manager, rejected, accepted", CORRECT, ids=[c[0] for c in CORRECT])
def test_each_consent_manager_is_driven_and_its_page_passes(
        reports: dict[str, Any], page: str, manager: str | None, rejected: str,
        accepted: str) -> None:
    found = reports[page]
    assert (found["manager"] or {}).get("name") == manager
    checks = statuses(found)
    assert list(checks) == list(TITLES)
    assert {name for name, status in checks.items() if status == "fail"} == set()
    assert {"banner-shown", "nothing-before-consent", "refusal-respected",
            "trackers-after-acceptance", "no-pii"} <= {n for n, s in checks.items() if s == "pass"}
    assert all(checks[name] == "n/a" for name in OUR_TAG_ONLY)
    via = {s["name"]: s["via"] for s in found["scenarios"]}
    assert via["reject"].startswith(rejected) and via["accept"].startswith(accepted)
    assert via["reject"].endswith("by its accessible name")
    accept = next(s for s in found["scenarios"] if s["name"] == "accept")
    fired = {r["tracker"] for r in accept["requests"] if r["kind"] == "tracker"}
    assert fired == {"Google Analytics", "Meta Pixel"} and all(
        r["answered"] for r in accept["requests"] if r["kind"] == "tracker")


@pytest.mark.parametrize("page, failing", FAULTY, ids=[f[0] for f in FAULTY])
def test_each_faulty_page_fails_exactly_its_check(reports: dict[str, Any], page: str,
                                                  failing: set[str]) -> None:
    assert reports["faulty"]["code"] == 1
    assert "analytical.example" not in json.dumps(reports["faulty"])  # named, never repeated
    checks = statuses(reports[page])
    assert {name for name, status in checks.items() if status == "fail"} == failing
    assert all(checks[name] == "n/a" for name in OUR_TAG_ONLY)


@pytest.mark.parametrize("page, check, line", EVIDENCE, ids=[f"{e[0]}-{e[1]}" for e in EVIDENCE])
def test_findings_name_the_tracker_and_the_evidence(reports: dict[str, Any], page: str,
                                                    check: str, line: str) -> None:
    (found,) = [c for c in reports[page]["checks"] if c["name"] == check]
    assert any(line in text for text in [found["summary"], *found["evidence"]]), found


def test_linked_pages_are_audited_too(reports: dict[str, Any]) -> None:
    """--pages 2: each visitor goes on to the page the first one links to."""
    found = reports["vanilla-cookieconsent.html"]
    assert [p.rsplit("/", 1)[1] for p in found["pages"]] == [
        "vanilla-cookieconsent.html", "vanilla-cookieconsent-products.html"]
    fired = {s["name"]: {r["tracker"] for r in s["requests"]
                         if r["kind"] == "tracker" and r["step"] == "page 2"}
             for s in found["scenarios"]}
    assert fired == {"first-visit": set(), "reject": set(),
                     "accept": {"Google Analytics", "Meta Pixel"}}
    reject = next(s for s in found["scenarios"] if s["name"] == "reject")
    (page_2,) = [step for step in reject["steps"] if step["name"] == "page 2"]
    assert page_2["decided"] and page_2["banner"] is False  # the refusal was kept
    assert {c["name"] for c in page_2["cookies"]} == {"cc_cookie"}


def test_the_report_shows_each_manager_and_the_time_per_page(reports: dict[str, Any]) -> None:
    out = reports["correct"]["stdout"]
    assert "  no consentpixel tag; consent manager: Klaro (by its JavaScript global); 1 page" in out
    assert "  no consentpixel tag; consent manager: none recognised; 1 page" in out
    for page, *_ in CORRECT:
        assert reports[page]["seconds"] > 0
    assert out.count("side by side)") == len(CORRECT)
    html = (reports["html"] / "index.html").read_text()
    assert "No consentpixel tag; consent manager: <b>Klaro (by its JavaScript global)</b>" in html
    assert "Chose by “Rechazar todo” in an open shadow root of a third-party frame" in html
    assert "lines of evidence" in html and "1 lines" not in html and "False" not in html
    # the banner and the page after each choice, for each page
    shots = re.findall(r'<img src="(screenshots/[^"]+)"', html)
    assert len(shots) == 3 * len(CORRECT)
    assert all((reports["html"] / shot).stat().st_size > 1000 for shot in shots)


# -- the consent managers' own APIs, driven one by one ----------------------------------

API = [("vanilla-cookieconsent.html", "cc_cookie"), ("klaro.html", "klaro"),
       ("orejime.html", "eu-consent"), ("tarteaucitron.html", "tarteaucitron")]


@pytest.fixture(scope="module")
def visitor_browser() -> Iterator[Browser]:
    """Chromium as the audit starts it: pages cannot tell it from a visitor's."""
    with chromium(automation=False) as browser:
        yield browser


def answer_by_api(browser: Browser, url: str, action: str, results: dict[str, Any]) -> Task:
    """Open url, answer its consent manager through its API alone, reload: how it was
    answered, whether the banner came back, and the cookies."""
    session = Session(browser, Options())
    try:
        yield from session.load(url)
        manager = session.manager()
        yield from session.any_banner(manager)
        via = yield from session.answer(action, {}, manager)  # no control: the API only
        yield from session.reloading()
        layer, _ = yield from session.any_banner(manager, seconds=2.0)
        cookies = sorted(c["name"] for c in session.context.cookies())
        results[f"{url.rsplit('/', 1)[1]} {action}"] = [via, bool(layer), cookies]
    finally:
        session.close()
    return None


@pytest.fixture(scope="module")
def answered(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Each manager with an API answered both ways, the visitors side by side as in an
    audit, once per test run."""

    def run(folder: Path) -> dict[str, Any]:
        sites: PageServer = request.getfixturevalue("sites")
        browser: Browser = request.getfixturevalue("visitor_browser")
        results: dict[str, Any] = {}
        pump = browser.new_page()
        run_side_by_side([answer_by_api(browser, sites.page(page), action, results)
                          for page, _ in API for action in ("reject", "accept")],
                         lambda seconds: pump.wait_for_timeout(seconds * 1000), len(API) * 2)
        pump.close()
        return results

    return once("audit-api", request, run)


@pytest.mark.parametrize("page, own_cookie", API, ids=[a[0] for a in API])
def test_each_managers_api_refuses_and_accepts(answered: dict[str, Any], page: str,
                                               own_cookie: str) -> None:
    via, asked_again, cookies = answered[f"{page} reject"]
    assert via.endswith("'s API") and not asked_again
    assert cookies == [own_cookie]  # the decision, and no tracker's
    via, asked_again, cookies = answered[f"{page} accept"]
    assert via.endswith("'s API") and not asked_again
    assert {"_ga", "_fbp"} <= set(cookies)


# -- the banner's controls in many shapes, and the managers by their globals or markup ---

SHADOW = ("<cookie-box></cookie-box><script>document.querySelector('cookie-box')"
          ".attachShadow({mode: 'open'}).innerHTML = '<p>Wir nutzen Cookies.</p>"
          "<button>Nur notwendige Cookies</button><button>Alle akzeptieren</button>';</script>")
BANNERS = [
    ("en, a dialog", '<div role="dialog" aria-label="Cookies"><p>We use cookies.</p>'
     "<button>Reject all</button><button>Accept all</button><button>Customise</button></div>",
     {"reject": "Reject all", "accept": "Accept all", "settings": "Customise"}, "in the page"),
    ("de, a plain div", '<div class="hinweis"><p>Wir verwenden Cookies.</p>'
     "<button>Alle ablehnen</button><button>Alle akzeptieren</button></div>",
     {"reject": "Alle ablehnen", "accept": "Alle akzeptieren"}, "in the page"),
    ("fr, a link that refuses", "<div id=\"bandeau\"><p>Ce site utilise des cookies.</p>"
     '<a href="#">Continuer sans accepter</a><button>Tout accepter</button></div>',
     {"reject": "Continuer sans accepter", "accept": "Tout accepter"}, "in the page"),
    ("es, links as buttons", "<aside><p>Usamos cookies propias y de terceros.</p>"
     '<a href="#" role="button">Rechazar todo</a> <a href="#" role="button">Aceptar todo</a>'
     '<a href="#" role="button">Configurar</a></aside>',
     {"reject": "Rechazar todo", "accept": "Aceptar todo", "settings": "Configurar"},
     "in the page"),
    ("it, an icon named by aria-label", '<div id="avviso"><p>Utilizziamo i cookie.</p>'
     '<button aria-label="Rifiuta tutto">✕</button><button>Accetta tutto</button></div>',
     {"reject": "Rifiuta tutto", "accept": "Accetta tutto"}, "in the page"),
    ("nl, input buttons", '<form><p>Wij gebruiken cookies.</p>'
     '<input type="button" value="Alles weigeren"><input type="submit" value="Alles accepteren">'
     "</form>", {"reject": "Alles weigeren", "accept": "Alles accepteren"}, "in the page"),
    ("an open shadow root", SHADOW,
     {"reject": "Nur notwendige Cookies", "accept": "Alle akzeptieren"}, "in an open shadow root"),
    ("a same-origin frame", '<iframe src="frame.html"></iframe>',
     {"reject": "Decline", "accept": "Allow all"}, "in a same-origin frame"),
    ("not a banner: nothing about cookies", "<p>Welcome!</p><button>Accept invitation</button>"
     "<button>Decline</button>", {}, ""),
    ("not a banner: hidden", '<div class="cookie-banner" hidden><button>Reject all</button>'
     "<button>Accept all</button></div>", {}, ""),
    ("not a banner: a footer link", '<footer><a href="/cookies">Cookie settings</a></footer>',
     {"settings": "Cookie settings"}, "in the page"),
]
FRAME = "<p>We use cookies.</p><button>Decline</button><button>Allow all</button>"
RECOGNISED = [
    ("OneTrust", '<div id="onetrust-consent-sdk"></div>'),
    ("Cookiebot", "<script>window.Cookiebot = {}; window.CookieConsent = {};</script>"),
    ("vanilla-cookieconsent", '<div id="cc-main"></div>'),
    ("Didomi", '<div id="didomi-host"></div>'),
    ("Usercentrics", '<div id="usercentrics-root"></div>'),
    ("Quantcast Choice", '<div class="qc-cmp2-container"></div>'),
    ("Complianz", '<div id="cmplz-cookiebanner-container"></div>'),
    ("Klaro", '<div class="klaro"></div>'),
    ("Orejime", '<div class="orejime-Env"></div>'),
    ("tarteaucitron", '<div id="tarteaucitronRoot"></div>'),
    ("Osano cookieconsent", '<div class="cc-window"></div>'),
    (None, '<div id="our-own-banner"></div>'),
]


@pytest.fixture(scope="module")
def visitor(visitor_browser: Browser, sites: PageServer) -> Iterator[Session]:
    sites.add("frame.html", FRAME)
    session = Session(visitor_browser, Options())
    yield session
    session.close()


def page(sites: PageServer, name: str, body: str) -> str:
    return sites.add(name, f'<!doctype html><html><head><meta charset="utf-8"></head>'
                           f"<body>{body}</body></html>")


@pytest.mark.parametrize("what, html, controls, where", BANNERS, ids=[b[0] for b in BANNERS])
def test_the_banner_is_found_by_role_and_accessible_name(
        visitor: Session, sites: PageServer, what: str, html: str, controls: dict[str, str],
        where: str) -> None:
    visitor.goto(page(sites, f"banner-{BANNERS.index((what, html, controls, where))}.html", html))
    found = visitor.controls()
    assert {c.action: c.name for c in found} == controls
    assert all(c.where == where for c in found)
    assert visitor.showing() == bool({"reject", "accept"} & set(controls))


@pytest.mark.parametrize("name, html", RECOGNISED, ids=[str(r[0]) for r in RECOGNISED])
def test_consent_managers_are_recognised_by_their_globals_or_markup(
        visitor: Session, sites: PageServer, name: str | None, html: str) -> None:
    visitor.goto(page(sites, f"manager-{RECOGNISED.index((name, html))}.html", html))
    found = visitor.manager()
    assert (found.name if found else None) == name
