"""The in-memory buffer holds cells, not hits, and stays bounded."""

from __future__ import annotations

import logging

import pytest

from consentpixel.buffer import OTHER, Buffer, Cell, ConsentKey


def cell(path: str = "/", site: str = "demo", period: int = 3600) -> Cell:
    return Cell(site=site, period=period, event="pageview", path=path, source="direct",
                medium="(none)", device="desktop")


def test_hits_on_one_cell_are_one_entry() -> None:
    buffer = Buffer()
    for _ in range(1000):
        buffer.add(cell(), 5)
    assert buffer.batch.cells == {cell(): [1000, 5000]}
    assert len(buffer) == 1


def test_distinct_cells_past_the_hourly_cap_fold_into_other() -> None:
    buffer = Buffer(max_cells_per_hour=3)
    for index in range(50):
        buffer.add(cell(f"/random/{index}"))
    folded = cell().folded()
    assert folded.path == OTHER and folded.campaign == OTHER
    assert len(buffer.batch.cells) == 4
    assert buffer.batch.cells[folded] == [47, 0]
    assert sum(count for count, _ in buffer.batch.cells.values()) == 50
    # Cells already seen this hour keep counting after a flush; new ones still fold.
    buffer.take()
    buffer.add(cell("/random/0"))
    buffer.add(cell("/random/99"))
    assert set(buffer.batch.cells) == {cell("/random/0"), folded}


def test_the_cap_is_per_site_and_hour() -> None:
    buffer = Buffer(max_cells_per_hour=1)
    buffer.add(cell("/a"))
    buffer.add(cell("/b", site="other"))
    buffer.add(cell("/c", period=7200))
    assert {c.path for c in buffer.batch.cells} == {"/a", "/b", "/c"}
    buffer.add(cell("/d", period=4 * 3600))
    assert ("demo", 3600) not in buffer.seen  # old hours are forgotten


def test_a_full_buffer_refuses_new_cells_but_counts_known_ones() -> None:
    buffer = Buffer(max_cells=2)
    assert buffer.add(cell("/a")) and buffer.add(cell("/b"))
    assert not buffer.add(cell("/c"))
    assert buffer.add(cell("/a"))
    assert buffer.batch.cells[cell("/a")] == [2, 0]


def test_take_and_restore_keep_every_count() -> None:
    buffer = Buffer()
    buffer.add(cell("/a"), 10)
    buffer.add_order("demo", "digest", cell("/thanks"), 4990)
    buffer.add_consent(ConsentKey("demo", 0, "ads", "granted"))
    batch = buffer.take()
    assert not buffer.batch
    buffer.add(cell("/a"), 1)
    buffer.restore(batch)
    assert buffer.batch.cells[cell("/a")] == [2, 11]
    assert buffer.batch.orders == {("demo", "digest"): (cell("/thanks"), 4990)}
    assert buffer.batch.consents[ConsentKey("demo", 0, "ads", "granted")] == 1
    assert buffer.batch.hits() == 3


def test_an_order_twice_in_one_flush_counts_once() -> None:
    buffer = Buffer()
    buffer.add_order("demo", "same", cell("/thanks"), 100)
    buffer.add_order("demo", "same", cell("/thanks"), 100)
    assert len(buffer.batch.orders) == 1
    assert buffer.repeats == 1  # counted as a repeat, as the store counts its own


def test_an_order_restored_beside_itself_is_a_repeat() -> None:
    buffer = Buffer()
    buffer.add_order("demo", "same", cell("/thanks"), 100)
    batch = buffer.take()
    buffer.add_order("demo", "same", cell("/thanks"), 100)
    buffer.restore(batch)
    assert len(buffer.batch.orders) == 1 and buffer.repeats == 1


def test_order_ids_past_the_hourly_cap_are_counted_without_them() -> None:
    buffer = Buffer(max_orders_per_hour=3)
    purchase = cell()._replace(event="purchase", currency="EUR")
    for index in range(5):
        assert buffer.add_order("demo", f"digest-{index}", purchase, 100)
    assert sorted(digest for _, digest in buffer.batch.orders) == ["digest-0", "digest-1",
                                                                   "digest-2"]
    assert buffer.batch.cells == {purchase: [2, 200]}  # counted, no order kept
    buffer.take()
    assert buffer.add_order("demo", "digest-1", purchase, 100)  # a known order still is one
    assert ("demo", "digest-1") in buffer.batch.orders
    later = purchase._replace(period=purchase.period + 3600)
    assert buffer.add_order("demo", "digest-1", later, 100)  # and in the next hour
    assert buffer.add_order("demo", "digest-9", later, 100)  # which has room again
    assert len(buffer.batch.orders) == 2
    assert buffer.add_order("other", "digest-9", purchase, 100)  # the cap is per site
    assert ("other", "digest-9") in buffer.batch.orders


def test_reaching_the_order_cap_is_said_once(caplog: pytest.LogCaptureFixture) -> None:
    buffer = Buffer(max_orders_per_hour=2)
    purchase = cell()._replace(event="purchase", currency="EUR")
    with caplog.at_level(logging.WARNING, logger="consentpixel"):
        for index in range(6):
            buffer.add_order("demo", f"digest-{index}", purchase, 100)
    assert [r.getMessage() for r in caplog.records] == [
        "site demo: 2 order IDs this hour, the most kept (max_orders_per_hour); further new "
        "ones are counted without de-duplication until the hour turns"]


def test_hits_move_between_cells_as_a_correction() -> None:
    buffer = Buffer()
    rare, known = cell("/:rare"), cell("/pricing")
    buffer.add(rare, 5)
    buffer.add(rare, 0)
    taken = buffer.take()  # written: the store holds the placeholder's two hits
    assert buffer.counted_as(rare) == rare
    assert buffer.move(rare, known, 2, 5) == known
    assert buffer.batch.cells == {rare: [-2, -5], known: [2, 5]}
    buffer.release(taken)
    buffer.add(rare)
    buffer.move(rare, known, 1, 0)  # in the same batch: the entries net out
    assert buffer.batch.cells == {rare: [-2, -5], known: [3, 5]}


def test_a_folded_hit_is_counted_as_other() -> None:
    buffer = Buffer(max_cells_per_hour=1)
    buffer.add(cell("/first"))
    buffer.add(cell("/second"))
    assert buffer.counted_as(cell("/first")) == cell("/first")
    assert buffer.counted_as(cell("/second")) == cell().folded()
