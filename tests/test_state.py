"""What one app instance holds between requests: a result cache bounded in entries and bytes and keyed
by a hash, and per-client slots (a client is its address, or the X-Forwarded-For of a trusted proxy)."""

from __future__ import annotations

import threading
import time

import pytest

from rkg.web.state import Cached, ClientSlots, ResultCache, TooManyRequests, client_address


def answer(size: int) -> Cached:
    return Cached.answer(b"x" * size, "text/plain")


def test_cache_is_bounded_in_bytes() -> None:
    cache = ResultCache(entries=1000, max_body=100_000, max_bytes=50_000)
    for i in range(100):
        cache.put(("v", "q" * 1_000_000, i), answer(10_000))  # 1 MB query texts: only their hash is kept
        assert cache.size <= 50_000
    assert cache.get(("v", "q" * 1_000_000, 99)) is not None
    assert cache.get(("v", "q" * 1_000_000, 0)) is None
    assert len(cache._data) == 4 and all(len(k) == 20 for k in cache._data)


def test_cache_refuses_bodies_over_its_limits_and_clears() -> None:
    cache = ResultCache(entries=10, max_body=1_000, max_bytes=10_000)
    cache.put(("big",), answer(2_000))
    assert cache.get(("big",)) is None
    cache.put(("a",), answer(10))
    cache.put(("a",), answer(20))  # replacing an entry counts it once
    assert cache.size == 20 + ResultCache.OVERHEAD
    cache.clear()
    assert cache.size == 0 and cache.get(("a",)) is None


def test_client_slots_limit_one_client_not_the_others() -> None:
    slots = ClientSlots(limit=2)
    slots.acquire("10.0.0.1", 0.1)
    slots.acquire("10.0.0.1", 0.1)
    started = time.monotonic()
    with pytest.raises(TooManyRequests):
        slots.acquire("10.0.0.1", 0.2)
    assert time.monotonic() - started < 1
    slots.acquire("10.0.0.2", 0.1)  # another client is not held up
    threading.Timer(0.1, slots.release, args=("10.0.0.1",)).start()
    slots.acquire("10.0.0.1", 2.0)  # its turn comes when one of its own ends


@pytest.mark.parametrize("remote, forwarded, trusted, expected", [
    ("203.0.113.9", "", frozenset(), "203.0.113.9"),
    ("203.0.113.9", "198.51.100.1", frozenset(), "203.0.113.9"),  # untrusted: the header is ignored
    ("10.0.0.2", "198.51.100.1", frozenset({"10.0.0.2"}), "198.51.100.1"),
    ("10.0.0.2", "6.6.6.6, 198.51.100.1, 10.0.0.3", frozenset({"10.0.0.2", "10.0.0.3"}), "198.51.100.1"),
    ("10.0.0.2", "", frozenset({"10.0.0.2"}), "10.0.0.2"),
])
def test_client_address(remote: str, forwarded: str, trusted: frozenset, expected: str) -> None:
    environ = {"REMOTE_ADDR": remote, **({"HTTP_X_FORWARDED_FOR": forwarded} if forwarded else {})}
    assert client_address(environ, trusted) == expected
