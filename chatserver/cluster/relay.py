"""Node-to-node notices on one prefixed Redis pub/sub channel.

python-socketio's Redis manager carries emits to rooms on every node, but some things only the node holding a socket
can do: a room's members are known to that node alone, so "disconnect every socket of agent 7" (AgentSignedOut) must
run on each node for its own sockets. The notifier does it here and publishes a notice; every other node's notifier
does it there. Redis pub/sub delivers to whoever is subscribed at that moment, which is every live node."""
from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

import orjson
from redis.exceptions import RedisError

from ..errors import StorageError
from . import subscription

log = logging.getLogger(__name__)

Handler = Callable[[str, dict], Awaitable[None]]


class NodeRelay:
    def __init__(self, redis, channel: str, node_id: str):
        self.redis = redis
        self.channel = channel
        self.node_id = node_id
        self.subscribed = asyncio.Event()

    async def publish(self, kind: str, payload: dict) -> None:
        """Tell the other nodes; a StorageError when Redis cannot be reached (the operation then fails visibly)."""
        try:
            await self.redis.publish(self.channel, orjson.dumps({"node": self.node_id, "kind": kind,
                                                                 "payload": payload}))
        except RedisError as exc:
            raise StorageError("the other server nodes cannot be told (Redis cannot be reached); try again") from exc

    async def listen(self, handler: Handler) -> None:
        """Run `handler(kind, payload)` for each notice another node publishes, until cancelled (subscribing again
        by itself after Redis comes back: subscription.py)."""
        async for data in subscription.messages(self.redis, self.channel, self.subscribed):
            await self._dispatch(handler, data)

    async def _dispatch(self, handler: Handler, data) -> None:
        try:
            notice = orjson.loads(data)
            if notice["node"] == self.node_id:
                return      # this node did it already, before publishing
            await handler(notice["kind"], notice["payload"])
        except Exception:
            log.exception("node relay could not handle a notice")
