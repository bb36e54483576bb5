"""New tickets (table conversation_tickets: a chat left waiting in the queue becomes a ticket once, with its
`ticket.created` webhook) and who wants an email about them (table agent_ticket_notices)."""
from __future__ import annotations

from sqlite_utils import Database

from . import webhooks
from .locks import lock_conversation


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


def new_tickets(db: Database, waiting_since: float, limit: int = 50) -> list[dict]:
    """Chats waiting in the queue since before `waiting_since` that have not become tickets yet."""
    rows = db.execute("""
        SELECT c.id, c.visitor_id, COALESCE(c.queued_at, c.created_at) AS queued_at, v.name AS visitor_name,
               v.email AS visitor_email,
               (SELECT text FROM messages WHERE conversation_id = c.id AND author = 'visitor' ORDER BY seq LIMIT 1)
                   AS first_question
        FROM conversations c JOIN visitors v ON v.id = c.visitor_id
        WHERE c.status = 'queued' AND COALESCE(c.queued_at, c.created_at) <= ?
          AND NOT EXISTS (SELECT 1 FROM conversation_tickets t WHERE t.conversation_id = c.id)
        ORDER BY c.id LIMIT ?""", [waiting_since, limit]).fetchall()
    return [dict(r) for r in rows]


def create_ticket(db: Database, ticket: dict, now: float) -> bool:
    """The chat becomes a ticket (once: False if it already is, or no longer waits), and its `ticket.created`
    webhook is queued in the same transaction."""
    lock_conversation(db, ticket["id"])
    if db.execute("SELECT status FROM conversations WHERE id = ?", [ticket["id"]]).fetchone()[0] != "queued":
        return False
    if db.execute("INSERT INTO conversation_tickets (conversation_id, created_at) VALUES (?, ?) "
                  "ON CONFLICT (conversation_id) DO NOTHING", [ticket["id"], now]).rowcount == 0:
        return False
    webhooks.enqueue(db, "ticket.created", ticket["id"], {
        "visitor_id": ticket["visitor_id"], "status": "queued", "queued_at": ticket["queued_at"],
        "visitor_name": ticket["visitor_name"], "visitor_email": ticket["visitor_email"],
        "first_question": ticket["first_question"]}, now)
    return True
