"""Emits across nodes: python-socketio's `AsyncRedisManager` on the cluster's prefixed channel (CHAT_REDIS_URL).

Each emit is handled for this node's sockets and published on `<prefix>:socketio`; every other node's manager
emits it to its own sockets in the room. Rooms stay per node (a node knows only its own sockets' rooms).

Two changes to python-socketio's manager: it subscribes when the node starts (`start_cluster_messaging`), not at
the first client's connection, so a node hears emits from the moment it serves; and its listener is
chatserver/cluster/subscription.py, which subscribes again within a second of Redis coming back (python-socketio's
doubles its wait up to 60 s). A publish that fails twice is logged and dropped by python-socketio, and emits
published while a node was not subscribed are lost: the messages themselves are stored, and clients catch up with
`sync` or when they reconnect."""
from __future__ import annotations

import asyncio

import socketio
from socketio.async_pubsub_manager import AsyncPubSubManager

from ..cluster import redis_client, subscription
from ..cluster.names import RedisNames

SUBSCRIBE_WAIT_SECONDS = 5.0


class ChatRedisManager(socketio.AsyncRedisManager):
    """python-socketio's Redis manager with its listener replaced. `_listen` is the hook AsyncPubSubManager's
    listener task reads (`async for message in self._listen()`, then it dispatches each message)."""

    def __init__(self, url: str, channel: str):
        super().__init__(url, channel=channel)
        self.listening = asyncio.Event()
        self._listener_redis = None

    async def _listen(self):
        self._listener_redis = redis_client.connect(self.redis_url)
        async for data in subscription.messages(self._listener_redis, self.channel, self.listening):
            yield data

    async def close(self) -> None:
        if self._listener_redis is not None:
            await self._listener_redis.aclose()
        publisher = getattr(self, "redis", None)      # python-socketio's, made at the first publish
        if publisher is not None:
            await publisher.aclose()
            await redis_client.close_sentinels(publisher)


def redis_manager(url: str, prefix: str) -> ChatRedisManager:
    return ChatRedisManager(url, channel=RedisNames(prefix).socketio_channel)


async def start_cluster_messaging(sio: socketio.AsyncServer) -> None:
    """Start the manager's listener now and wait (a few seconds at most) until it is subscribed."""
    manager = sio.manager
    if not isinstance(manager, ChatRedisManager):
        return
    if not sio.manager_initialized:
        sio.manager_initialized = True
        manager.initialize()
    try:
        await asyncio.wait_for(manager.listening.wait(), SUBSCRIBE_WAIT_SECONDS)
    except asyncio.TimeoutError:
        pass        # Redis is not answering yet: the listener keeps trying, emits from others reach us once it does


async def stop_cluster_messaging(sio: socketio.AsyncServer) -> None:
    """Stop the listener and close the manager's Redis connections."""
    manager = sio.manager
    if not isinstance(manager, AsyncPubSubManager):
        return
    thread = getattr(manager, "thread", None)
    if thread is not None:
        thread.cancel()
        await asyncio.gather(thread, return_exceptions=True)
    if isinstance(manager, ChatRedisManager):
        await manager.close()
