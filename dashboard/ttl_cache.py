"""A small time-to-live cache, so browsers on the same view share one computation.

Created per app (in a ``register``), never at module level. Concurrent callers of a missing
key wait for the first one's result instead of computing it again.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class TTLCache(Generic[V]):
    """Values by key for ``ttl_seconds``; the oldest entries go first past ``max_entries``."""

    def __init__(self, ttl_seconds: float, *, max_entries: int = 128,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()
        self._computing: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()

    def _fresh(self, key: Hashable) -> tuple[bool, V | None]:
        hit = self._entries.get(key)
        if hit is not None and self._clock() - hit[0] < self.ttl_seconds:
            return True, hit[1]
        return False, None

    def get(self, key: Hashable, compute: Callable[[], V]) -> V:
        """Return the cached value of ``key``, computing it (once) when missing or expired."""
        with self._lock:
            found, value = self._fresh(key)
            if found:
                return value  # type: ignore[return-value]
            key_lock = self._computing.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                found, value = self._fresh(key)
            if found:
                return value  # type: ignore[return-value]
            fresh = compute()
            with self._lock:
                self._entries[key] = (self._clock(), fresh)
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
                self._computing.pop(key, None)
            return fresh
