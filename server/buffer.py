"""In-memory aggregation: hits become cells, and cells become deltas for the store.

The buffer holds one entry per distinct cell, never one per hit, so memory follows the
number of cells. Everything here runs on the event loop's thread: no locks.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import NamedTuple

from .drops import DropKey

log = logging.getLogger("consentpixel")

OTHER = "(other)"


class Cell(NamedTuple):
    """The smallest thing the store keeps: counts and value sums per coarse cell."""

    site: str
    period: int  # start of the hour (or day, after roll-up), seconds since the epoch
    event: str
    path: str = ""  # empty for impressions and clicks, which happen on no page of the site
    source: str = ""
    medium: str = ""
    campaign: str = ""
    content: str = ""
    device: str = ""
    currency: str = ""  # empty when the hit carried no value

    def folded(self) -> Cell:
        return self._replace(path=OTHER, source=OTHER, medium=OTHER, campaign=OTHER,
                             content=OTHER)


class ConsentKey(NamedTuple):
    site: str
    day: int
    category: str
    choice: str  # "granted" or "refused"


@dataclass
class Batch:
    """What one flush writes: cell deltas, pending orders and consent tallies."""

    cells: dict[Cell, list[int]] = field(default_factory=dict)  # cell -> [count, value]
    orders: dict[tuple[str, str], tuple[Cell, int]] = field(default_factory=dict)
    consents: Counter[ConsentKey] = field(default_factory=Counter)
    drops: Counter[DropKey] = field(default_factory=Counter)  # bounded by drops.Drops
    id: str = ""  # given by the flusher: the store writes a batch with an ID only once

    def __bool__(self) -> bool:
        return bool(self.cells or self.orders or self.consents or self.drops)

    def hits(self) -> int:
        return sum(count for count, _ in self.cells.values()) + len(self.orders)

    def size(self) -> int:
        """Entries that grow with what arrives (consent keys are bounded by the config)."""
        return len(self.cells) + len(self.orders)


class Buffer:
    def __init__(self, max_cells_per_hour: int = 5000, max_cells: int = 200000,
                 max_orders_per_hour: int = 5000) -> None:
        self.max_cells_per_hour = max_cells_per_hour
        self.max_cells = max_cells
        self.max_orders_per_hour = max_orders_per_hour
        self.batch = Batch()
        # Entries taken for a write that has not succeeded yet: still in memory, so they
        # count against max_cells until the flusher releases them.
        self.held = 0
        # Conversions not kept because the same one waits in the batch; the store counts
        # the repeats of earlier batches (Flusher.repeats).
        self.repeats = 0
        # Distinct cells this process has seen per (site, hour), for the cap.
        self.seen: dict[tuple[str, int], set[Cell]] = {}
        # Order digests this process has passed on per (site, hour), for their cap.
        self.orders_seen: dict[tuple[str, int], set[str]] = {}

    def __len__(self) -> int:
        return len(self.batch.cells) + len(self.batch.orders) + len(self.batch.consents) + \
            self.held

    def full(self) -> bool:
        return self.batch.size() + self.held >= self.max_cells

    def add(self, cell: Cell, value: int = 0) -> bool:
        """Count one hit; False when the buffer is full and the hit was not counted."""
        cells = self.batch.cells
        entry = cells.get(cell)
        if entry is None:
            cell = self.capped(cell)
            entry = cells.get(cell)
            if entry is None:
                if self.full():
                    return False
                entry = cells[cell] = [0, 0]
        entry[0] += 1
        entry[1] += value
        return True

    def add_order(self, site: str, digest: str, cell: Cell, value: int) -> bool:
        """A conversion with an order ID: counted at flush time unless the store saw it."""
        orders = self.batch.orders
        if (site, digest) in orders:
            self.repeats += 1  # the same conversion twice in one flush: the first stands
            return True
        if not self.order_room(site, digest, cell.period):
            return self.add(cell, value)  # counted, but its order ID is not kept
        if self.full():
            return False
        orders[(site, digest)] = (self.capped(cell), value)
        return True

    def order_room(self, site: str, digest: str, period: int) -> bool:
        """Whether an order ID may be kept for de-duplication: one seen in this hour or
        the one before, or a new one while its site's hour has room. The orders table
        keeps each ID for 48 hours, so without a cap a flood of IDs would grow it
        without bound."""
        current = self.orders_seen.get((site, period))
        if current is None:
            for old in [key for key in self.orders_seen if key[1] < period - 3600]:
                del self.orders_seen[old]
            current = self.orders_seen[(site, period)] = set()
        if digest in current or digest in self.orders_seen.get((site, period - 3600), ()):
            return True
        if len(current) >= self.max_orders_per_hour:
            return False
        current.add(digest)
        if len(current) == self.max_orders_per_hour:  # said once per site and hour
            log.warning("site %s: %d order IDs this hour, the most kept (max_orders_per_hour); "
                        "further new ones are counted without de-duplication until the hour "
                        "turns", site, self.max_orders_per_hour)
        return True

    def add_consent(self, key: ConsentKey) -> None:
        self.batch.consents[key] += 1

    def counted_as(self, cell: Cell) -> Cell:
        """The cell a hit just added for cell was counted under: itself, or its hour's
        (other) cell when the hour was full."""
        seen = self.seen.get((cell.site, cell.period))
        return cell if seen is None or cell in seen else cell.folded()

    def move(self, source: Cell, target: Cell, count: int, value: int) -> Cell:
        """Count hits counted under source (as counted_as gave it) under target instead;
        the cell they are counted under now. The store receives it as a correction:
        the source cell's delta may be negative."""
        target = self.capped(target)
        cells = self.batch.cells
        for cell, sign in ((source, -1), (target, 1)):
            entry = cells.setdefault(cell, [0, 0])
            entry[0] += sign * count
            entry[1] += sign * value
            if entry == [0, 0]:
                del cells[cell]
        return target

    def add_drop(self, key: DropKey) -> None:
        self.batch.drops[key] += 1

    def capped(self, cell: Cell) -> Cell:
        hour = (cell.site, cell.period)
        seen = self.seen.get(hour)
        if seen is None:
            self.forget_before(cell.period)
            seen = self.seen[hour] = set()
        if cell in seen:
            return cell
        if len(seen) >= self.max_cells_per_hour:
            return cell.folded()
        seen.add(cell)
        return cell

    def forget_before(self, period: int) -> None:
        for key in [key for key in self.seen if key[1] < period - 3600]:
            del self.seen[key]

    def take(self) -> Batch:
        """The aggregates so far, for a write; they stay held until released."""
        batch, self.batch = self.batch, Batch()
        self.held += batch.size()
        return batch

    def release(self, batch: Batch) -> None:
        """A taken batch is in the store: its entries no longer take up room here."""
        self.held = max(0, self.held - batch.size())

    def restore(self, batch: Batch) -> None:
        """Put back a batch the store surely did not take, merging it with newer hits."""
        self.release(batch)
        cells = self.batch.cells
        for cell, (count, value) in batch.cells.items():
            entry = cells.setdefault(cell, [0, 0])
            entry[0] += count
            entry[1] += value
        for key, order in batch.orders.items():
            if key in self.batch.orders:
                self.repeats += 1
            else:
                self.batch.orders[key] = order
        self.batch.consents.update(batch.consents)
        self.batch.drops.update(batch.drops)
