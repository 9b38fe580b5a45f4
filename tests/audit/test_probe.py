"""probe.js, what the audit runs inside pages: it parses as sent, it only reads the
page, and Python asks it only for the functions it defines."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from consentpixel.audit import probe

AUDIT = Path(probe.__file__).parent


def node_check(script: str) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    assert node, "checking probe.js needs Node.js (`make test` installs it with apt)"
    return subprocess.run([node, "--check", "-"], input=script, capture_output=True,
                          text=True, timeout=30)


def called() -> set[str]:
    """The probe.js functions the audit's Python hands to Playwright."""
    text = "".join(path.read_text() for path in AUDIT.glob("*.py"))
    return set(re.findall(r'(?:page_function|init_script)\("(\w+)"\)', text))


def test_it_parses() -> None:
    done = node_check(probe.SOURCE)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("name", sorted(probe.FUNCTIONS))
def test_each_function_parses_as_playwright_gets_it(name: str) -> None:
    for script in (f"const f = {probe.page_function(name)};", probe.init_script(name)):
        done = node_check(script)
        assert done.returncode == 0, done.stderr


def test_python_calls_every_function_and_only_those() -> None:
    assert called() == probe.FUNCTIONS
    with pytest.raises(ValueError, match="probe.js has no function readEverything"):
        probe.page_function("readEverything")


def test_it_only_reads_the_page() -> None:
    # No eval, nothing sent, stored or written: only the two init scripts change
    # anything (a listener, navigator.globalPrivacyControl), and decideByApi, which
    # answers a consent manager through its own API.
    assert not re.search(r"\beval\(|new Function|setTimeout\(['\"]|fetch\(|XMLHttpRequest|"
                         r"sendBeacon|\.setItem\(|\.removeItem\(|\.cookie\s*=|innerHTML|"
                         r"\.style\b|document\.write", probe.SOURCE)
    assert re.findall(r"\bwindow\.(\w+)\s*=", probe.SOURCE) == ["__consentpixelAudit"]
    assert re.findall(r"defineProperty\((\w+)", probe.SOURCE) == ["Navigator"]


# -- the consent managers, by their globals, markup and APIs, without a browser ---------

# Each runs in a Node.js sandbox that stands in for a page: `globals` is JavaScript that
# defines the manager's globals as its own documentation names them, recording each call
# in `calls`; `markup` is the one selector the page's markup matches.
RECOGNISE = """
const vm = require('vm');
const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const out = {};
for (const c of cases) {
  const element = {matches: s => s === c.markup};
  const sandbox = {calls: [], Promise, document: {querySelector: selectors =>
    selectors.split(', ').includes(c.markup) ? element : null}};
  sandbox.window = sandbox;
  vm.createContext(sandbox);
  vm.runInContext(c.globals, sandbox);
  const found = vm.runInContext(`(${c.recognise})()`, sandbox);
  const answers = ['reject', 'accept'].map(action => vm.runInContext(
    `(${c.decide})(${JSON.stringify([found && found.name, action])})`, sandbox));
  out[c.id] = {found, answers, calls: sandbox.calls};
}
setTimeout(() => console.log(JSON.stringify(out)), 0);  // after the promises' calls
"""
COMMERCIAL = [
    # case, globals, markup → name, evidence, (the API call to reject, to accept), calls
    ("OneTrust", "window.OneTrust = {RejectAll: () => calls.push('RejectAll'), "
     "AllowAll: () => calls.push('AllowAll'), IsAlertBoxClosed: () => false};", "",
     "OneTrust", "its JavaScript global", ("OneTrust.RejectAll()", "OneTrust.AllowAll()"),
     ["RejectAll", "AllowAll"]),
    ("OneTrust markup", "", "#onetrust-banner-sdk", "OneTrust",
     "its markup (#onetrust-banner-sdk)", ("", ""), []),
    ("Cookiebot", "window.CookieConsent = {}; window.Cookiebot = {hasResponse: false, "
     "submitCustomConsent: (...a) => calls.push('submitCustomConsent ' + a)};", "",
     "Cookiebot", "its JavaScript global",
     ("Cookiebot.submitCustomConsent(false, false, false)",
      "Cookiebot.submitCustomConsent(true, true, true)"),
     ["submitCustomConsent false,false,false", "submitCustomConsent true,true,true"]),
    ("Cookiebot markup", "", "#CybotCookiebotDialog", "Cookiebot",
     "its markup (#CybotCookiebotDialog)", ("", ""), []),
    ("Didomi", "window.Didomi = {setUserDisagreeToAll: () => calls.push('disagree'), "
     "setUserAgreeToAll: () => calls.push('agree')};", "", "Didomi", "its JavaScript global",
     ("Didomi.setUserDisagreeToAll()", "Didomi.setUserAgreeToAll()"), ["disagree", "agree"]),
    ("Didomi markup", "", "#didomi-host", "Didomi", "its markup (#didomi-host)", ("", ""), []),
    ("Usercentrics", "window.UC_UI = {denyAllConsents: () => (calls.push('deny'), "
     "Promise.resolve()), acceptAllConsents: () => (calls.push('accept'), Promise.resolve()), "
     "closeCMP: () => calls.push('close')};", "", "Usercentrics", "its JavaScript global",
     ("UC_UI.denyAllConsents()", "UC_UI.acceptAllConsents()"),
     ["deny", "accept", "close", "close"]),
    ("Usercentrics markup", "", "#usercentrics-root", "Usercentrics",
     "its markup (#usercentrics-root)", ("", ""), []),
    ("Quantcast Choice", "", "#qc-cmp2-container", "Quantcast Choice",
     "its markup (#qc-cmp2-container)", ("", ""), []),
    ("Complianz", "window.cmplz_deny_all = () => calls.push('deny'); "
     "window.cmplz_accept_all = () => calls.push('accept');", "", "Complianz",
     "its JavaScript global", ("cmplz_deny_all()", "cmplz_accept_all()"), ["deny", "accept"]),
    ("Complianz markup", "", ".cmplz-cookiebanner", "Complianz",
     "its markup (.cmplz-cookiebanner)", ("", ""), []),
    ("none", "window.CookieConsent = {}; window.klaro = {};", "#our-banner", None, "",
     ("", ""), []),
]


