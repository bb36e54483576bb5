"""Delivered and seen receipts on `seq`: one row each time a reader's highest delivered or seen seq moves forward.
The latest row of each (reader, kind) is the current receipt; all rows are the conversation's timeline."""
from __future__ import annotations

from sqlite_utils import Database

from .locks import row_lock

EMPTY = {"delivered_seq": 0, "seen_seq": 0, "seen_at": None, "agent_seen_seq": 0, "agent_seen_at": None}


def conversation_for_receipt(db: Database, conversation_id: int) -> dict | None:
    """The conversation a receipt is for, locked inside the write (two tabs' receipts apply one after the other)."""
    row = db.execute("SELECT id, visitor_id, agent_id, status, last_seq FROM conversations WHERE id = ?"
                     + row_lock(db), [conversation_id]).fetchone()
    return dict(row) if row else None


def current(db: Database, conversation_id: int) -> dict:
    """{delivered_seq, seen_seq, seen_at} of the visitor and {agent_seen_seq, agent_seen_at} of the agents."""
    receipt = dict(EMPTY)
    rows = db.execute(
        "SELECT reader, kind, MAX(seq) AS seq, MAX(created_at) AS at FROM message_receipts "
        "WHERE conversation_id = ? GROUP BY reader, kind", [conversation_id]).fetchall()
    for row in rows:
        if row["reader"] == "visitor" and row["kind"] == "delivered":
            receipt["delivered_seq"] = row["seq"]
        elif row["reader"] == "visitor":
            receipt["seen_seq"], receipt["seen_at"] = row["seq"], row["at"]
        elif row["kind"] == "seen":
            receipt["agent_seen_seq"], receipt["agent_seen_at"] = row["seq"], row["at"]
    return receipt


def advance(db: Database, conversation_id: int, reader: str, agent_id: int | None, seqs: dict, now: float) -> bool:
    """Record each {kind: seq} that is above the reader's current one; True when any moved forward."""
    moved = False
    for kind, seq in seqs.items():
        if seq is None:
            continue
        top = db.execute("SELECT MAX(seq) FROM message_receipts WHERE conversation_id = ? AND reader = ? AND kind = ?",
                         [conversation_id, reader, kind]).fetchone()[0]
        if top is not None and seq <= top:
            continue
        db.execute("INSERT INTO message_receipts (conversation_id, reader, agent_id, kind, seq, created_at) "
                   "VALUES (?, ?, ?, ?, ?, ?)", [conversation_id, reader, agent_id, kind, seq, now])
        moved = True
    return moved


def timeline(db: Database, conversation_id: int) -> list[dict]:
    return [dict(r) for r in db.execute(
        "SELECT reader, agent_id, kind, seq, created_at FROM message_receipts WHERE conversation_id = ? "
        "ORDER BY created_at, id", [conversation_id]).fetchall()]


# -- privacy (store/privacy.py): which messages were seen when: exported, kept (no content) ------------------------

def _export_receipts(db, _visitor_id, ids):
    return privacy.rows(db, "SELECT conversation_id, reader, kind, seq, created_at FROM message_receipts "
                            "WHERE conversation_id IN ({ids}) ORDER BY id", ids)


def _keep_receipts(_db, _visitor_id, _ids):
    return 0


from . import privacy  # noqa: E402  (privacy imports this module to register the part below)

privacy.register(privacy.PrivacyPart("receipts", _export_receipts, _keep_receipts))
