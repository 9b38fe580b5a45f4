"""The crowd rule: free text reaches the store only once enough different clients sent it.

Patterns catch e-mail addresses and card numbers; no pattern catches a name or a
username. So a free-text value (a path segment, a utm_* label, an impression label, a
referrer's host) is stored only once `crowd_clients` different clients sent it within
a window of `crowd_hours`. Until then its hit is counted at once under a placeholder
in the same place (`/account/:rare/settings`, campaign `(rare)`), so totals are exact
at every moment; when the value qualifies, the hits counted under the placeholder in
this window are moved to it (a correction in the next write), so its own row is exact
too. Hits that carry an order ID are left where they were counted (the store, not this
process, decides whether they count at all).

"Different clients" are told apart by a keyed hash of the client's address; the key
lives in this process's memory only and is replaced with every window, so no hash can
be linked across windows. No address, hash or pending value is ever written to the
store or to the log. Everything here is per process and bounded: with several
collector processes each counts its own clients (a value needs k clients in one
process), and when a table fills up it is emptied at once, like the other caches, at
the price of values having to gather their clients again.

Values the site itself declares count as known from the first hit: its path
templates, its click links' labels, its `campaigns` and the labels of its recorded
costs; so do the labels the collector makes itself (`google`, `organic`, `direct`).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from typing import Callable, Iterable

from .attribution import CLICK_IDS, DIRECT, REFERRERS
from .buffer import Buffer, Cell
from .config import Config, Site
from .decoding import decoded
from .privacy import (PLACEHOLDERS, RARE_LABEL, RARE_SEGMENT, classify, clean_label,
                      template_names)
from .store import Store

MAX_VOTED = 50_000  # values gathering clients, per site
MAX_CELLS = 20_000  # cells whose hits wait to be moved to their value, per site
MAX_KNOWN = 100_000  # values known this window, per site

Key = tuple[str, str]  # ("p", path prefix) or ("l", label)
Vote = Callable[[Key], bool]  # count the hit's client for a value: is it known now?

# Labels the collector itself writes: never a visitor's text.
OWN_LABELS = frozenset({*DIRECT, "(not set)", "(referral)", "referral", "(other)",
                        *(label for pair in CLICK_IDS.values() for label in pair),
                        *(label for pair in REFERRERS.values() for label in pair)})


@dataclass
class Waiting:
    """Hits of one cell counted under placeholders: (counted as, hits, value)."""

    counted: Cell
    hits: int = 0
    value: int = 0


@dataclass
class SiteCrowd:
    """One site's window: its key, the values it knows and the clients of the others."""

    needed: int
    seconds: int
    static_paths: frozenset[str]
    static_labels: set[str]
    placeholders: frozenset[str]
    window: int = -1
    secret: bytes = b""
    paths: set[str] = field(default_factory=set)
    labels: set[str] = field(default_factory=set)
    voters: dict[Key, set[bytes]] = field(default_factory=dict)
    cells: dict[Cell, Waiting] = field(default_factory=dict)
    waiting: dict[Key, list[Cell]] = field(default_factory=dict)
    waiting_size: int = 0

    def roll(self, now: float) -> None:
        """A new window: a new key, and every value gathers its clients afresh."""
        window = int(now) // self.seconds
        if window != self.window:
            self.window = window
            self.secret = secrets.token_bytes(16)
            self.forget_known()
            self.voters.clear()
            self.forget_waiting()

    def forget_known(self) -> None:
        self.paths = set(self.static_paths)
        self.labels = set(self.static_labels)

    def forget_waiting(self) -> None:
        self.cells.clear()
        self.waiting.clear()
        self.waiting_size = 0

    def client(self, address: str) -> bytes:
        return hashlib.blake2b(address.encode("utf-8", "replace"), digest_size=8,
                               key=self.secret).digest()


