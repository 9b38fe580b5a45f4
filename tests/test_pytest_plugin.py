"""The pytest plugin as installed: registered, harmless without Playwright, documented.

Its machinery is tested in tests/testing/; its fixtures at work in a browser in
e2e/test_pytest_plugin.py and the documented example (docs/testing.md), e2e/test_plugin_example.py.
"""

from __future__ import annotations

import re
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def test_installing_consentpixel_registers_the_plugin() -> None:
    (plugin,) = [e for e in entry_points(group="pytest11") if e.name == "consentpixel"]
    assert plugin.value == "consentpixel.pytest_plugin"


def test_loading_the_plugin_loads_nothing_else() -> None:
    # Every pytest run in an environment with consentpixel loads the plugin.
    loaded = ("import sys, consentpixel.pytest_plugin; print(sorted(m for m in sys.modules "
              "if m.startswith(('consentpixel.', 'playwright', 'publicsuffixlist'))))")
    done = subprocess.run([sys.executable, "-c", loaded], capture_output=True, text=True,
                          timeout=60)
    assert done.stdout.strip() == "['consentpixel.pytest_plugin']", done.stderr


def test_the_names_a_suite_imports_from_the_plugin() -> None:
    from consentpixel import pytest_plugin, testing

    assert (pytest_plugin.CollectorProcess, pytest_plugin.PageServer, pytest_plugin.Visit) == (
        testing.CollectorProcess, testing.PageServer, testing.Visit)
    for name in ("Session", "Collector"):  # Collector is the collector's own state
        with pytest.raises(AttributeError, match=f"no attribute '{name}'"):
            getattr(pytest_plugin, name)


def test_a_suite_without_playwright_still_runs(tmp_path: Path) -> None:
    # A user's suite that never heard of Playwright: the plugin loads (it registers its
    # options), its collector fixture works, and nothing imports Playwright.
    (tmp_path / "test_theirs.py").write_text(
        "import sys\n\n"
        "def test_theirs(request, cpx_collector):\n"
        "    assert request.config.pluginmanager.has_plugin('consentpixel')\n"
        "    assert cpx_collector.counts() == {}\n"
        "    assert sys.modules['playwright'] is None\n")
    blocked = ("import sys; sys.modules['playwright'] = None; import pytest; "
               "sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider', 'test_theirs.py']))")
    done = subprocess.run([sys.executable, "-c", blocked], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout


def test_the_documented_example_is_the_test_the_suite_runs() -> None:
    docs = (ROOT / "docs" / "testing.md").read_text()
    block = re.search(r"<!-- e2e/test_plugin_example.py -->\n```python\n(.*?)```", docs, re.S)
    assert block, "docs/testing.md lacks the plugin example"
    assert block.group(1) == (ROOT / "e2e" / "test_plugin_example.py").read_text()
