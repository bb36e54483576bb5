"""The redis-py asyncio client for a CHAT_REDIS_URL: `redis://host:port/db`, `rediss://` (TLS), `unix://path` and
`redis+sentinel://[:password@]host1:port1,host2:port2/db/service` (the Sentinel format python-socketio's
AsyncRedisManager reads too, so one URL serves both)."""
from __future__ import annotations

from urllib.parse import unquote, urlparse

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import ExponentialWithJitterBackoff


def client_options() -> dict:
    """A command that cannot reach Redis fails within a second or so (an error ack the client may retry) rather
    than holding an operation: three quick retries ride out a dropped connection, not an outage (redis-py's default
    retries ten times, for seconds). Each client gets its own Retry (it keeps the backoff's state)."""
    return {"decode_responses": True, "socket_connect_timeout": 2.0, "socket_timeout": 5.0,
            "health_check_interval": 15, "retry": Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.25), 3)}


async def close_sentinels(client) -> None:
    """A client found through Sentinel keeps connections to the sentinels too; redis-py's aclose leaves them open."""
    manager = getattr(client.connection_pool, "sentinel_manager", None)
    for sentinel in getattr(manager, "sentinels", []):
        await sentinel.aclose()


class SentinelPrimary(redis.Redis):
    """The primary a Sentinel names; closing it closes the connections to the sentinels as well."""

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        await close_sentinels(self)


def parse_sentinel_url(url: str) -> tuple[list[tuple[str, int]], str, dict]:
    """(sentinels, service name, connection options) of a `redis+sentinel://` URL."""
    parsed = urlparse(url)
    if parsed.scheme != "redis+sentinel":
        raise ValueError("not a redis+sentinel:// URL")
    sentinels = []
    for host_port in parsed.netloc.rsplit("@", 1)[-1].split(","):
        host, _, port = host_port.rpartition(":")
        sentinels.append((host or "localhost", int(port or 26379)))
    options: dict = {}
    if parsed.username:
        options["username"] = unquote(parsed.username)
    if parsed.password:
        options["password"] = unquote(parsed.password)
    parts = parsed.path.split("/")
    if len(parts) >= 2 and parts[1]:
        options["db"] = int(parts[1])
    if len(parts) < 3 or not parts[2]:
        # python-socketio would fall back to its channel name, which no Sentinel monitors: say so instead.
        raise ValueError("a redis+sentinel:// URL names its service after the database: "
                         "redis+sentinel://host1:26379,host2:26379/0/mymaster")
    return sentinels, parts[2], options


def connect(url: str) -> redis.Redis:
    """A client (connections are opened on first use, and reopened after Redis comes back)."""
    if url.lower().startswith("redis+sentinel://"):
        sentinels, service, options = parse_sentinel_url(url)
        # As python-socketio does: the URL's credentials and database are the primary's.
        return Sentinel(sentinels, **options, **client_options()).master_for(service, redis_class=SentinelPrimary)
    return redis.Redis.from_url(url, **client_options())
