"""`consentpixel audit`, run as a user runs it, against fixture sites and a real collector.

Each site in e2e/audit_sites/ is right but for one mistake, and the audit must fail
exactly the check named for it; good.html makes none, and no-tag.html has neither the
tag nor anything to ask consent for. The sites are served from http://localhost:PORT and
the collector from http://127.0.0.1:PORT, as in the other end-to-end tests. Pages with
other consent managers are in test_audit_managers.py.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest

from consentpixel.audit.checks import TITLES
from consentpixel.testing import CollectorProcess, PageServer, start_collector

from .once import once

SITES = Path(__file__).parent / "audit_sites"

# site → the checks that must fail; every other check must pass or not apply
CASES = [
    ("good.html", set()),
    ("beacon-early.html", {"nothing-before-consent", "refusal-respected"}),
    ("email-leak.html", {"no-pii"}),
    ("no-tag.html", set()),
    ("script-early.html", {"held-scripts-wait"}),
    ("consent-mode-late.html", {"consent-mode-first"}),
]
# site, check → a line its evidence must hold
EVIDENCE = [
    ("beacon-early.html", "nothing-before-consent",
     "before a decision: Meta Pixel (ads) GET https://www.facebook.com/tr?id=1234567890"),
    ("beacon-early.html", "refusal-respected", "after a reload: Meta Pixel (ads) GET"),
    ("email-leak.html", "no-pii", "email in query parameter em of GET https://www.facebook.com/tr"),
    ("email-leak.html", "no-pii", "phone in body field phone of POST http://localhost:"),
    ("script-early.html", "held-scripts-wait",
     'vendor/retarget.js (held for ads) runs at once: give it type="text/plain"'),
    ("consent-mode-late.html", "consent-mode-first", "dataLayer[2]: consent default"),
]


def audit(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "consentpixel", "audit", *args],
                          capture_output=True, text=True, timeout=600, env=env)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[CollectorProcess, PageServer]]:
    collector = start_collector(tmp_path_factory.mktemp("collector"))
    sites = PageServer(SITES, collector.url)
    yield collector, sites
    sites.close()
    collector.stop()


@pytest.fixture(scope="module")
def table(request: pytest.FixtureRequest) -> dict[str, Any]:
    """One audit of every site (one browser for all, following a link from each, with the
    HTML report), once per test run: the JSON report by page, the output, and what the
    collector counted afterwards."""

    def run(folder: Path) -> dict[str, Any]:
        collector, sites = request.getfixturevalue("served")
        done = audit(*[sites.page(name) for name, _ in CASES], "--pages", "2", "--json",
                     str(folder / "audit.json"), "--html", str(folder / "html"))
        return {"code": done.returncode, "stdout": done.stdout, "stderr": done.stderr,
                "report": json.loads((folder / "audit.json").read_text()),
                "html": str(folder / "html"), **counted_after(collector, sites)}

    found = once("audit-table", request, run)
    assert found["code"] == 1, found["stdout"] + found["stderr"]
    report = found["report"]
    return {page["url"].rsplit("/", 1)[1]: page for page in report["pages"]} | {
        "": report, "stdout": found["stdout"], "stderr": found["stderr"],
        "html": Path(found["html"]), "counts": found["counts"], "decisions": found["decisions"]}


def counted_after(collector: CollectorProcess, sites: PageServer) -> dict[str, Any]:
    """A hit of our own after the audit: once it is counted, so would be anything before;
    what the collector then holds."""
    hit = urllib.request.Request(f"{collector.url}/p.gif?s=demo&e=pageview&p=/sentinel&a=analytics",
                                 headers={"Referer": sites.url + "/"})
    with urllib.request.urlopen(hit, timeout=10) as answer:
        assert answer.status == 200
    collector.wait_for(lambda: collector.counts() != {})
    return {"counts": collector.counts(), "decisions": decisions(collector)}


def statuses(page: dict[str, Any]) -> dict[str, str]:
    return {check["name"]: check["status"] for check in page["checks"]}


@pytest.mark.parametrize("site, failing", CASES, ids=[c[0] for c in CASES])
def test_each_site_fails_exactly_its_check(table: dict[str, Any], site: str,
                                           failing: set[str]) -> None:
    found = statuses(table[site])
    assert {name for name, status in found.items() if status == "fail"} == failing
    assert list(found) == list(TITLES)  # every page gets every check
    if site == "no-tag.html":  # nothing to ask about: what applies passes, the rest is n/a
        assert {name for name, status in found.items() if status == "pass"} == {
            "nothing-before-consent", "no-pii"}


def test_the_good_site_passes_every_check_and_none_is_skipped(table: dict[str, Any]) -> None:
    assert statuses(table["good.html"]) == {name: "pass" for name in TITLES}


@pytest.mark.parametrize("site, check, line", EVIDENCE, ids=[f"{e[0]}-{e[1]}" for e in EVIDENCE])
def test_failures_show_what_fired_and_when(table: dict[str, Any], site: str, check: str,
                                           line: str) -> None:
    (found,) = [c for c in table[site]["checks"] if c["name"] == check]
    assert any(line in evidence for evidence in found["evidence"]), found["evidence"]


def test_the_terminal_summary_names_each_failure(table: dict[str, Any]) -> None:
    out = table["stdout"]
    for site, failing in CASES:
        block = out.split(f"/{site}\n", 1)[1].split("\n\n", 1)[0]
        assert sorted(re.findall(r"^  FAIL  ([\w-]+)", block, re.M)) == sorted(failing), block
    assert "auditing" in table["stderr"] and "first visit, no decision:" in table["stderr"]
    counts = {status: sum(list(statuses(table[site]).values()).count(status) for site, _ in CASES)
              for status in ("pass", "fail", "n/a")}
    assert counts["fail"] == sum(len(failing) for _, failing in CASES)
    assert out.rstrip().endswith(f"consentpixel audit FAILED: 6 URLs, {counts['pass']} passed, "
                                 f"{counts['fail']} failed, {counts['n/a']} n/a")


def test_the_report_never_repeats_personal_data(table: dict[str, Any]) -> None:
    text = json.dumps(table[""]) + table["stdout"]
    assert "ada.lovelace" not in text and "7946" not in text
    assert "em=:email" in text


def test_the_audit_leaves_the_statistics_alone(table: dict[str, Any]) -> None:
    assert table["counts"] == {"pageview": 1}  # our own hit, and nothing of the audit's
    assert table["decisions"] == 0


def decisions(collector: CollectorProcess) -> int:
    assert collector.db is not None
    with sqlite3.connect(collector.db) as db:
        (count,) = db.execute("SELECT coalesce(sum(count), 0) FROM consents").fetchone()
    db.close()
    return int(count)


def test_linked_pages_and_the_html_report(table: dict[str, Any]) -> None:
    page = table["good.html"]
    assert [p.rsplit("/", 1)[1] for p in page["pages"]] == ["good.html", "products.html"]
    accept = next(s for s in page["scenarios"] if s["name"] == "accept")
    assert [(r["step"], r["params"]["p"]) for r in accept["requests"] if r["kind"] == "pixel"] == [
        ("decision", "/good.html"), ("page 2", "/products.html")]
    folder = table["html"]
    html = (folder / "index.html").read_text()
    shots = re.findall(r'<img src="(screenshots/1-[^"]+)"', html)
    assert len(shots) == 6  # good.html's banner, then after each choice
    assert all((folder / shot).stat().st_size > 1000 for shot in shots)
    # words for people: "decided: no", "1 line of evidence", never Python's spelling
    assert "decided: no" in html and "decided: yes" in html and "False" not in html
    assert "1 line of evidence" in html and "1 lines" not in html


def test_live_lets_the_pixels_reach_the_collector(collector: CollectorProcess) -> None:
    sites = PageServer(SITES, collector.url)
    try:
        done = audit(sites.page("products.html"), "--live")
    finally:
        sites.close()
    assert done.returncode == 0, done.stdout + done.stderr
    # Accept all, analytics alone and GPC (which refuses only ads) each send a page view;
    # the five choices are tallied per category (two each).
    collector.wait_for(lambda: collector.counts() == {"pageview": 3}
                       and decisions(collector) == 5 * 2)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.fixture
def silent() -> Iterator[str]:
    """A server that accepts connections and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"


