"""Who wants an email about new tickets (table agent_ticket_notices), and the tickets no notice went out for."""
from __future__ import annotations

from sqlite_utils import Database


def set_opt_in(db: Database, agent_id: int, wanted: bool, now: float) -> bool:
    if wanted:
        db.execute("INSERT INTO agent_ticket_notices (agent_id, created_at) VALUES (?, ?) "
                   "ON CONFLICT (agent_id) DO NOTHING", [agent_id, now])
    else:
        db.execute("DELETE FROM agent_ticket_notices WHERE agent_id = ?", [agent_id])
    return wanted


def opted_in(db: Database, agent_id: int) -> bool:
    return db.execute("SELECT 1 FROM agent_ticket_notices WHERE agent_id = ?", [agent_id]).fetchone() is not None


def recipients(db: Database) -> list[dict]:
    return [dict(r) for r in db.execute(
        "SELECT a.id, a.email, a.name FROM agent_ticket_notices n JOIN agents a ON a.id = n.agent_id "
        "WHERE a.disabled = 0 ORDER BY a.id").fetchall()]


def unnoticed_tickets(db: Database, waiting_since: float, limit: int = 50) -> list[dict]:
    """Chats waiting in the queue since before `waiting_since` that no ticket notice was queued for."""
    rows = db.execute("""
        SELECT c.id, COALESCE(c.queued_at, c.created_at) AS queued_at, v.name AS visitor_name, v.email AS visitor_email,
               (SELECT text FROM messages WHERE conversation_id = c.id AND author = 'visitor' ORDER BY seq LIMIT 1)
                   AS first_question
        FROM conversations c JOIN visitors v ON v.id = c.visitor_id
        WHERE c.status = 'queued' AND COALESCE(c.queued_at, c.created_at) <= ?
          AND NOT EXISTS (SELECT 1 FROM email_outbox o WHERE o.kind = 'ticket_notice' AND o.conversation_id = c.id)
        ORDER BY c.id LIMIT ?""", [waiting_since, limit]).fetchall()
    return [dict(r) for r in rows]
