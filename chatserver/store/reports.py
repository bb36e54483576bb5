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
    }


def count_conversations(db: Database) -> int:
    return db.execute("SELECT count(*) FROM conversations").fetchone()[0]
