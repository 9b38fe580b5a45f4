"""The crowd rule: free text is stored only once k different clients sent it, and no
hit is lost or counted twice on the way."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from consentpixel import config as config_module, crowd
from consentpixel.buffer import Buffer, Cell
from consentpixel.config import Config
from consentpixel.ingest import Ingest
from consentpixel.store import Store

from .helpers import headers

NOW = 1_795_900_000.0
ORIGIN = "https://shop.example"
HEADERS = headers(ORIGIN + "/")


def shop(**site: Any) -> Config:
    return config_module.parse({"sites": {"shop": {"origins": [ORIGIN], **site}}})


def ingest_for(**site: Any) -> Ingest:
    return Ingest(shop(**site), Buffer(), salt=b"salt")


def pageview(ingest: Ingest, client: str, now: float = NOW, **params: str) -> None:
    query = {"s": "shop", "e": "pageview", "a": "analytics-ads", "p": "/", **params}
    ingest.pixel(urlencode(query).encode(), HEADERS, client, now)


def counts(ingest: Ingest, field: str = "path") -> dict[str, int]:
    found: dict[str, int] = {}
    for cell, (count, _) in ingest.buffer.batch.cells.items():
        found[getattr(cell, field)] = found.get(getattr(cell, field), 0) + count
    return {key: count for key, count in found.items() if count}


def test_a_value_is_stored_once_k_different_clients_sent_it() -> None:
    ingest = ingest_for()
    for _ in range(5):  # one client, however often, is no crowd
        pageview(ingest, "198.51.100.1", p="/account/eric-nichols/settings")
    assert counts(ingest) == {"/:rare/:rare/:rare": 5}
    pageview(ingest, "198.51.100.2", p="/account/eric-nichols/settings")
    assert counts(ingest) == {"/:rare/:rare/:rare": 6}
    pageview(ingest, "198.51.100.3", p="/account/eric-nichols/settings")
    # The third client makes it known, and the six hits before it move with it.
    assert counts(ingest) == {"/account/eric-nichols/settings": 7}
    assert ingest.accepted == 7


def test_a_rare_segment_keeps_its_place_among_known_ones() -> None:
    ingest = ingest_for()
    for index, name in enumerate(["ada", "grace", "hedy", "linus"]):
        pageview(ingest, f"203.0.113.{index}", p=f"/account/{name}/settings")
    # /account came with three clients; /account/:rare/settings gathers them from then on.
    assert counts(ingest) == {"/account/:rare/:rare": 4}
    pageview(ingest, "203.0.113.9", p="/account/marie/settings")
    assert counts(ingest) == {"/account/:rare/settings": 5}
    labels = {"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "eric nichols"}
    for index in range(3):
        pageview(ingest, f"192.0.2.{index}", **{**labels, "utm_campaign": f"person {index}"})
    assert counts(ingest, "campaign")["(rare)"] == 3
    assert counts(ingest, "source") == {"direct": 5, "newsletter": 3}


def test_credit_moves_across_a_write_to_the_store(store: Store) -> None:
    ingest = Ingest(shop(), Buffer(), salt=b"salt")
    pageview(ingest, "a", p="/products/huila")
    pageview(ingest, "b", p="/products/huila", v="12.50", c="EUR", e="purchase")
    store.write(ingest.buffer.take())  # the flusher wrote the placeholder's two hits
    pageview(ingest, "c", p="/products/huila")
    batch = ingest.buffer.take()
    assert any(count < 0 for count, _ in batch.cells.values())  # the correction
    store.write(batch)
    rows = {(path, event): (count, value) for path, event, _, count, value
            in store.totals("shop", 0, 2**40, ["path"])}
    # The placeholder's cells count nothing now, and reports skip them.
    assert rows == {("/products/huila", "pageview"): (2, 0),
                    ("/products/huila", "purchase"): (1, 1250)}


def test_remembered_verdicts_still_count_each_client() -> None:
    ingest = ingest_for()
    for _ in range(4):  # the same query: its verdict is remembered after the first hit
        pageview(ingest, "198.51.100.7", p="/pricing")
    assert ingest.verdicts.known and counts(ingest) == {"/:rare": 4}
    pageview(ingest, "198.51.100.8", p="/pricing")
    pageview(ingest, "198.51.100.9", p="/pricing")
    assert counts(ingest) == {"/pricing": 6}


def test_values_gather_their_clients_afresh_in_each_window() -> None:
    ingest = ingest_for(crowd_hours=1)
    for client in "abc":
        pageview(ingest, client, p="/pricing")
    secret = ingest.crowd.sites["shop"].secret
    later = NOW + 3600
    pageview(ingest, "a", later, p="/pricing")
    assert ingest.crowd.sites["shop"].secret != secret  # the key rotates with the window
    period = int(later) // 3600 * 3600
    assert {cell.path: count for cell, (count, _) in ingest.buffer.batch.cells.items()
            if cell.period == period} == {"/:rare": 1}


def test_what_the_site_declares_is_known_from_the_first_hit(store: Store) -> None:
    ingest = ingest_for(paths=["/account/:user/*", "/orders/:id"],
                        campaigns=["Eric Nichols", "Spring Sale"],
                        links={"mail": {"url": ORIGIN + "/", "source": "newsletter",
                                        "medium": "email", "campaign": "march"}})
    pageview(ingest, "a", p="/account/eric%20nichols/settings")
    pageview(ingest, "a", p="/orders/A-1234/")
    pageview(ingest, "a", p="/orders/A-1234/invoice")  # no * in the template: not matched
    pageview(ingest, "a", utm_source="newsletter", utm_medium="email",
             utm_campaign="Eric Nichols")
    assert counts(ingest) == {"/account/:user/:rare": 1, "/orders/:id/": 1,
                              "/orders/:rare/:rare": 1, "/": 1}
    assert counts(ingest, "campaign") == {"": 3, "eric nichols": 1}
    store.add_cost("shop", 0, "Partner", "display", "Autumn", "EUR", 100)
    ingest.crowd.learn_costs(store)
    pageview(ingest, "a", utm_source="partner", utm_medium="display", utm_campaign="autumn")
    assert counts(ingest, "campaign")["autumn"] == 1


def test_the_crowd_rule_can_be_turned_off() -> None:
    ingest = ingest_for(crowd_clients=1)
    pageview(ingest, "a", p="/account/eric-nichols", utm_campaign="eric")
    assert counts(ingest) == {"/account/eric-nichols": 1}
    assert "shop" not in ingest.crowd.sites


def test_impressions_wait_for_a_crowd_and_conversions_with_orders_stay_put() -> None:
    ingest = ingest_for()
    for client in "abc":
        query = urlencode({"s": "shop", "utm_source": "mail", "utm_campaign": "winter"})
        ingest.impression(query.encode(), HEADERS, client, NOW)
        pageview(ingest, client, e="purchase", v="5", c="EUR", o=f"order-{client}",
                 utm_source="mail", utm_campaign="summer")
    assert counts(ingest, "campaign") == {"winter": 3}  # the first two moved to it
    orders = ingest.buffer.batch.orders.values()
    # Orders are counted when the store has seen none of them: never moved.
    assert sorted(cell.campaign for cell, _ in orders) == ["(rare)", "(rare)", "summer"]


def test_each_process_counts_its_own_clients() -> None:
    first, second = ingest_for(), ingest_for()
    for ingest, clients in ((first, "ab"), (second, "cd")):
        for client in clients:
            pageview(ingest, client, p="/pricing")
    assert counts(first) == counts(second) == {"/:rare": 2}


def test_memory_is_bounded_and_holds_no_address(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crowd, "MAX_VOTED", 50)
    monkeypatch.setattr(crowd, "MAX_CELLS", 20)
    ingest = ingest_for()
    for index in range(500):
        pageview(ingest, f"198.51.100.{index % 250}", p=f"/page-{index}")
    state = ingest.crowd.sites["shop"]
    assert len(state.voters) <= 50 and len(state.cells) <= 20
    assert state.waiting_size <= 20 * 8 + 2
    assert sum(counts(ingest).values()) == 500  # bounded memory costs credit, not counts
    voters = [voter for group in state.voters.values() for voter in group]
    assert voters and all(len(voter) == 8 and b"198.51" not in voter for voter in voters)


def test_labels_the_collector_writes_itself_are_known() -> None:
    ingest = ingest_for()
    pageview(ingest, "a", k="gclid")
    pageview(ingest, "a", r="www.google.com")
    assert set(counts(ingest, "source")) == {"google"}
    assert all(cell.path == "/" for cell in ingest.buffer.batch.cells)


def test_a_cell_folded_into_other_moves_from_other() -> None:
    ingest = Ingest(shop(), Buffer(max_cells_per_hour=1), salt=b"salt")
    pageview(ingest, "z", p="/first")  # the hour's one cell
    for client in "abc":
        pageview(ingest, client, p="/second")
    assert sum(counts(ingest).values()) == 4
    assert all(count >= 0 for count, _ in ingest.buffer.batch.cells.values())


def test_masked_cells_keep_everything_but_free_text() -> None:
    ingest = ingest_for()
    pageview(ingest, "a", p="/x", v="3", c="EUR", e="purchase", utm_source="a b")
    (cell,) = ingest.buffer.batch.cells
    assert isinstance(cell, Cell)
    assert (cell.event, cell.currency, cell.source, cell.medium, cell.path) == (
        "purchase", "EUR", "(rare)", "(not set)", "/:rare")


def test_spend_recorded_later_is_learnt_at_housekeeping(store: Store) -> None:
    import asyncio
    import threading
    import time

    from consentpixel.flusher import Flusher

    config = shop()
    ingest = Ingest(config, Buffer(), salt=b"salt")
    flusher = Flusher(config, store, ingest.buffer, ingest)
    today = int(time.time()) // 86400 * 86400  # housekeeping deletes spend past retention
    store.add_cost("shop", today, "partner", "display", "autumn-2026", "EUR", 100)
    # In a thread of its own: a browser test in this process may hold an event loop.
    worker = threading.Thread(target=asyncio.run, args=(flusher.housekeep(),))
    worker.start()
    worker.join()
    pageview(ingest, "a", utm_source="partner", utm_medium="display", utm_campaign="autumn-2026")
    assert counts(ingest, "campaign") == {"autumn-2026": 1}


def test_a_repeated_order_is_a_repeat_whatever_its_campaign_counts_as_now() -> None:
    ingest = ingest_for()
    labels = {"utm_source": "mail", "utm_medium": "email", "utm_campaign": "winter"}
    pageview(ingest, "a", e="purchase", v="5", c="EUR", o="A-1", **labels)
    for client in "bc":  # the campaign reaches its crowd
        pageview(ingest, client, **labels)
    pageview(ingest, "a", e="purchase", v="5", c="EUR", o="A-1", **labels)  # a reload
    orders = list(ingest.buffer.batch.orders.values())
    assert len(orders) == 1 and orders[0][0].campaign == "(rare)"


def test_details_of_dropped_hits_are_free_text_too() -> None:
    ingest = ingest_for()
    detail = ingest.crowd.detail
    site = ingest.sites["shop"]
    assert detail(site, "signup_johnsmith", "a", NOW) == "(rare)"
    assert detail(site, "signup_johnsmith", "a", NOW) == "(rare)"  # still one client
    assert [detail(site, "webinar", client, NOW) for client in "abc"] == [
        "(rare)", "(rare)", "webinar"]
    # What is personal is never named, however many clients send it.
    assert {detail(site, "signup_903241754", client, NOW) for client in "abcd"} == {"(rare)"}
    with pytest.raises(Exception) as raised:
        pageview(ingest, "d", e="signup_ericnichols")
    assert getattr(raised.value, "detail", None) == "(rare)"


def test_a_detail_too_few_clients_sent_is_explained() -> None:
    from consentpixel import drops

    config = shop()
    for reason in ("event", "origin"):
        assert "too few clients" in drops.explain(config, "shop", reason, "(rare)")


def test_one_ipv6_network_is_one_client() -> None:
    ingest = ingest_for()
    for host in range(1, 6):  # privacy addresses of one household's /64
        pageview(ingest, f"2001:db8:1:2::{host:x}", p="/pricing")
    assert counts(ingest) == {"/:rare": 5}
    for network in range(3, 5):
        pageview(ingest, f"2001:db8:1:{network}::1", p="/pricing")
    assert counts(ingest) == {"/pricing": 7}


def test_hits_of_a_closed_window_stay_under_their_placeholder() -> None:
    ingest = ingest_for(crowd_hours=1)
    for client in "ab":  # two clients: not yet a crowd when the window closes
        pageview(ingest, client, p="/pricing")
    later = NOW + 3600
    for client in "abc":  # a crowd in the next window
        pageview(ingest, client, later, p="/pricing")
    by_period: dict[tuple[int, str], int] = {}
    for cell, (count, _) in ingest.buffer.batch.cells.items():
        key = (cell.period, cell.path)
        by_period[key] = by_period.get(key, 0) + count
    first, second = int(NOW) // 3600 * 3600, int(later) // 3600 * 3600
    assert {key: count for key, count in by_period.items() if count} == {
        (first, "/:rare"): 2, (second, "/pricing"): 3}
