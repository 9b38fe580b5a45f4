"""The store adds deltas, counts each order once, and rolls up without losing totals.

Every test that takes `store` or `database` runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest

from consentpixel.buffer import Batch, Cell, ConsentKey
from consentpixel.store import NoStore, Store, StoreError, open_store
from consentpixel.store.base import BATCH_WINDOW, MIGRATIONS, ORDER_WINDOW

DAY = 86400
T0 = 1_795_900_000 // DAY * DAY


def cell(event: str = "pageview", period: int = T0, path: str = "/", currency: str = "",
         site: str = "demo", campaign: str = "") -> Cell:
    return Cell(site=site, period=period, event=event, path=path, source="direct",
                medium="(none)", campaign=campaign, device="desktop", currency=currency)


def batch(cells: dict[Cell, list[int]] | None = None, **extra: object) -> Batch:
    made = Batch(cells=dict(cells or {}))
    for key, value in extra.items():
        setattr(made, key, value)
    return made


def totals(store: Store, *groups: str) -> list[tuple[object, ...]]:
    return list(store.totals("demo", 0, 2**40, groups))


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


def test_totals_are_ints_on_every_database(store: Store) -> None:
    store.write(batch({cell("purchase", currency="EUR"): [2, 4990]},
                      consents={ConsentKey("demo", T0, "ads", "granted"): 1}))
    ((*_, count, value),) = totals(store, "day")
    ((*_, tally),) = store.consent_totals("demo", T0, T0 + DAY)
    assert [type(count), type(value), type(tally)] == [int, int, int]


def test_a_batch_with_an_id_is_written_once(store: Store) -> None:
    """A retry of a write whose commit went through (its acknowledgement was lost)."""
    once = batch({cell(): [3, 0]}, id="proc-1")
    store.write(once)
    store.write(once)
    store.write(batch({cell(): [1, 0]}, id="proc-2"))
    assert totals(store) == [("pageview", "", 4, 0)]
    assert store.forget_batches(now=time.time() + BATCH_WINDOW + 1) == 2


def test_a_store_from_the_first_schema_migrates_and_keeps_its_counts(store: Store) -> None:
    store.write(batch({cell(): [5, 0]}))
    with store.transaction() as cursor:
        for table in ("batches", "sessions", "drops"):  # what the later migrations add
            cursor.execute(f"DROP TABLE {table}")
        cursor.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    store.migrate()
    assert store.schema_version() == len(MIGRATIONS) == 4
    store.write(batch({cell(): [1, 0]}, id="after"))
    assert totals(store) == [("pageview", "", 6, 0)]


def test_collectors_starting_at_once_migrate_once(database: str) -> None:
    with ThreadPoolExecutor(4) as pool:
        stores = list(pool.map(lambda _: open_store(database), range(4)))
    try:
        assert {s.schema_version() for s in stores} == {len(MIGRATIONS)}
        assert len({s.salt() for s in stores}) == 1
    finally:
        for opened in stores:
            opened.close()


def test_collectors_writing_the_same_cells_at_once_count_exactly(database: str) -> None:
    """Two processes' flushes touch the same rows in opposite orders: no deadlock."""
    cells = [cell(path=f"/{index}") for index in range(200)]
    stores = [open_store(database) for _ in range(2)]
    try:
        def flushes(which: int) -> None:
            ordered = cells if which == 0 else cells[::-1]
            for _ in range(10):
                stores[which].write(batch({c: [1, 1] for c in ordered}))

        with ThreadPoolExecutor(2) as pool:
            list(pool.map(flushes, range(2)))
        assert store_totals(stores[0]) == {c.path: (20, 20) for c in cells}
    finally:
        for opened in stores:
            opened.close()


def test_roll_ups_at_once_count_each_hour_once(database: str) -> None:
    """Every collector runs housekeeping; two roll-ups over the same hours must not add up."""
    stores = [open_store(database) for _ in range(3)]
    try:
        stores[0].write(batch({cell(period=T0 + h * 3600, path=f"/{p}"): [1, 1]
                               for h in range(48) for p in range(50)}))
        start = threading.Barrier(3)

        def roll_up(opened: Store) -> None:
            start.wait()
            opened.roll_up("demo", hourly_before=T0 + 2 * DAY, delete_before=0)

        with ThreadPoolExecutor(3) as pool:
            list(pool.map(roll_up, stores))
        assert totals(stores[0]) == [("pageview", "", 48 * 50, 48 * 50)]
        assert stores[0].fetch("SELECT grain, COUNT(*) FROM cells GROUP BY grain") == [
            ("d", 2 * 50)]
    finally:
        for opened in stores:
            opened.close()


def test_the_store_reports_its_size(store: Store) -> None:
    empty = store.size()
    store.write(batch({cell(path=f"/{index}"): [1, 0] for index in range(2000)}))
    assert 0 < empty < store.size()


@pytest.mark.postgres
def test_an_unreachable_postgres_is_one_line_without_the_password() -> None:
    with pytest.raises(StoreError) as raised:
        open_store("postgresql://collector:s3cret@127.0.0.1:1/consentpixel")
    message = str(raised.value)
    assert message.startswith("postgresql://collector:***@127.0.0.1:1/consentpixel: ")
    assert "s3cret" not in message and "\n" not in message


def test_a_url_of_another_database_is_refused_without_its_password() -> None:
    with pytest.raises(NoStore) as raised:
        open_store("mysql://collector:s3cret@db.internal/consentpixel")
    message = str(raised.value)
    assert "collector:***@db.internal" in message and "s3cret" not in message


@pytest.mark.postgres
def test_driver_errors_become_store_errors(postgres_server: str, postgres_url: str) -> None:
    import psycopg
    from psycopg import sql

    opened = open_store(postgres_url)
    try:
        with psycopg.connect(postgres_server, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(
                sql.Identifier(urlsplit(postgres_url).path.lstrip("/"))))
        with pytest.raises(StoreError):
            opened.write(batch({cell(): [1, 0]}))
    finally:
        opened.close()


def store_totals(opened: Store) -> dict[str, tuple[int, int]]:
    return {path: (count, value) for path, _, _, count, value in
            opened.totals("demo", 0, 2**40, ["path"])}
