"""Reports: one query layer for the CLI, the JSON API and the dashboard.

What the figures mean (docs/reports.md says the same):

- a conversion is every counted event except page views, impressions, clicks and the
  shopping steps on the way to one (`add_to_cart`, `begin_checkout`);
- value is the conversions' values, summed per currency and never converted;
- CTR = clicks / impressions, conversion rate = conversions / clicks,
  CPA = cost / conversions, ROAS = value / cost within one currency; a ratio whose
  divisor is zero has no value (None), never 0 or infinity.

Small cells: the labels visitors bring (path, source, medium, campaign, content,
device) are shown only for combinations counting at least the site's `min_count` hits
over the whole period; rarer combinations merge into one "(other)" row, so totals
stay exact. Days, hours and event names are the site's own vocabulary, never merged.
"""

from __future__ import annotations

import csv
import io
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Iterable, Mapping, Protocol, Self, Sequence, TypeVar

from . import drops
from .buffer import OTHER
from .config import Config, Site
from .currencies import MINOR_UNITS
from .store import Store

BREAKDOWNS = ("event", "day", "hour", "path", "source", "medium", "campaign", "content",
              "device")
TIME = ("day", "hour")
LABELS = ("path", "source", "medium", "campaign", "content", "device")
COST_GROUPS = ("day", "source", "medium", "campaign")  # what a recorded cost is keyed by
NOT_CONVERSIONS = frozenset({"pageview", "impression", "click", "add_to_cart",
                             "begin_checkout"})
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2099, 12, 31)


class InputError(ValueError):
    """Bad input for a report or a cost, worded for the person who gave it."""


def is_conversion(event: str) -> bool:
    return event not in NOT_CONVERSIONS


# -- periods ------------------------------------------------------------------------


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

    @property
    def first(self) -> date:
        return datetime.fromtimestamp(self.start, timezone.utc).date()

    @property
    def final(self) -> date:
        """The last day, included."""
        return datetime.fromtimestamp(self.end - 1, timezone.utc).date()

    @property
    def day_count(self) -> int:
        return (self.end - self.start) // 86400


def parse_day(text: str, name: str) -> date:
    try:
        day = date.fromisoformat(text)
    except (TypeError, ValueError):
        raise InputError(f"{name}: {text!r} is not a day like 2026-03-01") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise InputError(f"{name}: {text} is outside {FIRST_DAY} … {LAST_DAY}")
    return day


def period_of(first: str | None, last: str | None, days: int = 30,
              now: float | None = None) -> Period:
    """The period asked for by from/to (days, UTC, both included), or the last N days."""
    if not first and not last:
        return Period.last(days, now)
    today = Period.last(1, now).first
    end = parse_day(last, "to") if last else today
    start = parse_day(first, "from") if first else end - timedelta(days=days - 1)
    if start > end:
        raise InputError(f"from: {start} is after to: {end}")
    return Period.days(start, end)


# -- labels and money ------------------------------------------------------------------


def major(value: int, currency: str) -> Decimal:
    """Minor units (cents) to a Decimal in the currency's major unit."""
    return Decimal(value).scaleb(-MINOR_UNITS.get(currency, 2)) if currency else Decimal(0)


def label(group: str, value: Any) -> Any:
    if group == "day":
        return datetime.fromtimestamp(value, timezone.utc).date().isoformat()
    if group == "hour":
        return datetime.fromtimestamp(value, timezone.utc).strftime("%Y-%m-%dT%H:00Z")
    return value


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def checked_by(by: Iterable[str]) -> tuple[str, ...]:
    groups: list[str] = []
    for group in by:
        if group not in BREAKDOWNS:
            raise InputError(f"by: {group!r} is not one of {', '.join(BREAKDOWNS)}")
        if group not in groups:
            groups.append(group)
    return tuple(groups)


# -- small cells ------------------------------------------------------------------------


def rare_combinations(weighted: Iterable[tuple[Mapping[str, Any], int]], by: Sequence[str],
                      min_count: int) -> set[tuple[Any, ...]]:
    """The label combinations that count fewer hits than min_count over the period."""
    dims = [group for group in by if group in LABELS]
    if not dims:
        return set()
    hits: Counter[tuple[Any, ...]] = Counter()
    for keys, count in weighted:
        hits[tuple(keys[d] for d in dims)] += count
    return {combination for combination, count in hits.items() if 0 < count < min_count}


