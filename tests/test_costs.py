"""Costs: spend per campaign and day, checked as it is given, replaced when given again.

How spend joins the funnel (CPA, ROAS) is tested with the reports, in test_reports.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any, Iterator

import pytest

from consentpixel import costs, demo
from consentpixel.reports import InputError, Period
from consentpixel.store import Store, StoreError

MARCH = Period.days(date(2026, 3, 1), date(2026, 3, 31))
SITE = demo.config().sites["demo"]


@pytest.fixture
def spent(store: Store) -> Iterator[Store]:
    for day, amount in (("2026-03-01", "30"), ("2026-03-02", "20"), ("2026-03-02", "10")):
        costs.record_cost(store, SITE, costs.parse_cost(SITE, {
            "day": day, "link": "spring-sale", "amount": amount}))
    costs.record_cost(store, SITE, costs.parse_cost(SITE, {
        "day": "2026-03-01", "source": "newsletter", "medium": "email", "campaign": "spring",
        "amount": "40"}))
    yield store


def test_a_second_record_for_a_day_replaces_the_first(spent: Store) -> None:
    assert [(c.day.isoformat(), c.campaign, c.amount) for c in
            costs.recorded(spent, SITE, MARCH)] == [
        ("2026-03-01", "spring", Decimal("40.00")),
        ("2026-03-01", "spring-sale", Decimal("30.00")),
        ("2026-03-02", "spring-sale", Decimal("10.00"))]


def test_each_currency_keeps_its_minor_units(store: Store) -> None:
    for currency, amount in (("JPY", "1200"), ("KWD", "3.125"), ("EUR", "0.5")):
        costs.record_cost(store, SITE, costs.parse_cost(SITE, {
            "day": "2026-03-04", "source": "g", "medium": "cpc", "campaign": currency.lower(),
            "amount": amount, "currency": currency}))
    assert {(c.currency, c.amount) for c in costs.recorded(store, SITE, MARCH)} == {
        ("JPY", Decimal("1200")), ("KWD", Decimal("3.125")), ("EUR", Decimal("0.50"))}


def test_a_list_is_recorded_whole_or_not_at_all(store: Store) -> None:
    good = costs.parse_cost(SITE, {"day": "2026-03-01", "link": "spring-sale", "amount": "5"})
    # What no check lets through any more, and the store cannot take: a lone surrogate.
    bad = replace(good, day=date(2026, 3, 2), campaign="spring\ud800")
    with pytest.raises((UnicodeEncodeError, StoreError)):
        costs.record_costs(store, SITE, [good, bad])
    assert costs.recorded(store, SITE, MARCH) == []
    costs.record_costs(store, SITE, [good, replace(good, day=date(2026, 3, 2))])
    assert [c.day.day for c in costs.recorded(store, SITE, MARCH)] == [1, 2]


# fields -> the error, or None when the cost is recorded
COST_INPUT = [
    ({"day": "2026-03-01", "link": "spring-sale", "amount": "12.5"}, None),
    ({"day": "2026-03-01", "link": "spring-sale", "amount": 12}, None),
    ({"day": "2026-03-01", "source": "Google", "medium": "CPC", "campaign": "Brand",
      "amount": "1", "currency": "jpy"}, None),
    ({"day": "2026-03-01", "link": "spring-sale", "amount": "12.345"},
     "amount: EUR has 2 decimal places, not more"),
    ({"day": "2026-03-01", "link": "spring-sale", "amount": "-5"}, "amount: '-5' is not"),
    ({"day": "2026-03-01", "link": "spring-sale", "amount": True}, "amount: required"),
    ({"day": "2026-03-01", "link": "spring-sale", "amount": "1e9"}, "amount: '1e9' is not"),
    ({"day": "2026-03-01", "link": "spring-sale", "amount": "2000000000"},
     "amount: more than 1,000,000,000"),
    ({"day": "2026-03-01", "link": "spring-sale"}, "amount: required"),
    ({"day": "yesterday", "link": "spring-sale", "amount": "1"}, "day: 'yesterday' is not"),
    ({"day": "1999-12-31", "link": "spring-sale", "amount": "1"}, "day: 1999-12-31 is outside"),
    ({"link": "spring-sale", "amount": "1"}, "day: required"),
    ({"day": "2026-03-01", "link": "nope", "amount": "1"}, "link: 'nope' is not a link"),
    ({"day": "2026-03-01", "link": "spring-sale", "campaign": "x", "amount": "1"},
     "link: give a link or source"),
    ({"day": "2026-03-01", "source": "g", "medium": "cpc", "amount": "1"}, "campaign: required"),
    ({"day": "2026-03-01", "link": "spring-sale", "amount": "1", "currency": "ZZZ"},
     "currency: 'ZZZ' is not"),
    ({"day": "2026-03-01", "link": "spring-sale", "amount": "1", "note": "x"},
     "note: unknown field"),
    ({"day": 20260301, "link": "spring-sale", "amount": "1"}, "day: must be a string"),
    ({"day": "2026-03-01", "source": "g\udcff", "medium": "cpc", "campaign": "c",
      "amount": "1"}, "source: 'g.udcff' holds a lone surrogate, which is not text"),
]


@pytest.mark.parametrize("fields, error", COST_INPUT)
def test_cost_input(fields: dict[str, Any], error: str | None) -> None:
    if error is None:
        cost = costs.parse_cost(SITE, fields)
        assert cost.amount == Decimal(str(fields["amount"]))
        assert cost.campaign == cost.campaign.lower()  # cleaned like the visitors' labels
    else:
        with pytest.raises(InputError, match=error.replace("(", r"\(")):
            costs.parse_cost(SITE, fields)
