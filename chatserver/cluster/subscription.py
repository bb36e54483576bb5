"""One Redis pub/sub subscription that comes back by itself: after Redis went away, it subscribes again within a
second of Redis answering (python-socketio's own listener doubles its wait up to 60 s, so a node could stay deaf to
the others for a minute after a long outage). Messages published while it was not subscribed are lost: pub/sub
keeps nothing."""
from __future__ import annotations

import asyncio
import logging
from typing import AsyncIterator

log = logging.getLogger(__name__)

RETRY_SECONDS = (0.1, 0.25, 0.5, 1.0)        # between attempts to subscribe again, the last one repeated


async def messages(redis, channel: str, subscribed: asyncio.Event) -> AsyncIterator:
    """The data of every message published on `channel`, until cancelled; `subscribed` is set while subscribed."""
    failures = 0
    while True:
        pubsub = redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(channel)
            subscribed.set()
            failures = 0
            while True:
                message = await pubsub.get_message(timeout=1.0)
                if message is not None and message.get("type") == "message":
                    yield message["data"]
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            subscribed.clear()
            delay = RETRY_SECONDS[min(failures, len(RETRY_SECONDS) - 1)]
            failures += 1
            if failures in (1, 10) or failures % 100 == 0:      # not a line every second of a long outage
                log.warning("lost the Redis subscription to %s (%s); subscribing again", channel, exc)
            await asyncio.sleep(delay)
        finally:
            await pubsub.aclose()
