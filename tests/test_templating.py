"""The one Jinja environment: every template autoescaped, the dashboard's filters, one home."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest

from consentpixel import templating
from consentpixel.audit import report

SERVER = Path(templating.__file__).parent
TEMPLATES = sorted(path.relative_to(SERVER / "templates").as_posix()
                   for path in (SERVER / "templates").rglob("*.html"))


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_template_autoescapes(name: str) -> None:
    template = templating.templates.env.get_template(name)
    assert template.environment.autoescape(name) is True, name
    source = Path(template.filename or "").read_text()
    assert not re.search(r"\|\s*safe\b|autoescape false", source), name


def test_the_dashboard_templates_are_all_checked() -> None:
    assert {f"dashboard/{name}" for name in ("base.html", "login.html", "index.html",
                                             "chart.html", "unavailable.html")
            } <= set(TEMPLATES)
    assert "audit/report.html" in TEMPLATES and "demo/thanks.html" in TEMPLATES


def test_one_environment_for_the_pages_and_the_audit_report() -> None:
    assert templating.templates.env is templating.environment
    assert report.environment is templating.environment
    builders = [path.relative_to(SERVER).as_posix() for path in SERVER.rglob("*.py")
                if re.search(r"\b(Jinja2Templates|Environment)\(", path.read_text())]
    assert builders == ["templating.py"]


# value, currency -> shown
MONEY = [
    (Decimal("1234.5"), "EUR", "€1,234.50"),
    (Decimal("12"), "USD", "$12.00"),
    (Decimal("333"), "JPY", "¥333"),
    (Decimal("3.333"), "KWD", "3.333 KWD"),
    (None, "EUR", "—"),
]


@pytest.mark.parametrize("amount, currency, shown", MONEY)
def test_money_keeps_each_currencys_decimals(amount: Decimal | None, currency: str,
                                             shown: str) -> None:
    assert templating.money(amount, currency) == shown


def test_the_other_filters() -> None:
    assert templating.amounts({"EUR": Decimal("49.9"), "USD": Decimal(12), "GBP": None}) == (
        "€49.90 · $12.00")
    assert templating.amounts({}) == templating.amounts(None) == "—"
    assert (templating.percent(0.25), templating.percent(None)) == ("25.0 %", "—")
    assert templating.multiple({"EUR": 4.0}) == "4.00×"
    assert templating.multiple({"EUR": 4.0, "USD": None, "GBP": 0.5}) == "4.00× EUR · 0.50× GBP"
    assert templating.multiple({"EUR": None}) == "—"
    assert (templating.count(1234567), templating.shown_label(""),
            templating.shown_label("x")) == ("1,234,567", "—", "x")
    assert set(templating.environment.filters) >= {"money", "amounts", "percent", "multiple",
                                                   "count", "label"}
