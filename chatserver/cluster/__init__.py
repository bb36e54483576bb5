"""One node of several: what the nodes of a cluster share through Redis (CHAT_REDIS_URL).

- names.py: every Redis key and pub/sub channel of a cluster, all under its prefix (CHAT_REDIS_PREFIX).
- redis_client.py: the redis-py client from a `redis://`, `rediss://`, `unix://` or `redis+sentinel://` URL.
- relay.py: node-to-node notices for what each node can only do for its own sockets (signing agents out).
- node.py: `join(config)`, the refusal to run a cluster on SQLite, and the node's lifetime.

The shared live state itself is `chatserver/desk/live_redis.py`; python-socketio's `AsyncRedisManager` carries
emits between nodes (chatserver/transport/redis_manager.py). docs/operations.md, "Redis", says how it behaves.

The package imports nothing itself: import the module you need (the transport imports names.py alone).
"""
