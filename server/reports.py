"""Reports: one query layer for the CLI, the JSON API and the dashboard."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from .currencies import MINOR_UNITS
from .store import Store

BREAKDOWNS = ("event", "day", "hour", "path", "source", "medium", "campaign", "content",
              "device")


@dataclass(frozen=True)
class Period:
    start: int  # seconds since the epoch, inclusive
    end: int    # exclusive

    @classmethod
    def days(cls, first: date, last: date) -> Period:
        start = datetime(first.year, first.month, first.day, tzinfo=timezone.utc)
        end = datetime(last.year, last.month, last.day, tzinfo=timezone.utc) + timedelta(days=1)
        return cls(int(start.timestamp()), int(end.timestamp()))

    @classmethod
    def last(cls, days: int, now: float | None = None) -> Period:
        today = datetime.fromtimestamp(time.time() if now is None else now, timezone.utc).date()
        return cls.days(today - timedelta(days=days - 1), today)


def major(value: int, currency: str) -> Decimal:
    """Minor units (cents) to a Decimal in the currency's major unit."""
    return Decimal(value).scaleb(-MINOR_UNITS.get(currency, 2)) if currency else Decimal(0)


def label(group: str, value: Any) -> Any:
    if group == "day":
        return datetime.fromtimestamp(value, timezone.utc).date().isoformat()
    if group == "hour":
        return datetime.fromtimestamp(value, timezone.utc).strftime("%Y-%m-%dT%H:00Z")
    return value


def breakdown(store: Store, site: str, period: Period, by: list[str]) -> list[dict[str, Any]]:
    """Counts and values per group, event and currency: each row is one cell group."""
    groups = [group for group in by if group != "event"]
    rows = []
    for row in store.totals(site, period.start, period.end, groups):
        *keys, event, currency, count, value = row
        item: dict[str, Any] = {group: label(group, key) for group, key in zip(groups, keys)}
        item.update(event=event, count=int(count), value=major(int(value), currency),
                    currency=currency)
        rows.append(item)
    return rows