class Crowd:
    """The crowd rule for every site of a collector process."""

    def __init__(self, config: Config, buffer: Buffer) -> None:
        self.buffer = buffer
        self.sites = {name: site_crowd(site) for name, site in config.sites.items()
                      if site.crowd_clients > 1}

    def learn(self, site: str, labels: Iterable[str]) -> None:
        """Labels the site declared elsewhere (its recorded costs): known from now on."""
        state = self.sites.get(site)
        if state is not None:
            cleaned = {clean_label(label) for label in labels}
            state.static_labels |= cleaned
            state.labels |= cleaned

    def learn_costs(self, store: Store) -> None:
        self.learn_recorded(self.recorded_labels(store))

    def recorded_labels(self, store: Store) -> dict[str, list[str]]:
        """The labels of every site's recorded costs: a read, safe in another thread."""
        return {name: [str(label) for row in store.cost_totals(name, 0, 2 ** 40)
                       for label in row[1:4]] for name in self.sites}

    def learn_recorded(self, recorded: dict[str, list[str]]) -> None:
        for name, labels in recorded.items():
            self.learn(name, labels)

    def apply(self, site: Site, cell: Cell, client: str, now: float
              ) -> tuple[Cell, tuple[Key, ...]]:
        """The cell a hit counts under, and the keys of the values it still lacks.

        The hit's client is counted for each value not yet known; a value it brings to
        k clients is known from this hit on, and its earlier hits are moved to it.
        """
        state = self.sites.get(site.name)
        if state is None:
            return cell, ()
        labels = state.labels
        if (cell.path in state.paths or not cell.path) and cell.source in labels and \
                cell.medium in labels and cell.campaign in labels and cell.content in labels:
            if state.window == int(now) // state.seconds:
                return cell, ()
        state.roll(now)
        voter = state.client(client)
        qualified: list[Key] = []

        def vote(key: Key) -> bool:
            return self.vote(state, key, voter, qualified)

        counted, missing = masked(state, cell, vote)
        if qualified:
            self.credit(state, qualified)
        return counted, missing

    def detail(self, site: Site, text: str, client: str, now: float) -> str:
        """What a dropped hit's detail may say (an event the site did not declare, an
        origin it does not allow): free text too, so the same rules and the same crowd;
        RARE_LABEL when it may not be named."""
        if classify(decoded(text)):
            return RARE_LABEL
        state = self.sites.get(site.name)
        if state is None or text in state.labels and state.window == int(now) // state.seconds:
            return text
        state.roll(now)
        qualified: list[Key] = []
        known = text in state.labels or self.vote(state, ("l", text), state.client(client),
                                                   qualified)
        if qualified:
            self.credit(state, qualified)
        return text if known else RARE_LABEL

    def vote(self, state: SiteCrowd, key: Key, voter: bytes, qualified: list[Key]) -> bool:
        voters = state.voters.get(key)
        if voters is None:
            if len(state.voters) >= MAX_VOTED:
                state.voters.clear()
            voters = state.voters[key] = set()
        voters.add(voter)
        if len(voters) < state.needed:
            return False
        del state.voters[key]
        known = state.paths if key[0] == "p" else state.labels
        if len(known) >= MAX_KNOWN:
            state.forget_known()
        known.add(key[1])
        qualified.append(key)
        return True

    def remember(self, site: Site, cell: Cell, counted: Cell, value: int,
                 missing: tuple[Key, ...]) -> None:
        """A hit of cell was counted as counted: move it once its values qualify."""
        state = self.sites[site.name]
        entry = state.cells.get(cell)
        if entry is None:
            if len(state.cells) >= MAX_CELLS or state.waiting_size >= MAX_CELLS * 8:
                state.forget_waiting()
            entry = state.cells[cell] = Waiting(counted)
            self.wait(state, cell, missing)
        entry.hits += 1
        entry.value += value

    def wait(self, state: SiteCrowd, cell: Cell, missing: Iterable[Key]) -> None:
        for key in missing:
            state.waiting.setdefault(key, []).append(cell)
            state.waiting_size += 1

    def credit(self, state: SiteCrowd, qualified: list[Key]) -> None:
        """Move the hits waiting for values that just qualified to what they count as now."""
        for key in qualified:
            for cell in state.waiting.pop(key, ()):
                entry = state.cells.get(cell)
                if entry is None:
                    continue
                now_counted, missing = masked(state, cell, None)
                if now_counted != entry.counted:
                    entry.counted = self.buffer.move(entry.counted, now_counted, entry.hits,
                                                     entry.value)
                if missing:
                    self.wait(state, cell, missing)
                else:
                    del state.cells[cell]


def site_crowd(site: Site) -> SiteCrowd:
    known_labels = {clean_label(label) for link in site.links.values()
                    for label in (link.source, link.medium, link.campaign, link.content)}
    known_labels |= {clean_label(label) for label in site.campaigns}
    known_labels |= OWN_LABELS | PLACEHOLDERS | {""}
    paths = {"/"}
    for template in site.paths:
        prefix = ""
        for part in template:
            if part == "*":
                break
            prefix += "/" + part
            paths.add(prefix)
    return SiteCrowd(needed=site.crowd_clients, seconds=site.crowd_hours * 3600,
                     static_paths=frozenset(paths), static_labels=known_labels,
                     placeholders=PLACEHOLDERS | template_names(site.paths))


def masked(state: SiteCrowd, cell: Cell, vote: Vote | None) -> tuple[Cell, tuple[Key, ...]]:
    """cell with the values its site does not know replaced by placeholders; with vote,
    the hit's client is counted for each of them first."""
    missing: list[Key] = []
    path = masked_path(state, cell.path, vote, missing) if cell.path else ""
    source, medium, campaign, content = (
        masked_label(state, label, vote, missing)
        for label in (cell.source, cell.medium, cell.campaign, cell.content))
    if path == cell.path and (source, medium, campaign, content) == (
            cell.source, cell.medium, cell.campaign, cell.content):
        return cell, ()
    return cell._replace(path=path, source=source, medium=medium, campaign=campaign,
                         content=content), tuple(missing)


def masked_path(state: SiteCrowd, path: str, vote: Vote | None, missing: list[Key]) -> str:
    """Each segment is kept when the path up to it is known, as sent or with the
    segments before it that were replaced: "/account/:rare/settings"."""
    if path in state.paths:
        return path
    body, slash = (path[:-1], "/") if len(path) > 1 and path.endswith("/") else (path, "")
    real = out = ""
    for segment in body.split("/"):
        if not segment:
            continue
        real += "/" + segment
        candidate = out + "/" + segment
        if segment in state.placeholders:
            out = candidate
            continue
        # Both forms gather the client's vote: the path as sent qualifies on its own
        # even while its form with placeholders is already known.
        known = False
        for key in {real, candidate}:
            if key in state.paths or vote is not None and vote(("p", key)):
                known = True
            else:
                missing.append(("p", key))
        out = candidate if known else out + "/" + RARE_SEGMENT
    result = (out or "/") + slash
    if result == path and len(state.paths) < MAX_KNOWN:
        state.paths.add(path)
    return result


def masked_label(state: SiteCrowd, label: str, vote: Vote | None, missing: list[Key]) -> str:
    if label in state.labels or vote is not None and vote(("l", label)):
        return label
    missing.append(("l", label))
    return RARE_LABEL
