"""A small memo for the hot path that cannot grow without bound.

It holds at most `max_entries` entries and never a key longer than `max_key`
characters (or bytes; a tuple key counts its parts together), so its size in bytes
has a ceiling whatever clients send. When full it is emptied at once: cheaper on
every hit than keeping an order for least-recently-used eviction, and what is used
often is back after a few hits.
"""

from __future__ import annotations

from typing import Callable, Generic, Hashable, Iterator, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    def __init__(self, max_entries: int, max_key: int) -> None:
        self.max_entries = max_entries
        self.max_key = max_key
        self.entries: dict[K, V] = {}
        # A plain dict lookup: the hot path pays no call of ours on a hit.
        self.get: Callable[[K], V | None] = self.entries.get

    def remember(self, key: K, value: V) -> V:
        """Keep value under key, if the key is short enough; value either way."""
        if self.max_entries > 0 and key_length(key) <= self.max_key:
            if len(self.entries) >= self.max_entries:
                self.entries.clear()
            self.entries[key] = value
        return value

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[K]:
        return iter(self.entries)

    def __contains__(self, key: object) -> bool:
        return key in self.entries


def key_length(key: object) -> int:
    if isinstance(key, (str, bytes)):
        return len(key)
    if isinstance(key, tuple):
        return sum(key_length(part) for part in key)
    return 0  # numbers and other fixed-size keys
