"""Every Redis key and pub/sub channel of one cluster, in one place, all starting with `<prefix>:`.

Two clusters (or a test run) can share one Redis: keys could be kept apart by the database number in the URL, but
pub/sub channels ignore it, so the prefix is what separates them."""
from __future__ import annotations


class RedisNames:
    def __init__(self, prefix: str):
        self.prefix = prefix

    def key(self, *parts: object) -> str:
        """`<prefix>:part:part...`, e.g. key("live", "agent", 7) -> "chat:live:agent:7"."""
        return ":".join([self.prefix, *(str(part) for part in parts)])

    @property
    def socketio_channel(self) -> str:
        """python-socketio's AsyncRedisManager: every emit, for the sockets on the other nodes."""
        return self.key("socketio")

    @property
    def relay_channel(self) -> str:
        """Node-to-node notices (chatserver/cluster/relay.py)."""
        return self.key("relay")