@pytest.fixture(scope="module")
def recognised() -> dict[str, Any]:
    node = shutil.which("node")
    assert node, "checking probe.js needs Node.js (`make test` installs it with apt)"
    cases = [{"id": case, "globals": globals, "markup": markup,
              "recognise": probe.page_function("recogniseManager"),
              "decide": probe.page_function("decideByApi")}
             for case, globals, markup, *_ in COMMERCIAL]
    done = subprocess.run([node, "-e", RECOGNISE], input=json.dumps(cases),
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize("case, globals, markup, name, evidence, api, calls", COMMERCIAL,
                         ids=[c[0] for c in COMMERCIAL])
def test_the_commercial_managers_are_recognised_and_answered_through_their_apis(
        recognised: dict[str, Any], case: str, globals: str, markup: str, name: str | None,
        evidence: str, api: tuple[str, str], calls: list[str]) -> None:
    found = recognised[case]
    if name is None:
        assert found["found"] is None
        return
    assert found["found"] == {"name": name, "evidence": evidence, "api": name not in (
        "Quantcast Choice",)}
    # Markup alone is no API to call: the audit then clicks, as a visitor does.
    assert tuple(found["answers"]) == api
    assert found["calls"] == calls


# -- idleAfter: a step ends only once the page's main thread has been idle -------------

IDLE = """
const vm = require('vm');
const idle = [];  // the callbacks requestIdleCallback was given, run when the test says
const sandbox = {requestIdleCallback: callback => idle.push(callback),
                 __consentpixelAudit: {events: []}};  // as the audit's init script leaves it
sandbox.window = sandbox;
vm.createContext(sandbox);
const call = token => vm.runInContext(`(${PROBE})(${token})`, sandbox);
const seen = [];
seen.push(call(1));                       // asked first: not yet idle
seen.push(call(1));                       // the page has been busy since
idle.splice(0).forEach(f => f());         // now its main thread idles
seen.push(call(1));
seen.push(call(2));                       // asked afresh (the network was busy again)
seen.push(call(2));
idle.splice(0).forEach(f => f());
seen.push(call(2));
sandbox.__consentpixelAudit = undefined;  // a page the init script did not see
seen.push(call(3));
console.log(JSON.stringify(seen));
"""


def test_idleness_counts_only_from_the_token_it_was_asked_with() -> None:
    node = shutil.which("node")
    assert node, "running probe.js needs Node.js (`make test` installs it with apt)"
    script = f"const PROBE = {json.dumps(probe.page_function('idleAfter'))};\n{IDLE}"
    done = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [False, False, True, False, False, True, True]