def test_pages_that_cannot_be_audited_get_one_line(served: tuple[CollectorProcess, PageServer],
                                                   silent: str, tmp_path: Path) -> None:
    _, sites = served
    cases = [(f"http://127.0.0.1:{free_port()}/", "cannot reach it: connection refused"),
             (sites.page("good.html").replace("http://", "https://"),
              "TLS error: ERR_SSL_PROTOCOL_ERROR"),
             (silent, "did not load within 6 s"),
             (sites.page("missing.html"), "answered 404 Not Found")]
    hidden = sites.page("banner-hidden.html")
    done = audit(*[url for url, _ in cases], hidden, "--timeout", "6", "--json",
                 str(tmp_path / "audit.json"))
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if line.startswith("consentpixel:")]
    assert errors == [f"consentpixel: {url}: {message}" for url, message in cases]
    assert "Traceback" not in done.stderr
    # A wait that runs out is a timeout, said so, not "the banner never appeared".
    page = json.loads((tmp_path / "audit.json").read_text())["pages"][-1]
    (banner,) = [c for c in page["checks"] if c["name"] == "banner-shown"]
    assert (banner["status"], banner["summary"]) == (
        "fail", "timed out after 6 s (--timeout): the banner did not appear")


def test_without_a_browser_the_command_says_so(served: tuple[CollectorProcess, PageServer]) -> None:
    _, sites = served
    done = audit(sites.page("good.html"),
                 env={**os.environ, "CONSENTPIXEL_CHROMIUM": "/nonexistent/chromium"})
    assert done.returncode == 2
    assert done.stderr.startswith("consentpixel: cannot start Chromium: ")
    assert len(done.stderr.splitlines()) == 1
