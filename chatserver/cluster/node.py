"""This server as one node of a cluster: `join(config)` (None without CHAT_REDIS_URL), and the node's lifetime
(its live state's heartbeat, the Socket.IO manager's subscription, the node relay), used by the app factory."""
from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..transport.redis_manager import start_cluster_messaging, stop_cluster_messaging
from . import redis_client
from .names import RedisNames
from .relay import NodeRelay

if TYPE_CHECKING:
    from ..config import Config


class ClusterMisconfigured(RuntimeError):
    """The settings cannot make a working cluster node; run.py prints the message and exits non-zero."""


@dataclass
class ClusterNode:
    redis: object               # redis.asyncio.Redis: the live state and the relay (emits have their own client)
    names: RedisNames
    node_id: str                # new at every start: a restarted node is a new node
    relay: NodeRelay


def uses_sqlite(config: "Config") -> bool:
    """Whether this server's database is the SQLite file under the data dir (CHAT_DATABASE_URL unset); a
    PostgreSQL URL is a database every node can reach."""
    return not config.database_url


def join(config: "Config") -> ClusterNode | None:
    """The cluster this server is a node of, or None when it runs alone (no CHAT_REDIS_URL). Refuses SQLite: several
    processes cannot share one SQLite file safely, and nodes on separate files would each have their own desk."""
    if not config.redis_url:
        return None
    if uses_sqlite(config):
        raise ClusterMisconfigured(
            f"CHAT_REDIS_URL is set, so this server would be one node of a cluster, but its database is the SQLite "
            f"file {config.db_path}: several nodes cannot share one SQLite file. Set CHAT_DATABASE_URL to a "
            f"PostgreSQL database every node can reach (postgresql://user@host:5432/chat), or unset CHAT_REDIS_URL "
            f"to run one process on SQLite.")
    try:
        redis = redis_client.connect(config.redis_url)
    except ValueError as exc:
        raise ClusterMisconfigured(f"CHAT_REDIS_URL: {exc}") from None
    names = RedisNames(config.redis_prefix)
    node_id = uuid.uuid4().hex
    return ClusterNode(redis=redis, names=names, node_id=node_id,
                       relay=NodeRelay(redis, names.relay_channel, node_id))


def lifetime(node: ClusterNode, sio, live, notifier):
    """The node's `cleanup_ctx`: emits subscribed before the first client connects, the live state's heartbeat,
    the relay's listener; at shutdown all stopped and the Redis connections closed."""
    async def node_lifetime(app):
        await start_cluster_messaging(sio)
        await live.start()
        listener = asyncio.get_running_loop().create_task(node.relay.listen(notifier.relayed))
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(node.relay.subscribed.wait(), 5.0)
        yield
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        await live.close()
        await stop_cluster_messaging(sio)
        await node.redis.aclose()

    return node_lifetime
