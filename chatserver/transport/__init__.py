"""The Socket.IO transport: python-socketio and python-engineio, configured, made cheaper and stricter.

- server.py: `create_socket_server`, the one way the app gets its Socket.IO server.
- frames.py: what a client may send; anything else closes its connection (docs/operations.md, "Frames").
- engine.py: the Engine.IO server (long-polling POSTs checked before they are read; `refuse`).
- websocket.py: the lean WebSocket loops, without permessage-deflate (docs/performance.md).
- inline_send.py: emits to a lone recipient without a task each (one process).
- redis_manager.py: emits across the nodes of a cluster (python-socketio's AsyncRedisManager).
- json_codec.py: orjson for both libraries.
- versions.py: the library releases this is tested with, checked at start-up.
- connection_cap.py: at most so many Engine.IO connections per client address.
- namespace.py: the namespace base class and connect refusal the socket edge builds on.

Only this package and the notifier import socketio or engineio.
"""
from .connection_cap import install as cap_connections_per_address
from .namespace import ConnectionRefused, Namespace
from .server import ChatSocketServer, create_socket_server
from .versions import UnsupportedLibraryVersion, check_library_versions

__all__ = ["cap_connections_per_address", "ChatSocketServer", "ConnectionRefused", "Namespace", "UnsupportedLibraryVersion", "check_library_versions", "create_socket_server"]
