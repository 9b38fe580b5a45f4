"""Every setting is documented in docs/configuration.md, with its default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from consentpixel import settings

DOCS = (Path(__file__).parents[1] / "docs" / "configuration.md").read_text()
ALL = [(table, setting) for table, group in settings.ALL.items() for setting in group]


@pytest.mark.parametrize("table, setting", ALL, ids=lambda v: getattr(v, "name", v))
def test_every_setting_is_documented(table: str, setting: settings.Setting) -> None:
    row = next((line for line in DOCS.splitlines()
                if line.startswith(f"| `{setting.name}` ") and f"{table}" in line), None)
    assert row is not None, f"docs/configuration.md lacks a row for {table}.{setting.name}"
    default = setting.default
    shown = json.dumps(default) if not isinstance(default, bool) else str(default).lower()
    assert f"`{shown}`" in row or (default in ({}, [], "") and "—" in row), row
    assert row.rstrip(" |").endswith(setting.help), f"the help of {table}.{setting.name} differs"
