"""The query layer: funnel math, small-cell merging, costs joined, consent rates, CSV."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import pytest
from hypothesis import given, settings, strategies as st

from consentpixel import costs, demo, reports
from consentpixel.buffer import OTHER, Batch, ConsentKey
from consentpixel.config import Site
from consentpixel.reports import Funnel, InputError, Period
from consentpixel.store import Store, open_store

from .helpers import DAY, T0, cell, seed

MARCH = Period.days(date(2026, 3, 1), date(2026, 3, 31))


def demo_site(**changes: Any) -> Site:
    return replace(demo.config().sites["demo"], **changes)


SITE = demo_site()


def figures(impressions: int = 0, clicks: int = 0, conversions: int = 0,
            value: dict[str, int] | None = None, cost: dict[str, int] | None = None) -> Funnel:
    funnel = Funnel(impressions=impressions, clicks=clicks, conversions=conversions)
    funnel.value.update(value or {})
    assert funnel.cost is not None
    funnel.cost.update(cost or {})
    return funnel


# -- the math ------------------------------------------------------------------------

# impressions, clicks, conversions, value (cents), cost (cents) -> CTR, CVR, CPA, ROAS
MATH = [
    (1000, 50, 5, 24950, 10000, 0.05, 0.1, Decimal("20.00"), 2.495),
    (200, 10, 3, 3000, 1000, 0.05, 0.3, Decimal("3.33"), 3.0),   # CPA rounds to the cent
    (0, 10, 2, 5000, 2500, None, 0.2, Decimal("12.50"), 2.0),    # no impressions: no CTR
    (100, 0, 0, 0, 2500, 0.0, None, None, 0.0),                  # no clicks: no CVR, no CPA
    (100, 10, 1, 4990, 0, 0.1, 0.1, Decimal("0.00"), None),      # nothing spent: no ROAS
    (0, 0, 0, 0, 0, None, None, None, None),
]


@pytest.mark.parametrize("impressions, clicks, conversions, value, cost, ctr, cvr, cpa, roas",
                         MATH)
def test_rates_and_their_divisors(impressions: int, clicks: int, conversions: int,
                                  value: int, cost: int, ctr: float | None,
                                  cvr: float | None, cpa: Decimal | None,
                                  roas: float | None) -> None:
    funnel = figures(impressions, clicks, conversions, {"EUR": value}, {"EUR": cost})
    assert funnel.ctr == (pytest.approx(ctr) if ctr is not None else None)
    assert funnel.conversion_rate == (pytest.approx(cvr) if cvr is not None else None)
    assert funnel.cpa() == {"EUR": cpa}
    assert funnel.roas() == {"EUR": pytest.approx(roas) if roas is not None else None}


def test_cpa_keeps_each_currencys_decimals() -> None:
    funnel = figures(conversions=3, cost={"JPY": 1000, "KWD": 10000})
    assert funnel.cpa() == {"JPY": Decimal("333"), "KWD": Decimal("3.333")}


def test_several_currencies_are_never_mixed(store: Store) -> None:
    seed(store, {cell("purchase", "spring", currency="EUR"): (2, 10000),
                 cell("purchase", "spring", currency="USD"): (1, 3000)})
    costs.record_cost(store, SITE, costs.parse_cost(SITE, {
        "day": "2026-03-01", "source": "newsletter", "medium": "email", "campaign": "spring",
        "amount": "25"}))
    total = reports.funnel(store, SITE, MARCH).total
    assert total.conversions == 3
    assert total.money(total.value) == {"EUR": Decimal("100.00"), "USD": Decimal("30.00")}
    # Spend was in euros: CPA divides it by every conversion, ROAS compares euros only.
    assert total.cpa() == {"EUR": Decimal("8.33")}
    assert total.roas() == {"EUR": 4.0}
    row = total.flat(["EUR", "USD"])
    assert (row["value_USD"], row["cost_USD"], row["roas_USD"]) == (Decimal("30.00"), 0, None)


# event -> counted as a conversion?
KINDS = [("pageview", False), ("impression", False), ("click", False),
         ("add_to_cart", False), ("begin_checkout", False), ("purchase", True),
         ("signup", True), ("lead", True), ("download", True), ("newsletter", True)]


@pytest.mark.parametrize("event, converts", KINDS)
def test_what_counts_as_a_conversion(store: Store, event: str, converts: bool) -> None:
    seed(store, {cell(event, currency="EUR"): (4, 1999)})
    total = reports.funnel(store, SITE, MARCH).total
    assert total.conversions == (4 if converts else 0)
    assert total.money(total.value) == ({"EUR": Decimal("19.99")} if converts else {})
    assert total.hits == 4


def test_the_funnel_counts_each_stage(store: Store) -> None:
    seed(store, {cell("impression", "spring"): (400, 0), cell("click", "spring"): (20, 0),
                 cell("pageview", "spring"): (18, 0),
                 cell("add_to_cart", "spring", currency="EUR"): (6, 6000),
                 cell("purchase", "spring", currency="EUR"): (4, 19960)})
    (row,) = reports.funnel(store, SITE, MARCH, ["campaign"]).rows
    assert row.as_dict() == {
        "campaign": "spring", "pageviews": 18, "impressions": 400, "clicks": 20, "ctr": 0.05,
        "conversions": 4, "conversion_rate": 0.2, "value": {"EUR": Decimal("199.60")},
        "cost": {}, "cpa": {}, "roas": {}}


# -- small cells ---------------------------------------------------------------------


def test_rare_labels_merge_into_one_other_row(store: Store) -> None:
    seed(store, {cell("purchase", "spring", currency="EUR"): (5, 5000),
                 cell("purchase", "rare-one", currency="EUR"): (1, 1000),
                 cell("pageview", "rare-two"): (2, 0),
                 cell("purchase", OTHER, currency="EUR"): (1, 700)})  # folded by the buffer
    report = reports.funnel(store, SITE, MARCH, ["campaign"])
    assert [(r.keys["campaign"], r.hits, r.conversions) for r in report.rows] == [
        ("spring", 5, 5), (OTHER, 4, 2)]
    assert report.rows[1].money(report.rows[1].value) == {"EUR": Decimal("17.00")}
    assert report.total.hits == 9 and report.total.conversions == 7


def test_a_label_is_weighed_over_the_whole_period(store: Store) -> None:
    """One hit a day for three days is one campaign with three hits, shown every day."""
    seed(store, {cell("purchase", "drip", period=T0 + n * DAY, currency="EUR"): (1, 500)
                 for n in range(3)} | {cell("purchase", "once", currency="EUR"): (2, 500)})
    rows = reports.funnel(store, SITE, MARCH, ["day", "campaign"]).rows
    assert [(r.keys["day"], r.keys["campaign"], r.conversions) for r in rows] == [
        ("2026-03-01", "drip", 1), ("2026-03-01", OTHER, 2),
        ("2026-03-02", "drip", 1), ("2026-03-03", "drip", 1)]


def test_days_and_events_are_never_merged(store: Store) -> None:
    seed(store, {cell("signup", period=T0): (1, 0), cell("purchase", period=T0 + DAY): (1, 0)})
    by_day = reports.funnel(store, SITE, MARCH, ["day"]).rows
    assert [(r.keys["day"], r.conversions) for r in by_day] == [("2026-03-01", 1),
                                                                  ("2026-03-02", 1)]
    events = reports.breakdown(store, SITE, MARCH, ["event"])
    assert [(r["event"], r["count"]) for r in events] == [("purchase", 1), ("signup", 1)]


def test_min_count_one_shows_everything(store: Store) -> None:
    seed(store, {cell("purchase", "rare"): (1, 0)})
    rows = reports.funnel(store, demo_site(min_count=1), MARCH, ["campaign"]).rows
    assert [r.keys["campaign"] for r in rows] == ["rare"]


def test_event_rows_merge_small_cells_too(store: Store) -> None:
    seed(store, {cell("pageview", path="/beans"): (7, 0),
                 cell("purchase", path="/thanks/jane", currency="EUR"): (1, 4990),
                 cell("pageview", path="/thanks/jane"): (1, 0)})
    rows = reports.breakdown(store, SITE, MARCH, ["path"])
    assert rows == [
        {"path": "/beans", "event": "pageview", "count": 7, "value": 0, "currency": ""},
        {"path": OTHER, "event": "pageview", "count": 1, "value": 0, "currency": ""},
        {"path": OTHER, "event": "purchase", "count": 1, "value": Decimal("49.90"),
         "currency": "EUR"}]


def test_one_merge_for_event_rows_and_funnel_rows() -> None:
    def event(campaign: str, name: str, hits: int, value: int = 0) -> reports.EventCount:
        return reports.EventCount({"campaign": campaign, "event": name,
                                   "currency": "EUR" if value else ""}, hits, value)

    merged = reports.merge_small_cells(
        [event("big", "purchase", 5, 500), event("rare-a", "purchase", 1, 100),
         event("rare-b", "purchase", 1, 200), event("rare-b", "signup", 1)], ["campaign"], 3)
    assert [(row.keys, row.hits, row.value) for row in merged] == [
        ({"campaign": "big", "event": "purchase", "currency": "EUR"}, 5, 500),
        ({"campaign": OTHER, "event": "purchase", "currency": "EUR"}, 2, 300),
        ({"campaign": OTHER, "event": "signup", "currency": ""}, 1, 0)]
    funnels = reports.merge_small_cells(
        [Funnel({"day": "2026-03-01", "campaign": "big"}, clicks=4, hits=4),
         Funnel({"day": "2026-03-01", "campaign": "rare"}, clicks=1, hits=1),
         Funnel({"day": "2026-03-02", "campaign": "rare"}, clicks=1, hits=1),
         Funnel({"day": "2026-03-02", "campaign": "also-rare"}, clicks=1, hits=1)],
        ["day", "campaign"], 3)
    assert [(row.keys["day"], row.keys["campaign"], row.clicks) for row in funnels] == [
        ("2026-03-01", "big", 4), ("2026-03-01", OTHER, 1), ("2026-03-02", OTHER, 2)]


CELLS = st.dictionaries(
    st.builds(lambda event, campaign, path, day, currency: cell(
                  event, campaign, path=path, period=T0 + day * DAY,
                  currency=currency if event == "purchase" else ""),
              st.sampled_from(["pageview", "click", "impression", "purchase", "add_to_cart"]),
              st.sampled_from(["", "a", "b", "c", "d"]), st.sampled_from(["/", "/x", "/y"]),
              st.integers(0, 3), st.sampled_from(["EUR", "USD"])),
    st.tuples(st.integers(1, 6), st.integers(0, 10_000)), max_size=25)


@settings(max_examples=60, deadline=None)
@given(cells=CELLS, min_count=st.integers(0, 8),
       by=st.sampled_from([["campaign"], ["path"], ["day", "campaign"], ["path", "campaign"],
                           ["event", "path"], ["source", "medium", "campaign"]]))
def test_merging_keeps_totals_exact(cells: dict[Any, tuple[int, int]], min_count: int,
                                    by: list[str]) -> None:
    store = open_store("sqlite:///:memory:")
    try:
        seed(store, cells)
        site = demo_site(min_count=min_count)
        report = reports.funnel(store, site, MARCH, by)
        events = reports.breakdown(store, site, MARCH, by)
    finally:
        store.close()
    summed = Funnel()
    for row in report.rows:
        summed.merge(row)
    total = report.total
    assert (summed.hits, summed.conversions, summed.clicks, summed.impressions) == (
        total.hits, total.conversions, total.clicks, total.impressions)
    assert +summed.value == +total.value
    assert sum(row["count"] for row in events) == total.hits
    labels = [group for group in by if group in reports.LABELS]
    weight: dict[tuple[str, ...], int] = {}
    for row in report.rows:
        key = tuple(row.keys[g] for g in labels)
        weight[key] = weight.get(key, 0) + row.hits
    for key, hits in weight.items():
        assert OTHER in key or hits >= min_count, f"{key} shown with {hits} hits"


# -- costs joined to the funnel ---------------------------------------------------------


@pytest.fixture
def spent(store: Store) -> Iterator[Store]:
    seed(store, {cell("click", "spring", period=T0): (10, 0),
                 cell("purchase", "spring", period=T0 + DAY, currency="EUR"): (4, 20000),
                 cell("pageview", path="/beans"): (5, 0)})
    for day, amount in (("2026-03-01", "30"), ("2026-03-02", "20"), ("2026-03-02", "10")):
        costs.record_cost(store, SITE, costs.parse_cost(SITE, {
            "day": day, "link": "spring-sale", "amount": amount}))
    costs.record_cost(store, SITE, costs.parse_cost(SITE, {
        "day": "2026-03-01", "source": "newsletter", "medium": "email", "campaign": "spring",
        "amount": "40"}))
    yield store


def test_cost_joins_rows_by_campaign_and_day(spent: Store) -> None:
    by_campaign = {r.keys["campaign"]: r for r in
                   reports.funnel(spent, SITE, MARCH, ["campaign"]).rows}
    spring = by_campaign["spring"]
    assert (spring.conversions, spring.cpa(), spring.roas()) == (
        4, {"EUR": Decimal("10.00")}, {"EUR": 5.0})
    # Spend without a single hit still shows: the row says what was paid for nothing.
    assert by_campaign["spring-sale"].hits == 0
    assert by_campaign["spring-sale"].money(by_campaign["spring-sale"].cost) == {
        "EUR": Decimal("40.00")}
    by_day = reports.funnel(spent, SITE, MARCH, ["day"]).rows
    assert [(r.keys["day"], r.money(r.cost)) for r in by_day] == [
        ("2026-03-01", {"EUR": Decimal("70.00")}), ("2026-03-02", {"EUR": Decimal("10.00")})]


def test_cost_is_not_attributed_to_paths(spent: Store) -> None:
    report = reports.funnel(spent, SITE, MARCH, ["path"])
    assert all(row.cost is None for row in report.rows)
    assert report.total.money(report.total.cost) == {"EUR": Decimal("80.00")}
    assert report.as_dict()["rows"][0]["cost"] is None


# -- periods, groups, consent, CSV -----------------------------------------------------


NOW = T0 + 15 * DAY + 3600  # 2026-03-16, 01:00


@pytest.mark.parametrize("first, last, days, expected", [
    (None, None, 30, ("2026-02-15", "2026-03-16")),
    (None, None, 1, ("2026-03-16", "2026-03-16")),
    ("2026-03-01", "2026-03-03", 30, ("2026-03-01", "2026-03-03")),
    ("2026-03-10", None, 30, ("2026-03-10", "2026-03-16")),
    (None, "2026-03-10", 7, ("2026-03-04", "2026-03-10")),
])
def test_periods(first: str | None, last: str | None, days: int,
                 expected: tuple[str, str]) -> None:
    period = reports.period_of(first, last, days, now=NOW)
    assert (period.first.isoformat(), period.final.isoformat()) == expected


@pytest.mark.parametrize("first, last, error", [
    ("2026-03-05", "2026-03-01", "from: 2026-03-05 is after to: 2026-03-01"),
    ("03/01/2026", None, "from: '03/01/2026' is not a day"),
    (None, "9999-12-31", "to: 9999-12-31 is outside"),
])
def test_bad_periods(first: str | None, last: str | None, error: str) -> None:
    with pytest.raises(InputError, match=error):
        reports.period_of(first, last, now=NOW)


def test_unknown_groupings_are_refused_and_repeats_dropped() -> None:
    assert reports.checked_by(["day", "campaign", "day"]) == ("day", "campaign")
    with pytest.raises(InputError, match="by: 'referrer' is not one of event, day"):
        reports.checked_by(["referrer"])


def test_consent_rates(store: Store) -> None:
    batch = Batch()
    for day, category, choice, count in ((T0, "analytics", "granted", 6),
                                         (T0, "analytics", "refused", 2),
                                         (T0 + DAY, "analytics", "granted", 2)):
        batch.consents[ConsentKey("demo", day, category, choice)] = count
    store.write(batch)
    rates = reports.consent_rates(store, SITE, MARCH)
    assert [row.as_dict() for row in rates] == [
        {"category": "analytics", "granted": 8, "refused": 2, "rate": 0.8},
        {"category": "ads", "granted": 0, "refused": 0, "rate": None}]
    daily = reports.consent_rates(store, SITE, MARCH, by_day=True)
    assert [(r.day, r.category, r.rate) for r in daily] == [
        ("2026-03-01", "analytics", 0.75), ("2026-03-02", "analytics", 1.0)]


def test_csv_defuses_formulas_in_labels() -> None:
    text = reports.csv_text([{"campaign": "=HYPERLINK(\"http://x\")", "count": 3},
                             {"campaign": "@sum", "count": None},
                             {"campaign": "-2+3", "count": -1}], ["campaign", "count"])
    assert list(csv.reader(io.StringIO(text))) == [
        ["campaign", "count"], ["'=HYPERLINK(\"http://x\")", "3"], ["'@sum", ""],
        ["'-2+3", "-1"]]  # numbers stay numbers


# -- the command: report --funnel, --min-count, and cost --------------------------------


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "consentpixel", *args], capture_output=True,
                          text=True, timeout=60)


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    store = open_store(url)
    seed(store, {cell("click", "spring-sale", period=T0): (10, 0),
                 cell("purchase", "spring-sale", period=T0, currency="EUR"): (2, 9980),
                 cell("pageview", "whisper", period=T0): (1, 0)})
    store.close()
    return url


def test_cost_then_the_funnel(db: str) -> None:
    done = run("cost", "--db", db, "--site", "demo", "--link", "spring-sale",
               "--day", "2026-03-01", "--amount", "25")
    assert (done.returncode, done.stdout) == (
        0, "recorded 25 EUR for newsletter / email / spring-sale on 2026-03-01\n")
    done = run("report", "--db", db, "--site", "demo", "--funnel", "--from", "2026-03-01",
               "--to", "2026-03-31", "--format", "json")
    assert done.returncode == 0, done.stderr
    spring, whisper = json.loads(done.stdout)
    assert spring == {"campaign": "spring-sale", "pageviews": 0, "impressions": 0,
                      "clicks": 10, "ctr": None, "conversions": 2, "conversion_rate": 0.2,
                      "value": {"EUR": 99.8}, "cost": {"EUR": 25.0}, "cpa": {"EUR": 12.5},
                      "roas": {"EUR": 3.992}}
    # As the dashboard and the API, the command merges rows under the site's min_count
    # (3): the 1-hit campaign is (other), and it says so; --min-count 1 shows every row.
    assert whisper["campaign"] == "(other)" and whisper["pageviews"] == 1
    assert done.stderr == ("consentpixel: 1 label combination with fewer than 3 hits merged "
                           "into (other), so that small groups of visitors are not shown "
                           "apart (min_count; totals are exact); --min-count 1 shows every "
                           "row\n")
    every = run("report", "--db", db, "--site", "demo", "--funnel", "--from", "2026-03-01",
                "--to", "2026-03-31", "--format", "json", "--min-count", "1")
    assert [row["campaign"] for row in json.loads(every.stdout)] == ["spring-sale", "whisper"]
    assert every.stderr == ""
    table = run("report", "--db", db, "--site", "demo", "--funnel", "--from", "2026-03-01",
                "--to", "2026-03-31").stdout.splitlines()
    assert table[0].split() == ["campaign", "pageviews", "impressions", "clicks", "ctr",
                                "conversions", "conversion_rate", "value_EUR", "cost_EUR",
                                "cpa_EUR", "roas_EUR"]
    assert table[2].split() == ["spring-sale", "0", "0", "10", "2", "0.2", "99.80", "25.00",
                                "12.50", "3.992"]


def test_report_merges_small_cells_when_asked(db: str) -> None:
    done = run("report", "--db", db, "--site", "demo", "--by", "campaign", "--min-count",
               "3", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["campaign,event,count,value,currency",
                                        "spring-sale,click,10,0,",
                                        "spring-sale,purchase,2,99.80,EUR",
                                        "(other),pageview,1,0,"]


@pytest.mark.parametrize("args, message", [
    (["--link", "spring-sale", "--day", "2026-03-01", "--amount", "12,50"],
     "--amount: '12,50' is not an amount like 120.50"),
    (["--campaign", "spring", "--day", "2026-03-01", "--amount", "1"],
     "--source: required (or give one of the site's links)"),
    (["--link", "autumn", "--day", "2026-03-01", "--amount", "1"],
     "--link: 'autumn' is not a link of site 'demo'"),
    (["--link", "spring-sale", "--day", "tomorrow", "--amount", "1"],
     "--day: 'tomorrow' is not a day like 2026-03-01"),
    (["--link", "spring-sale", "--day", "2026-03-01", "--amount", "1", "--currency", "EURO"],
     "--currency: 'EURO' is not an ISO 4217 currency code"),
    (["--link", "spring-sale", "--day", "2026-03-01"], "the following arguments are required"),
])
def test_cost_errors_are_one_line(db: str, args: list[str], message: str) -> None:
    done = run("cost", "--db", db, "--site", "demo", *args)
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr
    store = open_store(db)
    try:
        assert store.cost_totals("demo", 0, 2**40) == []
    finally:
        store.close()


def test_report_refuses_a_negative_min_count(db: str) -> None:
    done = run("report", "--db", db, "--site", "demo", "--min-count", "-1")
    assert (done.returncode, done.stderr) == (
        2, "consentpixel: --min-count must be 0 or more\n")
