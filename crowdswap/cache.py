"""A Redis cache whose connections are shared by every thread of the process."""

import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache
from django.utils.functional import cached_property

_clients: dict[tuple[str, ...], Any] = {}
_lock = threading.Lock()


class SharedRedisCache(RedisCache):
    """Django's RedisCache, with one client (one connection pool) per process and location.

    Django keeps a cache object per thread, and Daphne runs each request's sync code on a fresh
    thread, so the stock backend opened a new Redis connection for every request (a quarter of a
    guess's cost under load). redis-py's connection pool is thread-safe, so one is enough.
    """

    @cached_property
    def _cache(self) -> Any:
        key = (*self._servers, repr(sorted(self._options.items())))
        with _lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = self._class(self._servers, **self._options)
            return client
