"""Plain rows for the reports (chatserver/reports.py computes the figures): everything about the conversations
created in a time range, in one read."""
from __future__ import annotations

from sqlite_utils import Database

from .labels import labels_by_conversation

CONVERSATION_COLUMNS = (
    "c.id, c.visitor_id, c.status, c.department, c.agent_id, a.name AS agent_name, c.created_at, "
    "c.first_visitor_message_at, c.queued_at, c.assigned_at, c.first_assigned_at, c.first_agent_response_at, "
    "c.closed_at, c.closed_by, c.resolution, c.handoff_reason, "
    "s.csat, s.ces, s.nps, s.comment, s.created_at AS survey_at")


def conversations_between(db: Database, start: float, end: float) -> list[dict]:
    """Conversations created in [start, end), each with its final agent's name and its survey answers."""
    return [dict(r) for r in db.execute(
        f"SELECT {CONVERSATION_COLUMNS} FROM conversations c LEFT JOIN agents a ON a.id = c.agent_id "
        "LEFT JOIN surveys s ON s.conversation_id = c.id "
        "WHERE c.created_at >= ? AND c.created_at < ? ORDER BY c.created_at, c.id", [start, end]).fetchall()]


def article_events_between(db: Database, start: float, end: float) -> list[dict]:
    """Article events of the conversations created in [start, end)."""
    return [dict(r) for r in db.execute(
        "SELECT e.id, e.conversation_id, e.slug, e.type, e.rank, e.score, e.reason, e.created_at "
        "FROM article_events e JOIN conversations c ON c.id = e.conversation_id "
        "WHERE c.created_at >= ? AND c.created_at < ? ORDER BY e.id", [start, end]).fetchall()]


def unanswered_between(db: Database, start: float, end: float) -> list[dict]:
    return [dict(r) for r in db.execute(
        "SELECT id, conversation_id, text, best_slug, best_score, created_at FROM unanswered_questions "
        "WHERE created_at >= ? AND created_at < ? ORDER BY created_at, id", [start, end]).fetchall()]


def presence_between(db: Database, start: float, end: float) -> list[dict]:
    """Presence changes in [start, end), plus each agent's last change before `start` (their state then)."""
    return [dict(r) for r in db.execute(
        "SELECT id, agent_id, status, created_at FROM presence_log WHERE created_at >= ? AND created_at < ? "
        "UNION ALL "
        "SELECT p.id, p.agent_id, p.status, p.created_at FROM presence_log p "
        "WHERE p.id IN (SELECT max(id) FROM presence_log WHERE created_at < ? GROUP BY agent_id) "
        "ORDER BY created_at, id", [start, end, start]).fetchall()]


def quality_between(db: Database, start: float, end: float) -> list[dict]:
    """The quality records (docs/quality.md) of the conversations created in [start, end)."""
    return [dict(r) for r in db.execute(
        "SELECT q.* FROM quality_records q JOIN conversations c ON c.id = q.conversation_id "
        "WHERE c.created_at >= ? AND c.created_at < ? ORDER BY q.conversation_id", [start, end]).fetchall()]


def message_times_between(db: Database, start: float, end: float) -> list[dict]:
    """Who wrote when (no text) in the conversations created in [start, end), in seq order."""
    return [dict(r) for r in db.execute(
        "SELECT m.conversation_id, m.seq, m.author, m.private, m.created_at FROM messages m "
        "JOIN conversations c ON c.id = m.conversation_id WHERE c.created_at >= ? AND c.created_at < ? "
        "ORDER BY m.conversation_id, m.seq", [start, end]).fetchall()]


def event_counts_between(db: Database, start: float, end: float) -> list[dict]:
    """Transfers and contact details left, counted per conversation created in [start, end)."""
    return [dict(r) for r in db.execute(
        "SELECT e.conversation_id, e.type, count(*) AS count FROM conversation_events e "
        "JOIN conversations c ON c.id = e.conversation_id WHERE c.created_at >= ? AND c.created_at < ? "
        "AND e.type IN ('transferred', 'contact') GROUP BY e.conversation_id, e.type", [start, end]).fetchall()]


def seen_receipts_between(db: Database, start: float, end: float) -> list[dict]:
    """The seen receipts (both readers) of the conversations created in [start, end), in time order."""
    return [dict(r) for r in db.execute(
        "SELECT r.conversation_id, r.reader, r.seq, r.created_at FROM message_receipts r "
        "JOIN conversations c ON c.id = r.conversation_id WHERE c.created_at >= ? AND c.created_at < ? "
        "AND r.kind = 'seen' ORDER BY r.conversation_id, r.created_at, r.id", [start, end]).fetchall()]


def report_dataset(db: Database, start: float, end: float) -> dict:
    conversations = conversations_between(db, start, end)
    labels = labels_by_conversation(db, [c["id"] for c in conversations])
    for conversation in conversations:
        conversation["labels"] = labels.get(conversation["id"], [])
    return {
        "conversations": conversations,
        "article_events": article_events_between(db, start, end),
        "unanswered": unanswered_between(db, start, end),
        "presence": presence_between(db, start, end),
        "quality": quality_between(db, start, end),
        "message_times": message_times_between(db, start, end),
        "event_counts": event_counts_between(db, start, end),
        "seen_receipts": seen_receipts_between(db, start, end),
    }


def conversation_record(db: Database, conversation_id: int) -> dict | None:
    """Everything about one conversation for its quality page: the row (with its survey), every message (notes
    included), the routing events, the receipts and the quality record."""
    row = db.execute(f"SELECT {CONVERSATION_COLUMNS} FROM conversations c LEFT JOIN agents a ON a.id = c.agent_id "
                     "LEFT JOIN surveys s ON s.conversation_id = c.id WHERE c.id = ?", [conversation_id]).fetchone()
    if row is None:
        return None
    messages = [dict(r) for r in db.execute(
        "SELECT m.conversation_id, m.seq, m.author, m.private, m.kind, m.text, m.created_at, a.name AS agent_name "
        "FROM messages m LEFT JOIN agents a ON a.id = m.agent_id WHERE m.conversation_id = ? ORDER BY m.seq",
        [conversation_id]).fetchall()]
    events = [dict(r) for r in db.execute(
        "SELECT type, actor_type, actor_id, reason, created_at FROM conversation_events WHERE conversation_id = ? "
        "ORDER BY id", [conversation_id]).fetchall()]
    receipts = [dict(r) for r in db.execute(
        "SELECT reader, agent_id, kind, seq, created_at FROM message_receipts WHERE conversation_id = ? "
        "ORDER BY created_at, id", [conversation_id]).fetchall()]
    quality = db.execute("SELECT * FROM quality_records WHERE conversation_id = ?", [conversation_id]).fetchone()
    survey = db.execute("SELECT * FROM surveys WHERE conversation_id = ?", [conversation_id]).fetchone()
    return {"conversation": dict(row), "messages": messages, "events": events, "receipts": receipts,
            "quality": dict(quality) if quality else None, "survey": dict(survey) if survey else None}


def count_conversations(db: Database) -> int:
    return db.execute("SELECT count(*) FROM conversations").fetchone()[0]
