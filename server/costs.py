"""Costs: a campaign's spend per day, recorded from the CLI, the API or the dashboard.

Spend is set, not added: recording a day again replaces it. Its labels are cleaned like
the ones visitors bring, so reports.funnel joins spend to the clicks and conversions of
the same campaign and day, and reads CPA and ROAS from them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any, Mapping

from .config import Site
from .currencies import MINOR_UNITS
from .privacy import clean_label
from .reports import InputError, Period, major, parse_day
from .store import Store

FIELDS = ("day", "link", "source", "medium", "campaign", "amount", "currency")
MAX_COST = Decimal(1_000_000_000)
AMOUNT = re.compile(r"^\d{1,12}(?:\.(\d{1,6}))?$", re.A)
SURROGATE = re.compile("[\ud800-\udfff]")  # half of a UTF-16 pair: JSON's \ud800, argv's bytes


@dataclass(frozen=True)
class Cost:
    day: date
    source: str
    medium: str
    campaign: str
    currency: str
    amount: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "source": self.source, "medium": self.medium,
                "campaign": self.campaign, "currency": self.currency, "amount": self.amount}


def parse_cost(site: Site, fields: Mapping[str, Any]) -> Cost:
    """Spend for one campaign and day, from the CLI, the API or the dashboard's form."""
    for name in fields:
        if name not in FIELDS:
            raise InputError(f"{name}: unknown field (known: {', '.join(FIELDS)})")
    day = parse_day(text_field(fields, "day"), "day")
    source, medium, campaign = campaign_labels(site, fields)
    currency = (text_field(fields, "currency", required=False) or site.currency).upper()
    if currency not in MINOR_UNITS:
        raise InputError(f"currency: {currency!r} is not an ISO 4217 currency code")
    spend = parse_amount(fields.get("amount"), currency)
    return Cost(day, source, medium, campaign, currency, spend)


def text_field(fields: Mapping[str, Any], name: str, required: bool = True) -> str:
    value = fields.get(name)
    if value is None or value == "":
        if required:
            raise InputError(f"{name}: required")
        return ""
    if not isinstance(value, str):
        raise InputError(f"{name}: must be a string, not {value!r}")
    if not value.isascii() and SURROGATE.search(value):
        raise InputError(f"{name}: {value!r} holds a lone surrogate, which is not text")
    return value.strip()


def campaign_labels(site: Site, fields: Mapping[str, Any]) -> tuple[str, str, str]:
    """source, medium, campaign: named, or taken from one of the site's click links.

    Labels are cleaned like the ones visitors bring, so spend meets its clicks and
    conversions in the same rows.
    """
    link_id = text_field(fields, "link", required=False)
    if link_id:
        if any(fields.get(name) for name in ("source", "medium", "campaign")):
            raise InputError("link: give a link or source, medium and campaign, not both")
        link = site.links.get(link_id)
        if link is None:
            raise InputError(f"link: {link_id!r} is not a link of site {site.name!r}")
        return clean_label(link.source), clean_label(link.medium), clean_label(link.campaign)
    labels = []
    for name in ("source", "medium", "campaign"):
        cleaned = clean_label(text_field(fields, name, required=False))
        if not cleaned:
            raise InputError(f"{name}: required (or give one of the site's links)")
        labels.append(cleaned)
    return labels[0], labels[1], labels[2]


def parse_amount(raw: Any, currency: str) -> Decimal:
    if isinstance(raw, bool) or raw is None or raw == "":
        raise InputError("amount: required, e.g. 120.50")
    text = str(raw).strip() if isinstance(raw, (str, int, float, Decimal)) else ""
    match = AMOUNT.match(text)
    if not match:
        raise InputError(f"amount: {raw!r} is not an amount like 120.50")
    digits = MINOR_UNITS[currency]
    if len((match.group(1) or "").rstrip("0")) > digits:
        raise InputError(f"amount: {currency} has {digits} decimal places, not more")
    value = Decimal(text)
    if value > MAX_COST:
        raise InputError(f"amount: more than {MAX_COST:,} is not a day's spend")
    return value


def record_cost(store: Store, site: Site, cost: Cost) -> None:
    """Set a campaign's spend for a day; recording it again replaces it."""
    record_costs(store, site, [cost])


def record_costs(store: Store, site: Site, costs: list[Cost]) -> None:
    """Set spend for several campaigns and days in one transaction: all or none."""
    store.add_costs(site.name, [
        (Period.days(cost.day, cost.day).start, cost.source, cost.medium, cost.campaign,
         cost.currency, int(cost.amount.scaleb(MINOR_UNITS[cost.currency])))
        for cost in costs])


def recorded(store: Store, site: Site, period: Period) -> list[Cost]:
    """The spend recorded for the period, a row per day and campaign."""
    return [Cost(datetime.fromtimestamp(day, timezone.utc).date(), source, medium, campaign,
                 currency, major(int(amount), currency))
            for day, source, medium, campaign, currency, amount
            in store.cost_totals(site.name, period.start, period.end)]
