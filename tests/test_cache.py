"""The bounded cache: a ceiling on entries and on key length, whatever arrives."""

from __future__ import annotations

from consentpixel.cache import BoundedCache, key_length


def test_a_remembered_value_is_found_and_returned() -> None:
    cache: BoundedCache[str, int] = BoundedCache(4, 10)
    assert cache.get("a") is None
    assert cache.remember("a", 1) == 1
    assert cache.get("a") == 1 and "a" in cache and len(cache) == 1


def test_it_never_holds_more_than_its_maximum() -> None:
    cache: BoundedCache[str, int] = BoundedCache(3, 10)
    for index in range(10):
        cache.remember(f"k{index}", index)
        assert len(cache) <= 3
    assert cache.get("k9") == 9  # the newest entry survives the emptying


def test_when_full_it_starts_afresh() -> None:
    cache: BoundedCache[str, int] = BoundedCache(2, 10)
    cache.remember("a", 1)
    cache.remember("b", 2)
    cache.remember("c", 3)
    assert list(cache) == ["c"]


def test_long_keys_are_returned_but_never_kept() -> None:
    cache: BoundedCache[str, str] = BoundedCache(10, 5)
    assert cache.remember("12345", "kept") == "kept"
    assert cache.remember("123456", "not kept") == "not kept"
    assert list(cache) == ["12345"]
    assert cache.get("123456") is None


def test_tuple_keys_count_their_parts_together() -> None:
    assert key_length(("shop", "https://shop.example")) == 4 + 20
    assert key_length(b"\x00" * 16) == 16 and key_length(7) == 0
    cache: BoundedCache[tuple[str, str], bool] = BoundedCache(10, 10)
    cache.remember(("a", "b" * 9), True)
    cache.remember(("a", "b" * 10), True)
    assert len(cache) == 1


def test_a_cache_of_no_entries_remembers_nothing() -> None:
    cache: BoundedCache[str, int] = BoundedCache(0, 10)
    assert cache.remember("a", 1) == 1
    assert len(cache) == 0 and cache.get("a") is None


def test_the_bytes_it_holds_have_a_ceiling() -> None:
    cache: BoundedCache[str, int] = BoundedCache(100, 50)
    for index in range(5000):
        cache.remember(str(index) * (index % 80 + 1), index)
    assert len(cache) <= 100
    assert sum(len(key) for key in cache) <= 100 * 50
