"""A time-to-live cache shared by every browser on the same view: cachetools does the work.

Created per app (in a ``register`` or a builder), never at module level. cachetools' ``cached``
with a condition variable makes concurrent callers of a missing key wait for the first one's
result instead of computing it again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from cachetools import TTLCache, cached

V = TypeVar("V")


class SharedCache(Generic[V]):
    """Values by key for ``ttl_seconds``; the least recently used go first past ``maxsize``."""

    def __init__(self, ttl_seconds: float, *, maxsize: int = 128,
                 timer: Callable[[], float] = time.monotonic) -> None:
        self._cache: TTLCache[Hashable, V] = TTLCache(maxsize=maxsize, ttl=ttl_seconds,
                                                      timer=timer)
        condition = threading.Condition()

        def compute(key: Hashable, fn: Callable[[], V]) -> V:
            return fn()

        self._get: Callable[[Hashable, Callable[[], V]], V] = cached(
            self._cache, key=lambda key, fn: key, lock=condition, condition=condition)(compute)

    def get(self, key: Hashable, compute: Callable[[], V]) -> V:
        """Return the cached value of ``key``, computing it (once) when missing or expired."""
        return self._get(key, compute)
