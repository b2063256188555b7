"""core/cache.py: Django's Redis cache keeping one ``redis.Redis`` per pool (not one per operation)."""

from __future__ import annotations

import secrets

import pytest
from django.conf import settings
from django.core.cache import caches

from core.cache import PooledRedisCache

REDIS = settings.CACHES["default"]["BACKEND"].endswith("PooledRedisCache")


@pytest.mark.skipif(not REDIS, reason="the Redis cache is configured with REDIS_URL")
def test_one_client_per_pool_and_the_cache_still_works() -> None:
    cache = caches["default"]
    assert isinstance(cache, PooledRedisCache)
    client = cache._cache  # the backend's RedisCacheClient
    assert client.get_client() is client.get_client(write=True) is client.get_client("any-key")
    key = f"test-cache-client-{secrets.token_hex(8)}"
    assert cache.add(key, 1, timeout=5) is True
    assert cache.add(key, 2, timeout=5) is False  # a nonce seen twice: the second add refuses
    assert cache.get(key) == 1
    cache.delete(key)
    assert cache.get(key) is None
