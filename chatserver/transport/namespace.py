"""The two python-socketio classes the socket edge builds on, so the namespaces import them from here: a
class-based namespace, and the refusal a connect handler raises (its code reaches the client's connect_error)."""
from __future__ import annotations

import socketio

Namespace = socketio.AsyncNamespace
ConnectionRefused = socketio.exceptions.ConnectionRefusedError
