"""What the email continuation reads and writes besides the outbox: the reply digest waiting for a conversation,
its messages, the thread's Message-IDs, and the emails received (by Message-ID, so each is posted once)."""
from __future__ import annotations

from sqlite_utils import Database

from .conversations import _MESSAGE_SELECT, add_event, message_dict


def visitor_of(db: Database, conversation_id: int) -> str:
    return db.execute("SELECT visitor_id FROM conversations WHERE id = ?", [conversation_id]).fetchone()["visitor_id"]


def waiting_digest(db: Database, conversation_id: int) -> int | None:
    """The reply digest of this conversation not composed yet (its window is still open), if any."""
    row = db.execute("SELECT id FROM email_outbox WHERE conversation_id = ? AND kind = 'reply_digest' "
                     "AND status = 'queued' AND raw IS NULL ORDER BY id DESC LIMIT 1", [conversation_id]).fetchone()
    return row["id"] if row else None


def messages_between(db: Database, conversation_id: int, after_seq: int, limit: int = 200) -> list[dict]:
    rows = db.execute(_MESSAGE_SELECT + "WHERE m.conversation_id = ? AND m.seq > ? AND m.private = 0 "
                      "ORDER BY m.seq LIMIT ?", [conversation_id, after_seq, limit]).fetchall()
    return [message_dict(r) for r in rows]


def messages_before(db: Database, conversation_id: int, before_seq: int, limit: int) -> list[dict]:
    rows = db.execute(_MESSAGE_SELECT + "WHERE m.conversation_id = ? AND m.seq < ? AND m.private = 0 "
                      "AND m.author IN ('visitor', 'agent') ORDER BY m.seq DESC LIMIT ?",
                      [conversation_id, before_seq, limit]).fetchall()
    return [message_dict(r) for r in reversed(rows)]


def thread_ids(db: Database, conversation_id: int) -> list[str]:
    """Every Message-ID of this conversation's email thread so far (sent and received), oldest first."""
    rows = db.execute("SELECT message_id, created_at FROM email_outbox WHERE conversation_id = ? AND status = 'sent' "
                      "UNION ALL SELECT message_id, created_at FROM email_inbound WHERE conversation_id = ? "
                      "ORDER BY created_at", [conversation_id, conversation_id]).fetchall()
    return [r["message_id"] for r in rows]


def record_inbound(db: Database, message_id: str, conversation_id: int, now: float) -> bool:
    """Whether this email is new (False: the same Message-ID was posted already)."""
    return db.execute("INSERT INTO email_inbound (message_id, conversation_id, created_at) VALUES (?, ?, ?) "
                      "ON CONFLICT (message_id) DO NOTHING", [message_id, conversation_id, now]).rowcount == 1


def link_inbound(db: Database, message_id: str, message_row_id: int) -> None:
    db.execute("UPDATE email_inbound SET message_row_id = ? WHERE message_id = ?", [message_row_id, message_id])


def reopen(db: Database, conversation_id: int, now: float) -> None:
    """A resolved conversation the visitor answered by email: back in the queue, at its end."""
    db.execute("UPDATE conversations SET status = 'queued', agent_id = NULL, closed_at = NULL, closed_by = NULL, "
               "resolution = NULL, queued_at = ?, handoff_reason = 'email_reply' WHERE id = ?",
               [now, conversation_id])
    add_event(db, conversation_id, "reopened", "visitor", None, "the visitor answered by email", now)


# -- privacy (store/privacy.py): the Message-IDs of the visitor's emails -----------------------------------------

def _export_inbound(db, _visitor_id, ids):
    return privacy.rows(db, "SELECT message_id, conversation_id, created_at FROM email_inbound "
                            "WHERE conversation_id IN ({ids}) ORDER BY id", ids)


def _erase_inbound(db, _visitor_id, ids):
    return db.execute(f"DELETE FROM email_inbound WHERE conversation_id IN ({', '.join('?' * len(ids)) or 'NULL'})",
                      ids).rowcount


from . import privacy  # noqa: E402  (privacy imports this module to register the part below)

privacy.register(privacy.PrivacyPart("emails_received", _export_inbound, _erase_inbound))
