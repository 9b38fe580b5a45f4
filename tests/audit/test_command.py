"""`consentpixel audit`: the command's mistakes, each one line (no browser needed).

The browser side runs in e2e/test_audit.py against real pages and a real collector.
"""

from __future__ import annotations

import subprocess
import sys

import pytest


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "consentpixel", "audit", *args],
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("args, message", [
    (["shop.example"], "'shop.example' is not an http or https URL"),
    (["ftp://shop.example/"], "'ftp://shop.example/' is not an http or https URL"),
    (["http://shop.example/", "--pages", "0"], "--pages must be 1 or more"),
    (["http://shop.example/", "--trackers", "/nonexistent/trackers.toml"],
     "/nonexistent/trackers.toml: No such file or directory"),
])
def test_usage_mistakes_are_one_line(args: list[str], message: str) -> None:
    done = run(*args)
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith(f"consentpixel: {message}")
