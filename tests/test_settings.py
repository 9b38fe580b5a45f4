"""Every setting is documented in the README, with its default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from consentpixel import settings

README = (Path(__file__).parents[1] / "README.md").read_text()
ALL = [(table, setting) for table, group in settings.ALL.items() for setting in group]


@pytest.mark.parametrize("table, setting", ALL, ids=lambda v: getattr(v, "name", v))
def test_every_setting_is_in_the_readme(table: str, setting: settings.Setting) -> None:
    row = next((line for line in README.splitlines()
                if line.startswith(f"| `{setting.name}` ") and f"{table}" in line), None)
    assert row is not None, f"README lacks a row for {table}.{setting.name}"
    default = setting.default
    shown = json.dumps(default) if not isinstance(default, bool) else str(default).lower()
    assert f"`{shown}`" in row or (default in ({}, [], "") and "—" in row), row
