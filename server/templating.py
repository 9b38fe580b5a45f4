"""The one Jinja environment: the collector's pages, the demo shop, the dashboard and the
audit's HTML report, all autoescaped, with the filters the dashboard formats figures by.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Mapping

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.templating import Jinja2Templates

from .currencies import MINOR_UNITS

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£", "JPY": "¥"}


def money(amount: Decimal | None, currency: str) -> str:
    if amount is None:
        return "—"
    text = f"{amount:,.{MINOR_UNITS.get(currency, 2)}f}"
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def amounts(values: Mapping[str, Decimal | None] | None) -> str:
    """Money in each currency, e.g. "€49.90 · $12.00"; a dash when there is none."""
    shown = [money(amount, cur) for cur, amount in (values or {}).items()
             if amount is not None]
    return " · ".join(shown) or "—"


def percent(fraction: float | None) -> str:
    return "—" if fraction is None else f"{fraction * 100:.1f} %"


def multiple(values: Mapping[str, float | None]) -> str:
    shown = [f"{roas:.2f}×" + ("" if len(values) == 1 else f" {cur}")
             for cur, roas in values.items() if roas is not None]
    return " · ".join(shown) or "—"


def count(number: int) -> str:
    return f"{number:,}"


def shown_label(value: str) -> str:
    return value or "—"


environment = Environment(loader=PackageLoader("consentpixel", "templates"),
                          autoescape=select_autoescape(default=True))
environment.filters.update(money=money, amounts=amounts, percent=percent,
                           multiple=multiple, count=count, label=shown_label)
# Starlette's renderer over the same environment: it adds url_for for the pages.
templates = Jinja2Templates(env=environment)
