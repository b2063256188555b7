"""Django's Redis cache with one client object per connection pool (docs/performance.md §Cards).

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every cache operation;
redis-py 7 fills each new client's response-callback table and event dispatcher (~170 entries),
which cost about a fifth of the CPU of a signed request (three cache operations: nonce, throttle
read and write). A ``redis.Redis`` is thread-safe over its pool, so this client keeps one per
pool. Everything else (pools, serializer, options, behaviour) is Django's.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class PooledRedisCacheClient(RedisCacheClient):
    """:class:`RedisCacheClient` whose ``get_client`` returns the pool's one ``redis.Redis``."""

    # set by Django's RedisCacheClient.__init__ (not in django-stubs)
    _servers: list[str]
    _pools: dict[int, Any]
    _pool_class: Any
    _pool_options: dict[str, Any]
    _client: Any
    _get_connection_pool_index: Any

    def __init__(self, servers: list[str], **options: Any) -> None:
        super().__init__(servers, **options)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:  # the pool of this index, made as Django makes it
            if index not in self._pools:
                self._pools[index] = self._pool_class.from_url(self._servers[index], **self._pool_options)
            client = self._clients[index] = self._client(connection_pool=self._pools[index])
        return client


class PooledRedisCache(RedisCache):
    """``django.core.cache.backends.redis.RedisCache`` with :class:`PooledRedisCacheClient`."""

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = PooledRedisCacheClient
