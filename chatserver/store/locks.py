"""Row and advisory locks, for the engine that needs them.

On SQLite every write runs in the one writer thread inside `BEGIN IMMEDIATE`, so a write already excludes every
other: these helpers add nothing. On PostgreSQL, writes from the pool's threads and from other nodes run at the
same time, so a write that reads a row and then changes it on the strength of what it read (the next `seq`, the
status an assignment expects, whether a `client_id` was used) locks that row first. `FOR NO KEY UPDATE` is the
lock an UPDATE of non-key columns takes itself: it excludes other writers of the row and never blocks the
`FOR KEY SHARE` locks that inserting a referencing row (a message, an event) takes.

Lock order, so that two writes never wait for each other: a visitor before any of their conversations, and
conversations by ascending id.
"""
from __future__ import annotations

# The advisory lock held while the schema is migrated, the server secret made, the first admin created.
BOOTSTRAP = 0x63686174  # "chat"


def row_lock(db, table: str | None = None) -> str:
    """The clause to append to a SELECT whose rows this write will change: `FOR NO KEY UPDATE [OF table]` on
    PostgreSQL inside a write, '' otherwise (SQLite, or a read)."""
    if not getattr(db, "locks_rows", False):
        return ""
    return f" FOR NO KEY UPDATE OF {table}" if table else " FOR NO KEY UPDATE"


def lock_visitor(db, visitor_id: str) -> None:
    """Inside a write on PostgreSQL: hold the visitor's row until commit (their conversations are created and
    found under it, so a visitor never gets two open conversations from two nodes at once)."""
    if getattr(db, "locks_rows", False):
        db.execute("SELECT id FROM visitors WHERE id = ? FOR NO KEY UPDATE", [visitor_id])


def lock_conversation(db, conversation_id: int) -> None:
    """Inside a write on PostgreSQL: hold the conversation's row until commit."""
    if getattr(db, "locks_rows", False):
        db.execute("SELECT id FROM conversations WHERE id = ? FOR NO KEY UPDATE", [conversation_id])


def serialize(db, key: int = BOOTSTRAP) -> None:
    """Inside a write on PostgreSQL: wait for the advisory lock `key` until commit, so a check-then-create (the
    first admin) runs on one node at a time. SQLite's single writer serializes writes already."""
    lock = getattr(db, "lock_transaction", None)
    if lock is not None:
        lock(key)
