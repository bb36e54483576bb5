"""Emits across nodes: python-socketio's `AsyncRedisManager` on the cluster's prefixed channel (CHAT_REDIS_URL).

Each emit is handled for this node's sockets and published on `<prefix>:socketio`; every other node's manager
emits it to its own sockets in the room. Rooms stay per node (a node knows only its own sockets' rooms).

python-socketio subscribes when the first client connects to a node; `start_cluster_messaging` subscribes at
start instead, so a node hears emits from the moment it serves. A publish that fails twice is logged and dropped
by python-socketio (the message itself is stored: clients catch up with `sync` or on reconnect)."""
from __future__ import annotations

import asyncio
import time

import socketio
from socketio.async_pubsub_manager import AsyncPubSubManager

from ..cluster.names import RedisNames

SUBSCRIBE_WAIT_SECONDS = 5.0


def redis_manager(url: str, prefix: str) -> socketio.AsyncRedisManager:
    return socketio.AsyncRedisManager(url, channel=RedisNames(prefix).socketio_channel)


async def start_cluster_messaging(sio: socketio.AsyncServer) -> None:
    """Start the manager's listener now and wait (a few seconds at most) until it is subscribed."""
    manager = sio.manager
    if not isinstance(manager, AsyncPubSubManager):
        return
    if not sio.manager_initialized:
        sio.manager_initialized = True
        manager.initialize()
    deadline = time.monotonic() + SUBSCRIBE_WAIT_SECONDS
    while time.monotonic() < deadline and not (manager.pubsub is not None and manager.pubsub.subscribed):
        await asyncio.sleep(0.01)


async def stop_cluster_messaging(sio: socketio.AsyncServer) -> None:
    """Stop the listener and close the manager's Redis connections."""
    manager = sio.manager
    if not isinstance(manager, AsyncPubSubManager):
        return
    thread = getattr(manager, "thread", None)
    if thread is not None:
        thread.cancel()
        await asyncio.gather(thread, return_exceptions=True)
    if getattr(manager, "pubsub", None) is not None:
        await manager.pubsub.aclose()
    if getattr(manager, "redis", None) is not None:
        await manager.redis.aclose()
