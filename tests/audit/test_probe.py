"""probe.js, what the audit runs inside pages: it parses as sent, it only reads the
page, and Python asks it only for the functions it defines."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

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
