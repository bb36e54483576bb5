"""The lifecycle rows (table conversation_states) and the Tickets view's list. A conversation that is not closed
is `open` unless a row says `pending` or `snoozed`; closed is `resolved`."""
from __future__ import annotations

from sqlite_utils import Database

from .conversations import add_event, get_conversation

TICKET_VIEWS = ("unassigned", "mine", "all")
LIFECYCLE_STATES = ("open", "pending", "snoozed", "resolved")


def set_state(db: Database, conversation_id: int, state: str, snoozed_until: float | None, agent_id: int,
              reason: str, now: float) -> dict:
    db.execute("INSERT INTO conversation_states (conversation_id, state, snoozed_until, set_by, set_at) "
               "VALUES (?, ?, ?, ?, ?) ON CONFLICT (conversation_id) DO UPDATE SET state = excluded.state, "
               "snoozed_until = excluded.snoozed_until, set_by = excluded.set_by, set_at = excluded.set_at",
               [conversation_id, state, snoozed_until, agent_id, now])
    add_event(db, conversation_id, state, "agent", agent_id, reason, now,
              {"until": snoozed_until} if snoozed_until else None)
    return state_of(db, conversation_id)


def reopen(db: Database, conversation_id: int, actor_type: str, actor_id: object, reason: str, now: float) -> bool:
    """Back to open (a visitor wrote, an agent reopened, the snooze ended); whether it was pending or snoozed."""
    if db.execute("DELETE FROM conversation_states WHERE conversation_id = ?", [conversation_id]).rowcount == 0:
        return False
    add_event(db, conversation_id, "reopened", actor_type, actor_id, reason, now)
    return True


def clear_on_close(db: Database, conversation_id: int) -> None:
    db.execute("DELETE FROM conversation_states WHERE conversation_id = ?", [conversation_id])


def state_of(db: Database, conversation_id: int) -> dict:
    conversation = get_conversation(db, conversation_id)
    row = db.execute("SELECT state, snoozed_until FROM conversation_states WHERE conversation_id = ?",
                     [conversation_id]).fetchone()
    return {"conversation_id": conversation_id, "state": lifecycle(conversation, row),
            "snoozed_until": row["snoozed_until"] if row else None}


def lifecycle(conversation: dict | None, state_row) -> str:
    if conversation is None or conversation["status"] == "closed":
        return "resolved"
    return state_row["state"] if state_row else "open"


def snoozes_due(db: Database, now: float) -> list[int]:
    return [r["conversation_id"] for r in db.execute(
        "SELECT conversation_id FROM conversation_states WHERE state = 'snoozed' AND snoozed_until <= ? "
        "ORDER BY conversation_id", [now]).fetchall()]


def tickets(db: Database, view: str, agent_id: int, state: str | None, limit: int = 200) -> list[dict]:
    """The Tickets view: conversations with people (not the bot's), newest activity first. `unassigned`: waiting
    in the queue; `mine`: assigned to this agent; `all`: every one. `state` filters by lifecycle."""
    where, args = ["c.status IN ('queued', 'assigned')"], []
    if view == "unassigned":
        where.append("c.status = 'queued'")
    elif view == "mine":
        where.append("c.agent_id = ?")
        args.append(agent_id)
    if state == "resolved":
        where = ["c.status = 'closed'"] + where[1:]
    elif state == "open":
        where.append("s.state IS NULL")
    elif state in ("pending", "snoozed"):
        where.append("s.state = ?")
        args.append(state)
    rows = db.execute(f"""
        SELECT c.id, c.status, c.created_at, c.queued_at, c.agent_id, a.name AS agent_name, c.handoff_reason,
               v.name AS visitor_name, v.email AS visitor_email, s.state, s.snoozed_until,
               (SELECT text FROM messages WHERE conversation_id = c.id AND author = 'visitor' ORDER BY seq LIMIT 1)
                   AS first_question,
               (SELECT max(created_at) FROM messages WHERE conversation_id = c.id) AS last_message_at,
               (SELECT kind FROM messages WHERE conversation_id = c.id AND author = 'visitor'
                ORDER BY seq DESC LIMIT 1) AS last_visitor_kind
        FROM conversations c
        JOIN visitors v ON v.id = c.visitor_id
        LEFT JOIN agents a ON a.id = c.agent_id
        LEFT JOIN conversation_states s ON s.conversation_id = c.id
        WHERE {' AND '.join(where)}
        ORDER BY COALESCE((SELECT max(created_at) FROM messages WHERE conversation_id = c.id), c.created_at) DESC
        LIMIT ?""", [*args, limit]).fetchall()
    found = []
    for row in rows:
        ticket = dict(row)
        ticket["lifecycle"] = "resolved" if row["status"] == "closed" else (row["state"] or "open")
        ticket.pop("state")
        found.append(ticket)
    return found
