"""The Redis cache shares one connection pool between all the threads of a process (Daphne runs each
request on a fresh thread; the stock backend opened a Redis connection per request)."""

from __future__ import annotations

import threading
import uuid

import redis

from crowdswap.cache import SharedRedisCache


def test_threads_share_one_client_and_few_connections(redis_url: str) -> None:
    prefix = f"t{uuid.uuid4().hex[:8]}"
    server = redis.Redis.from_url(redis_url)
    before = len(server.client_list())
    clients = []
    errors: list[BaseException] = []

    def request(number: int) -> None:
        # What Django does per thread: a new cache object for the alias.
        cache = SharedRedisCache(redis_url, {"KEY_PREFIX": prefix})
        try:
            assert cache.add(f"guess-rate:{number}", 1, timeout=30)
            assert not cache.add(f"guess-rate:{number}", 1, timeout=30)
            assert cache.incr(f"guess-rate:{number}") == 2
            clients.append(cache._cache)
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)

    for batch in range(5):
        threads = [threading.Thread(target=request, args=(batch * 10 + n,)) for n in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    assert not errors, errors
    assert len(clients) == 50 and len({id(client) for client in clients}) == 1
    # 50 "requests" on 50 threads, at most 10 at once: connections are reused, not opened per request.
    opened = len(server.client_list()) - before
    assert opened <= 10, opened
    assert SharedRedisCache(redis_url, {"KEY_PREFIX": prefix}).get("guess-rate:7") == 2


def test_different_locations_or_options_get_their_own_client(redis_url: str) -> None:
    first = SharedRedisCache(redis_url, {})._cache
    other_db = SharedRedisCache(redis_url.rsplit("/", 1)[0] + "/5", {})._cache
    with_options = SharedRedisCache(redis_url, {"OPTIONS": {"socket_timeout": 5}})._cache
    assert first is SharedRedisCache(redis_url, {})._cache
    assert len({id(first), id(other_db), id(with_options)}) == 3