def fold(keys: dict[str, Any], by: Sequence[str], rare: set[tuple[Any, ...]]
         ) -> dict[str, Any]:
    dims = [group for group in by if group in LABELS]
    if tuple(keys[d] for d in dims) not in rare:
        return keys
    return {**keys, **{d: OTHER for d in dims}}


class Row(Protocol):
    """A report row: its labels per group, the hits it weighs, and how two add up."""

    keys: dict[str, Any]
    hits: int

    def merge(self, other: Self) -> None: ...


R = TypeVar("R", bound=Row)


def merge_small_cells(rows: Iterable[R], by: Sequence[str], min_count: int) -> list[R]:
    """Rows whose labels count fewer than min_count hits over the period fold into one
    "(other)" row per remaining key (day, event, …), so totals stay exact."""
    return merged_small_cells(rows, by, min_count)[0]


def merged_small_cells(rows: Iterable[R], by: Sequence[str], min_count: int
                       ) -> tuple[list[R], int]:
    """merge_small_cells, and how many label combinations it merged."""
    given = list(rows)
    rare = rare_combinations(((row.keys, row.hits) for row in given), by, min_count)
    merged: dict[tuple[Any, ...], R] = {}
    for row in given:
        row.keys = fold(row.keys, by, rare)
        known = merged.setdefault(tuple(row.keys.values()), row)
        if known is not row:
            known.merge(row)
    return list(merged.values()), len(rare)


def merge_note(merged: int, min_count: int) -> str:
    """What a report says when it merged rows, and why; empty when it merged none."""
    if not merged:
        return ""
    combinations = "combination" if merged == 1 else "combinations"
    return (f"{merged} label {combinations} with fewer than {min_count} hits merged into "
            f"(other), so that small groups of visitors are not shown apart (min_count; "
            f"totals are exact)")


def order(keys: Mapping[str, Any]) -> tuple[tuple[bool, Any], ...]:
    """Sort keys with the "(other)" row after the labelled ones."""
    return tuple((value == OTHER, value) for value in keys.values())


# -- event rows: what `consentpixel report` prints ---------------------------------------


@dataclass
class EventCount:
    """One event in one currency, per group: a row of `consentpixel report`."""

    keys: dict[str, Any]  # the groups' labels, then the event and the currency
    hits: int = 0
    value: int = 0  # minor units

    def merge(self, other: EventCount) -> None:
        self.hits += other.hits
        self.value += other.value

    def as_dict(self) -> dict[str, Any]:
        currency = self.keys["currency"]
        labels = {key: value for key, value in self.keys.items() if key != "currency"}
        return {**labels, "count": self.hits, "value": major(self.value, currency),
                "currency": currency}


def breakdown(store: Store, site: Site, period: Period, by: Sequence[str]
              ) -> list[dict[str, Any]]:
    """Counts and values per group, event and currency, small cells merged."""
    return event_counts(store, site, period, by)[0]


def event_counts(store: Store, site: Site, period: Period, by: Sequence[str]
                 ) -> tuple[list[dict[str, Any]], int]:
    """breakdown's rows, and how many label combinations were merged into (other)."""
    by = checked_by(by)
    groups = [group for group in by if group != "event"]
    cells = []
    for *keys, event, currency, count, value in store.totals(site.name, period.start,
                                                              period.end, groups):
        labels = {group: label(group, key) for group, key in zip(groups, keys)}
        cells.append(EventCount({**labels, "event": event, "currency": currency}, int(count),
                                int(value)))
    rows, merged = merged_small_cells(cells, groups, site.min_count)
    rows.sort(key=lambda row: (order({group: row.keys[group] for group in groups}),
                               row.keys["event"], row.keys["currency"]))
    return [row.as_dict() for row in rows], merged


# -- the funnel ---------------------------------------------------------------------------


