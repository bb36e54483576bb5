"""The domain layer: the help desk's operations, between the edges (Socket.IO namespaces, HTTP views) and the
store. Each operation is a verb (send a visitor message, claim, transfer, close, run a bot turn...): it validates,
runs one store transaction, updates the live state, and hands the events it caused to the notifier. Operations
never import an edge and never touch Socket.IO: see docs/architecture.md.
"""
from __future__ import annotations

from .context import Desk

__all__ = ["Desk"]
