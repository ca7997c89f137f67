"""Left only for tracker/items/ledger.py, whose own caches are being removed: delete it with them.

`marker()` is the items generation of tracker/cache.py (every way rows change renews it there);
`Cache` is the ledger's per-process LRU keyed by (marker, ...)."""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

from tracker import cache

T = TypeVar("T")


def marker() -> str | None:
    """The current items generation; None before the first change (nothing may be cached then)."""
    return cache.generations().get(cache.ITEMS)


class Cache:
    """A small per-process LRU, keyed by (marker, ...); safe for threaded workers."""

    def __init__(self, size: int = 256):
        self._size, self._entries, self._lock = size, OrderedDict(), threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The cached value for `key`, or compute it (and keep it unless the marker is unknown)."""
        if key[0] is None:
            return compute()
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key]
        value = compute()
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return value