@dataclass
class Funnel:
    """The funnel figures of one report row, or of a whole report."""

    keys: dict[str, Any] = field(default_factory=dict)
    pageviews: int = 0
    impressions: int = 0
    clicks: int = 0
    conversions: int = 0
    hits: int = 0  # every counted event: what small-cell suppression weighs
    value: Counter[str] = field(default_factory=Counter)  # minor units per currency
    cost: Counter[str] | None = field(default_factory=Counter)  # None: not attributable

    def count(self, event: str, currency: str, count: int, value: int) -> None:
        self.hits += count
        if event == "pageview":
            self.pageviews += count
        elif event == "impression":
            self.impressions += count
        elif event == "click":
            self.clicks += count
        elif is_conversion(event):
            self.conversions += count
            if currency:
                self.value[currency] += value

    def merge(self, other: Funnel) -> None:
        for name in ("pageviews", "impressions", "clicks", "conversions", "hits"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.value.update(other.value)
        if self.cost is not None and other.cost is not None:
            self.cost.update(other.cost)

    @property
    def ctr(self) -> float | None:
        return ratio(self.clicks, self.impressions)

    @property
    def conversion_rate(self) -> float | None:
        return ratio(self.conversions, self.clicks)

    def money(self, amounts: Counter[str] | None) -> dict[str, Decimal]:
        return {cur: major(amount, cur) for cur, amount in sorted((amounts or {}).items())}

    def cpa(self) -> dict[str, Decimal | None]:
        """Cost per conversion in each currency money was spent in."""
        if not self.conversions:
            return {cur: None for cur in sorted(self.cost or {})}
        return {cur: major(int((Decimal(amount) / self.conversions).quantize(
                    Decimal(1), ROUND_HALF_EVEN)), cur)
                for cur, amount in sorted((self.cost or {}).items())}

    def roas(self) -> dict[str, float | None]:
        """Value returned per unit spent, within each currency money was spent in."""
        return {cur: ratio(self.value[cur], amount)
                for cur, amount in sorted((self.cost or {}).items())}

    def as_dict(self) -> dict[str, Any]:
        """For JSON: money per currency, rates as fractions rounded to 4 places."""
        return {**self.keys, "pageviews": self.pageviews, "impressions": self.impressions,
                "clicks": self.clicks, "ctr": rounded(self.ctr),
                "conversions": self.conversions,
                "conversion_rate": rounded(self.conversion_rate),
                "value": self.money(self.value),
                "cost": None if self.cost is None else self.money(self.cost),
                "cpa": self.cpa(), "roas": {c: rounded(r) for c, r in self.roas().items()}}

    def flat(self, currencies: Sequence[str]) -> dict[str, Any]:
        """For tables and CSV: one column per figure and currency (value_EUR, …)."""
        row = {key: value for key, value in self.as_dict().items()
               if key not in ("value", "cost", "cpa", "roas")}
        cpa, roas = self.cpa(), self.roas()
        for cur in currencies:
            row[f"value_{cur}"] = major(self.value[cur], cur)
            row[f"cost_{cur}"] = None if self.cost is None else major(self.cost[cur], cur)
            row[f"cpa_{cur}"] = cpa.get(cur)
            row[f"roas_{cur}"] = rounded(roas.get(cur))
        return row


def rounded(number: float | None) -> float | None:
    return None if number is None else round(number, 4)


@dataclass
class FunnelReport:
    """The funnel per group over a period, with its totals: what the API, the dashboard and
    `report --funnel` show."""

    site: str
    period: Period
    by: tuple[str, ...]
    total: Funnel
    rows: list[Funnel]
    min_count: int = 1
    merged: int = 0  # label combinations merged into (other)

    @property
    def note(self) -> str:
        return merge_note(self.merged, self.min_count)

    def currencies(self) -> list[str]:
        return sorted(set(self.total.value) | set(self.total.cost or {}))

    def columns(self) -> list[str]:
        columns = [*self.by, "pageviews", "impressions", "clicks", "ctr", "conversions",
                   "conversion_rate"]
        for cur in self.currencies():
            columns += [f"value_{cur}", f"cost_{cur}", f"cpa_{cur}", f"roas_{cur}"]
        return columns

    def as_dict(self) -> dict[str, Any]:
        return {"site": self.site, "from": self.period.first.isoformat(),
                "to": self.period.final.isoformat(), "by": list(self.by),
                "totals": self.total.as_dict(), "rows": [row.as_dict() for row in self.rows],
                **merge_fields(self.merged, self.min_count)}


def funnel(store: Store, site: Site, period: Period, by: Sequence[str] = ()
           ) -> FunnelReport:
    """Impressions → clicks → conversions → value, and cost, per group; small cells merged."""
    by = checked_by(by)
    groups = [group for group in by if group != "event"]
    rows: dict[tuple[Any, ...], Funnel] = {}
    total = Funnel()
    for *keys, event, currency, count, value in store.totals(site.name, period.start,
                                                              period.end, groups):
        labels = {group: label(group, key) for group, key in zip(groups, keys)}
        labels = {group: event if group == "event" else labels[group] for group in by}
        row = rows.setdefault(tuple(labels.values()), Funnel(labels))
        row.count(event, currency, int(count), int(value))
        total.count(event, currency, int(count), int(value))
    add_costs(store, site, period, by, rows, total)
    merged, count = merged_small_cells(rows.values(), by, site.min_count)
    return FunnelReport(site.name, period, by, total,
                        sorted(merged, key=lambda row: sort_key(row, by)), site.min_count,
                        count)


def merge_fields(merged: int, min_count: int) -> dict[str, Any]:
    """What JSON answers say about merged rows: min_count, how many, and why."""
    return {"min_count": min_count, "merged": merged, "note": merge_note(merged, min_count)}


def add_costs(store: Store, site: Site, period: Period, by: Sequence[str],
              rows: dict[tuple[Any, ...], Funnel], total: Funnel) -> None:
    """Join recorded spend to the rows it can be attributed to (day, source, …)."""
    attributable = set(by) <= set(COST_GROUPS)
    spent: Counter[str] = Counter()
    per_row: dict[tuple[Any, ...], Counter[str]] = {}
    for day, source, medium, campaign, currency, amount in store.cost_totals(
            site.name, period.start, period.end):
        spent[currency] += int(amount)
        if attributable:
            labels = {"day": label("day", day), "source": source, "medium": medium,
                      "campaign": campaign}
            keys = {group: labels[group] for group in by}
            rows.setdefault(tuple(keys.values()), Funnel(keys))
            per_row.setdefault(tuple(keys.values()), Counter())[currency] += int(amount)
    total.cost = spent
    for key, row in rows.items():
        row.cost = per_row.get(key, Counter()) if attributable else None


def sort_key(row: Funnel, by: Sequence[str]) -> tuple[Any, ...]:
    # A time series reads in time order; other rows lead with what converts most.
    times = tuple(row.keys[group] for group in by if group in TIME)
    other = OTHER in row.keys.values()
    return (times, other, -row.conversions, -row.hits, order(row.keys))


# -- consent rates --------------------------------------------------------------------------


@dataclass(frozen=True)
class Consent:
    """Decisions for one category: a visitor who changes their mind counts again."""

    category: str
    granted: int
    refused: int
    day: str = ""

    @property
    def rate(self) -> float | None:
        return ratio(self.granted, self.granted + self.refused)

    def as_dict(self) -> dict[str, Any]:
        row = {"day": self.day} if self.day else {}
        return {**row, "category": self.category, "granted": self.granted,
                "refused": self.refused, "rate": rounded(self.rate)}


def consent_rates(store: Store, site: Site, period: Period, by_day: bool = False
                  ) -> list[Consent]:
    """Granted and refused per category (and day); every category of the site is listed."""
    tallies: dict[tuple[str, str], Counter[str]] = {}
    if not by_day:
        for category in site.categories:
            tallies[("", category)] = Counter()
    for day, category, choice, count in store.consent_totals(site.name, period.start,
                                                             period.end):
        key = (label("day", day) if by_day else "", category)
        tallies.setdefault(key, Counter())[choice] += int(count)
    return [Consent(category, counts["granted"], counts["refused"], day)
            for (day, category), counts in tallies.items()]


# -- CSV -------------------------------------------------------------------------------------


def csv_text(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """CSV with labels that a spreadsheet would run as formulas defused."""
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({column: cell(row.get(column)) for column in columns})
    return out.getvalue()


def cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value  # labels come from visitors: never a formula
    return value


# -- hits not counted -------------------------------------------------------------------------


@dataclass(frozen=True)
class NotCounted:
    """Hits dropped for one reason (and detail), with the line that says what to fix."""

    site: str
    reason: str
    detail: str
    count: int
    fix: str

    def as_dict(self) -> dict[str, Any]:
        return {"site": self.site, "reason": self.reason, "detail": self.detail,
                "count": self.count, "fix": self.fix}


def not_counted(store: Store, config: Config, site: str | None, period: Period
                ) -> list[NotCounted]:
    """Why hits were not counted, most first: for one site (with the hits that named no
    configured site, which may be its own with a typo) or for all."""
    names = [site] if site else sorted(config.sites)
    rows = store.drop_totals([*names, drops.UNKNOWN_SITE], period.start, period.end)
    return [NotCounted(name, reason, detail, int(count),
                       drops.explain(config, name, reason, detail))
            for name, reason, detail, count in rows]
