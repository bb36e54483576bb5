"""Real Redis for the cluster tests: the machine's Redis (TEST_REDIS_URL, default redis://127.0.0.1:6379/0), a
fresh random key prefix per test and every key under it deleted afterwards. Without Redis the tests skip with a
reason saying how to get it; under CI=true (where .ci/run's machine has Redis running) that is a failure."""
from __future__ import annotations

import os
import uuid

import pytest
import redis
import redis.asyncio
from .services import unavailable

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _unreachable(url: str) -> str | None:
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        try:
            client.ping()
        finally:
            client.close()
    except redis.RedisError as exc:
        return str(exc) or type(exc).__name__
    return None


@pytest.fixture
def redis_url() -> str:
    problem = _unreachable(REDIS_URL)
    if problem:
        reason = (f"Redis is not reachable at {REDIS_URL} ({problem}): install and start it (apt-get install "
                  f"redis-server; redis-server --daemonize yes) or point TEST_REDIS_URL at one")
        unavailable(reason)
    return REDIS_URL


async def delete_prefixed(url: str, prefix: str) -> None:
    client = redis.asyncio.Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
async def redis_prefix(redis_url):
    """A cluster prefix no other test uses; its keys are deleted after the test."""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    yield prefix
    await delete_prefixed(redis_url, prefix)
