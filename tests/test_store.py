"""The store adds deltas, counts each order once, and rolls up without losing totals."""

from __future__ import annotations

from consentpixel.buffer import Batch, Cell, ConsentKey
from consentpixel.store import Store
from consentpixel.store.base import MIGRATIONS, ORDER_WINDOW

DAY = 86400
T0 = 1_795_900_000 // DAY * DAY


def cell(event: str = "pageview", period: int = T0, path: str = "/", currency: str = "",
         site: str = "demo", campaign: str = "") -> Cell:
    return Cell(site, period, event, path, "direct", "(none)", campaign, "", "desktop",
                currency)


def batch(cells: dict[Cell, list[int]] | None = None, **extra: object) -> Batch:
    made = Batch(cells=dict(cells or {}))
    for key, value in extra.items():
        setattr(made, key, value)
    return made


def totals(store: Store, *groups: str) -> list[tuple[object, ...]]:
    return store.totals("demo", 0, 2**40, groups)


def test_writes_add_deltas_to_existing_cells(store: Store) -> None:
    store.write(batch({cell(): [2, 0], cell("purchase", currency="EUR"): [1, 4990]}))
    store.write(batch({cell(): [3, 0], cell("purchase", currency="EUR"): [1, 1000]}))
    assert totals(store) == [("pageview", "", 5, 0), ("purchase", "EUR", 2, 5990)]
    assert store.cell_count() == 2


def test_an_order_counts_once_within_the_window(store: Store) -> None:
    thanks = cell("purchase", path="/thanks", currency="EUR")
    first = batch(orders={("demo", "d1"): (thanks, 4990), ("demo", "d2"): (thanks, 1000)})
    assert store.write(first, now=T0) == 0
    again = batch(orders={("demo", "d1"): (thanks, 4990)})
    assert store.write(again, now=T0 + 3600) == 1
    assert totals(store) == [("purchase", "EUR", 2, 5990)]
    # The same ID on another site is another order.
    other = batch(orders={("shop", "d1"): (thanks._replace(site="shop"), 4990)})
    assert store.write(other, now=T0) == 0


def test_order_digests_are_forgotten_after_48_hours(store: Store) -> None:
    thanks = cell("purchase", currency="EUR")
    store.write(batch(orders={("demo", "d1"): (thanks, 100)}), now=T0)
    assert store.forget_orders(now=T0 + ORDER_WINDOW - 1) == 0
    assert store.forget_orders(now=T0 + ORDER_WINDOW + 1) == 1
    assert store.fetch("SELECT COUNT(*) FROM orders") == [(0,)]


def test_consent_tallies_add_up(store: Store) -> None:
    key = ConsentKey("demo", T0, "ads", "granted")
    store.write(batch(consents={key: 2}))
    store.write(batch(consents={key: 1, ConsentKey("demo", T0, "ads", "refused"): 4}))
    assert store.consent_totals("demo", T0, T0 + DAY) == [
        (T0, "ads", "granted", 3), (T0, "ads", "refused", 4)]


def test_groups_by_day_and_dimension(store: Store) -> None:
    store.write(batch({cell(period=T0 + 3600): [1, 0], cell(period=T0 + 7200): [2, 0],
                       cell(period=T0 + DAY): [4, 0],
                       cell(period=T0, campaign="spring"): [8, 0]}))
    assert totals(store, "day") == [(T0, "pageview", "", 11, 0),
                                    (T0 + DAY, "pageview", "", 4, 0)]
    assert totals(store, "campaign") == [("", "pageview", "", 7, 0),
                                         ("spring", "pageview", "", 8, 0)]


def test_roll_up_keeps_totals_and_retention_deletes(store: Store) -> None:
    cells = {cell(period=T0 + h * 3600, path=f"/{h % 3}"): [h + 1, 10 * h] for h in range(72)}
    store.write(batch(cells))
    before = totals(store)
    store.roll_up("demo", hourly_before=T0 + 2 * DAY, delete_before=0)
    assert totals(store) == before
    grains = store.fetch("SELECT grain, COUNT(*) FROM cells GROUP BY grain ORDER BY grain")
    assert grains == [("d", 6), ("h", 24)]
    # A second roll-up over the same days changes nothing.
    store.roll_up("demo", hourly_before=T0 + 2 * DAY, delete_before=0)
    assert totals(store) == before
    store.roll_up("demo", hourly_before=T0 + 2 * DAY, delete_before=T0 + DAY)
    assert totals(store, "day") == [
        (T0 + DAY, "pageview", "", sum(range(25, 49)), 10 * sum(range(24, 48))),
        (T0 + 2 * DAY, "pageview", "", sum(range(49, 73)), 10 * sum(range(48, 72)))]


def test_migrations_run_once_and_record_the_version(store: Store) -> None:
    assert store.schema_version() == len(MIGRATIONS)
    salt = store.salt()
    store.migrate()
    assert store.schema_version() == len(MIGRATIONS)
    assert store.salt() == salt and len(salt) == 32


def test_costs_replace_per_day(store: Store) -> None:
    store.add_cost("demo", T0, "newsletter", "email", "spring", "EUR", 10000)
    store.add_cost("demo", T0, "newsletter", "email", "spring", "EUR", 12000)
    assert store.cost_totals("demo", T0, T0 + DAY) == [
        (T0, "newsletter", "email", "spring", "EUR", 12000)]
