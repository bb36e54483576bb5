"""Conversations, their messages (per-conversation seq, idempotent by client_id) and their event log."""
from __future__ import annotations

import json

from sqlite_utils import Database

from ..errors import Conflict, NotFound
from . import webhooks
from .locks import lock_conversation, lock_visitor, row_lock

OPEN_STATUSES = ("bot", "queued", "assigned")


def message_dict(row) -> dict:
    message = {
        "id": row["id"],
        "conversation_id": row["conversation_id"],
        "seq": row["seq"],
        "author": row["author"],
        "kind": row["kind"],
        "text": row["text"],
        "created_at": row["created_at"],
    }
    if row["client_id"] is not None:
        message["client_id"] = row["client_id"]
    if row["agent_id"] is not None:
        message["agent_id"] = row["agent_id"]
        message["agent_name"] = row["agent_name"] if "agent_name" in row.keys() else None
    if row["private"]:
        message["private"] = True
    if row["payload"]:
        message["payload"] = json.loads(row["payload"])
    return message


_MESSAGE_SELECT = ("SELECT m.*, a.name AS agent_name FROM messages m "
                   "LEFT JOIN agents a ON a.id = m.agent_id ")


def get_conversation(db: Database, conversation_id: int) -> dict | None:
    """The conversation with its agent's name. Inside a write its row stays locked until commit (locks.py), so
    what the write decides from it (the next seq, the status it expects) still holds when it commits."""
    row = db.execute("SELECT c.*, a.name AS agent_name FROM conversations c LEFT JOIN agents a ON a.id = c.agent_id "
                     "WHERE c.id = ?" + row_lock(db, "c"), [conversation_id]).fetchone()
    return dict(row) if row else None


def open_conversation_of(db: Database, visitor_id: str) -> dict | None:
    """The visitor's open conversation, if any. Inside a write the visitor's row is locked first, then the
    conversation's, so no other write creates or changes one meanwhile."""
    lock_visitor(db, visitor_id)
    row = db.execute(
        "SELECT c.*, a.name AS agent_name FROM conversations c LEFT JOIN agents a ON a.id = c.agent_id "
        "WHERE c.visitor_id = ? AND c.status != 'closed' ORDER BY c.id DESC LIMIT 1" + row_lock(db, "c"),
        [visitor_id]).fetchone()
    return dict(row) if row else None


def open_conversations(db: Database) -> list[dict]:
    return [dict(r) for r in db.execute(
        "SELECT c.*, a.name AS agent_name FROM conversations c LEFT JOIN agents a ON a.id = c.agent_id "
        "WHERE c.status != 'closed' ORDER BY c.id").fetchall()]


def messages_after(db: Database, conversation_id: int, after_seq: int, include_private: bool,
                   limit: int = 1000) -> list[dict]:
    private_clause = "" if include_private else "AND m.private = 0 "
    rows = db.execute(
        _MESSAGE_SELECT + "WHERE m.conversation_id = ? AND m.seq > ? " + private_clause +
        "ORDER BY m.seq LIMIT ?", [conversation_id, after_seq, limit]).fetchall()
    return [message_dict(r) for r in rows]


def _insert_message(db: Database, conversation: dict, author: str, text: str, now: float, *,
                    client_id: str | None = None, agent_id: int | None = None, private: bool = False,
                    kind: str = "text", payload: object = None) -> dict:
    seq = conversation["last_seq"] + 1
    cur = db.execute(
        "INSERT INTO messages (conversation_id, seq, author, agent_id, private, kind, client_id, text, payload, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [conversation["id"], seq, author, agent_id, int(private), kind, client_id, text,
         json.dumps(payload) if payload is not None else None, now])
    db.execute("UPDATE conversations SET last_seq = ? WHERE id = ?", [seq, conversation["id"]])
    conversation["last_seq"] = seq
    if not private and author != "system":    # notes stay inside the desk
        webhooks.enqueue(db, "message.created", conversation["id"], None, now, data_fn=lambda _: {
            "visitor_id": conversation["visitor_id"],
            "message": {"id": cur.lastrowid, "conversation_id": conversation["id"], "seq": seq, "author": author,
                        "agent_id": agent_id, "kind": kind, "text": text, "created_at": now}})
    if agent_id is not None:  # the agent's name comes from a join
        return message_dict(db.execute(_MESSAGE_SELECT + "WHERE m.id = ?", [cur.lastrowid]).fetchone())
    # Visitor and bot messages (most of the traffic): the row is exactly what was just inserted.
    message = {"id": cur.lastrowid, "conversation_id": conversation["id"], "seq": seq, "author": author, "kind": kind,
               "text": text, "created_at": now}
    if client_id is not None:
        message["client_id"] = client_id
    if private:
        message["private"] = True
    if payload is not None:
        message["payload"] = json.loads(json.dumps(payload))
    return message


def add_event(db: Database, conversation_id: int, type_: str, actor_type: str, actor_id: object,
              reason: str | None, now: float, details: dict | None = None) -> None:
    db.execute(
        "INSERT INTO conversation_events (conversation_id, type, actor_type, actor_id, reason, details, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [conversation_id, type_, actor_type, None if actor_id is None else str(actor_id), reason,
         json.dumps(details) if details else None, now])
    hook = webhooks.CONVERSATION_EVENTS.get(type_)
    if hook is not None:
        webhooks.enqueue(db, hook, conversation_id, None, now, data_fn=lambda _: _event_data(
            db, conversation_id, type_, actor_type, actor_id, reason, details))


def _event_data(db: Database, conversation_id: int, type_: str, actor_type: str, actor_id: object,
                reason: str | None, details: dict | None) -> dict:
    row = db.execute("SELECT visitor_id, status, agent_id, department FROM conversations WHERE id = ?",
                     [conversation_id]).fetchone()
    return {"visitor_id": row["visitor_id"], "status": row["status"], "agent_id": row["agent_id"],
            "department": row["department"], "event": type_, "actor_type": actor_type,
            "actor_id": None if actor_id is None else str(actor_id), "reason": reason, "details": details}


def _create_conversation(db: Database, visitor_id: str, status: str, now: float, page_url: str | None) -> dict:
    cur = db.execute(
        "INSERT INTO conversations (visitor_id, status, created_at, page_url) VALUES (?, ?, ?, ?)",
        [visitor_id, status, now, page_url])
    add_event(db, cur.lastrowid, "created", "visitor", visitor_id, None, now)
    if status == "queued":      # no bot: the chat waits for a person from its first message
        webhooks.enqueue(db, "conversation.queued", cur.lastrowid, None, now, data_fn=lambda _: _event_data(
            db, cur.lastrowid, "queued", "visitor", visitor_id, None, None))
    return get_conversation(db, cur.lastrowid)


def add_visitor_message(db: Database, visitor_id: str, client_id: str, text: str, now: float,
                        initial_status: str, page_url: str | None = None) -> dict:
    """Store a visitor's message in their open conversation (creating one if needed).

    Idempotent: a client_id this visitor already used returns the stored message with duplicate=True. The open
    conversation is found (and, on PostgreSQL, locked with the visitor) before that check, so a resend racing
    its original on another node waits for it and then finds it."""
    conversation = open_conversation_of(db, visitor_id)
    row = db.execute(
        _MESSAGE_SELECT + "JOIN conversations c ON c.id = m.conversation_id "
        "WHERE m.client_id = ? AND c.visitor_id = ? AND m.author = 'visitor'", [client_id, visitor_id]).fetchone()
    if row is not None:
        message = message_dict(row)
        return {"message": message, "conversation": get_conversation(db, message["conversation_id"]),
                "duplicate": True, "created": False, "first_message": False}
    created = conversation is None
    if created:
        conversation = _create_conversation(db, visitor_id, initial_status, now, page_url)
    first_message = conversation["first_visitor_message_at"] is None
    if first_message:
        db.execute("UPDATE conversations SET first_visitor_message_at = ? WHERE id = ?", [now, conversation["id"]])
        conversation["first_visitor_message_at"] = now
    message = _insert_message(db, conversation, "visitor", text, now, client_id=client_id)
    return {"message": message, "conversation": conversation, "duplicate": False, "created": created,
            "first_message": first_message}


def agent_message_by_client_id(db: Database, conversation_id: int, client_id: str) -> dict | None:
    """The agent message this client_id already stored in the conversation (a resend), if any. Inside a write the
    conversation is locked first, so a resend racing its original waits for it and then finds it."""
    lock_conversation(db, conversation_id)
    row = db.execute(_MESSAGE_SELECT + "WHERE m.conversation_id = ? AND m.client_id = ?",
                     [conversation_id, client_id]).fetchone()
    return message_dict(row) if row is not None else None


def add_agent_message(db: Database, conversation: dict, agent_id: int, client_id: str | None, text: str, now: float,
                      private: bool = False, kind: str = "text", payload: object = None) -> dict:
    """Store an agent's reply (or private note) in `conversation` (who may write there is the caller's check,
    chatserver/desk/access.py). The first reply sets first_agent_response_at."""
    if not private and conversation["first_agent_response_at"] is None:
        db.execute("UPDATE conversations SET first_agent_response_at = ? WHERE id = ?", [now, conversation["id"]])
        conversation["first_agent_response_at"] = now
    return _insert_message(db, conversation, "agent", text, now, client_id=client_id, agent_id=agent_id,
                           private=private, kind="note" if private else kind, payload=payload)


def add_email_message(db: Database, conversation: dict, text: str, now: float, payload: dict) -> dict:
    """The visitor's answer by email (kind "email", the original in the payload) in `conversation`."""
    if conversation["first_visitor_message_at"] is None:
        db.execute("UPDATE conversations SET first_visitor_message_at = ? WHERE id = ?", [now, conversation["id"]])
        conversation["first_visitor_message_at"] = now
    return _insert_message(db, conversation, "visitor", text, now, kind="email", payload=payload)


def visitor_held_by(db: Database, visitor_id: str, agent_id: int) -> bool:
    """Whether this agent holds one of the visitor's chats now (they may read the visitor's earlier ones)."""
    return db.execute("SELECT 1 FROM conversations WHERE visitor_id = ? AND agent_id = ? AND status = 'assigned' "
                      "LIMIT 1", [visitor_id, agent_id]).fetchone() is not None


def add_bot_message(db: Database, conversation_id: int, text: str, now: float, kind: str = "text",
                    payload: object = None, author: str = "bot") -> dict | None:
    """A bot or system line. Returns None when the conversation is gone or closed (nothing to say)."""
    conversation = get_conversation(db, conversation_id)
    if conversation is None:
        return None
    return _insert_message(db, conversation, author, text, now, kind=kind, payload=payload)


def queue_conversation(db: Database, conversation_id: int, visitor_id: str | None, department: str | None,
                       reason: str, now: float, actor_type: str = "visitor") -> dict:
    """Move a bot conversation into the queue (the visitor asked for a person, or the bot gave up).
    `just_queued` in the result says whether this call did it: two hand-offs can race (the visitor's
    `request_agent` and the bot reading "talk to a person"), and only the first may announce and enqueue."""
    conversation = get_conversation(db, conversation_id)
    if conversation is None or (visitor_id is not None and conversation["visitor_id"] != visitor_id):
        raise NotFound("no such conversation")
    if conversation["status"] != "bot":
        return {**conversation, "just_queued": False}  # already queued or with an agent: nothing changes
    db.execute("UPDATE conversations SET status = 'queued', queued_at = ?, department = COALESCE(?, department), "
               "handoff_reason = ? WHERE id = ?", [now, department, reason, conversation_id])
    add_event(db, conversation_id, "queued", actor_type, visitor_id, reason, now, {"department": department})
    return {**get_conversation(db, conversation_id), "just_queued": True}


def assign_conversation(db: Database, conversation_id: int, agent_id: int, event_type: str, actor_type: str,
                        actor_id: object, reason: str, now: float, expect_status: tuple[str, ...],
                        note: str | None = None) -> dict:
    conversation = get_conversation(db, conversation_id)
    if conversation is None:
        raise NotFound("no such conversation")
    if conversation["status"] not in expect_status:
        raise Conflict(f"the conversation is {conversation['status']}", code="wrong_state")
    db.execute("UPDATE conversations SET status = 'assigned', agent_id = ?, assigned_at = ?, "
               "first_assigned_at = COALESCE(first_assigned_at, ?) WHERE id = ?",
               [agent_id, now, now, conversation_id])
    details = {"agent_id": agent_id, "from_agent_id": conversation["agent_id"]}
    if note:
        details["note"] = note      # a transfer's note for the receiving agent
    add_event(db, conversation_id, event_type, actor_type, actor_id, reason, now, details)
    return get_conversation(db, conversation_id)


def requeue_conversations(db: Database, conversation_ids: list[int], reason: str, now: float) -> list[dict]:
    """Send assigned chats back to the queue. They keep their original queued_at, so they go to the front."""
    requeued = []
    for conversation_id in sorted(conversation_ids):  # locks by ascending id (locks.py)
        conversation = get_conversation(db, conversation_id)
        if conversation is None or conversation["status"] != "assigned":
            continue
        db.execute("UPDATE conversations SET status = 'queued', agent_id = NULL, "
                   "queued_at = COALESCE(queued_at, ?) WHERE id = ?", [now, conversation_id])
        add_event(db, conversation_id, "requeued", "system", None, reason, now,
                  {"from_agent_id": conversation["agent_id"]})
        requeued.append(get_conversation(db, conversation_id))
    return requeued


def close_conversation(db: Database, conversation_id: int, closed_by: str, actor_id: object, resolution: str,
                       reason: str, now: float) -> dict:
    conversation = get_conversation(db, conversation_id)
    if conversation is None:
        raise NotFound("no such conversation")
    if conversation["status"] == "closed":
        return conversation
    db.execute("UPDATE conversations SET status = 'closed', closed_at = ?, closed_by = ?, resolution = ? WHERE id = ?",
               [now, closed_by, resolution, conversation_id])
    add_event(db, conversation_id, "closed", closed_by, actor_id, reason, now, {"resolution": resolution})
    return get_conversation(db, conversation_id)


def add_visitor_feedback(db: Database, conversation_id: int, text: str, payload: dict, now: float) -> dict | None:
    """The visitor's answer to "Did this answer your question?" as a line of the chat (what the bot replies to)."""
    conversation = get_conversation(db, conversation_id)
    if conversation is None or conversation["status"] == "closed":
        return None
    return _insert_message(db, conversation, "visitor", text, now, kind="feedback", payload=payload)


def add_system_line(db: Database, conversation: dict, say: str, text: str, now: float, names: dict) -> dict:
    """A stored line of the history that is not a message ("Dana joined the chat", "This chat has ended"): `text`
    in English for the console and transcripts, `payload.say` (with the names it needs) for the widget to show it
    in its own language."""
    return _insert_message(db, conversation, "system", text, now, kind=say, payload={"say": say, **names})


def conversation_events(db: Database, conversation_id: int) -> list[dict]:
    rows = db.execute("SELECT * FROM conversation_events WHERE conversation_id = ? ORDER BY id",
                      [conversation_id]).fetchall()
    events = []
    for r in rows:
        event = dict(r)
        event["details"] = json.loads(event["details"]) if event["details"] else None
        events.append(event)
    return events


def recent_queue_waits(db: Database, limit: int = 20) -> list[float]:
    """Seconds from queued to first assignment for the most recent assignments (for wait estimates)."""
    rows = db.execute("SELECT first_assigned_at - queued_at FROM conversations WHERE first_assigned_at IS NOT NULL "
                      "AND queued_at IS NOT NULL ORDER BY first_assigned_at DESC LIMIT ?", [limit]).fetchall()
    return [max(0.0, r[0]) for r in rows]


def first_visitor_question(db: Database, conversation_id: int) -> str | None:
    row = db.execute("SELECT text FROM messages WHERE conversation_id = ? AND author = 'visitor' ORDER BY seq LIMIT 1",
                     [conversation_id]).fetchone()
    return row[0] if row else None


def ensure_open_conversation(db: Database, visitor_id: str, status: str, now: float, page_url: str | None) -> dict:
    """The visitor's open conversation, or a new one (asking for a person before writing anything)."""
    conversation = open_conversation_of(db, visitor_id)
    if conversation is None:
        conversation = _create_conversation(db, visitor_id, status, now, page_url)
    return conversation


def handoff_reason(db: Database, conversation_id: int) -> str:
    """Why a bot conversation goes to a person, from what the bot last did: it found nothing, its articles
    did not help, or the visitor simply asked."""
    last_feedback = db.execute("SELECT type, created_at FROM article_events WHERE conversation_id = ? "
                               "AND type IN ('helpful', 'not_helpful') ORDER BY id DESC LIMIT 1",
                               [conversation_id]).fetchone()
    last_gap = db.execute("SELECT created_at FROM unanswered_questions WHERE conversation_id = ? "
                          "ORDER BY id DESC LIMIT 1", [conversation_id]).fetchone()
    last_suggestion = db.execute("SELECT created_at FROM article_events WHERE conversation_id = ? "
                                 "AND type = 'suggested' ORDER BY id DESC LIMIT 1", [conversation_id]).fetchone()
    candidates = []
    if last_feedback is not None and last_feedback["type"] == "not_helpful":
        candidates.append((last_feedback["created_at"], "not_helpful"))
    if last_gap is not None:
        candidates.append((last_gap["created_at"], "no_match"))
    if last_suggestion is not None:
        candidates.append((last_suggestion["created_at"] - 1e-6, "visitor_asked"))
    if not candidates:
        return "visitor_asked"
    return max(candidates)[1]


def had_helpful_article(db: Database, conversation_id: int) -> str | None:
    row = db.execute("SELECT slug FROM article_events WHERE conversation_id = ? AND type = 'helpful' "
                     "ORDER BY id DESC LIMIT 1", [conversation_id]).fetchone()
    return row[0] if row else None


def conversations_of_visitor(db: Database, visitor_id: str, before_id: int | None, limit: int) -> list[dict]:
    """A visitor's conversations, newest first (their 'previous chats' list, and the agent's visitor details):
    when, who answered, how it ended, the first thing they asked, how many messages (never private notes)."""
    rows = db.execute("""
        SELECT c.id, c.status, c.created_at, c.closed_at, c.resolution, a.name AS agent_name,
               (SELECT text FROM messages WHERE conversation_id = c.id AND author = 'visitor' ORDER BY seq LIMIT 1)
                   AS first_question,
               (SELECT count(*) FROM messages WHERE conversation_id = c.id AND private = 0 AND author != 'system')
                   AS message_count
        FROM conversations c LEFT JOIN agents a ON a.id = c.agent_id
        WHERE c.visitor_id = ? AND c.id < ?
        ORDER BY c.id DESC LIMIT ?""", [visitor_id, before_id or 2**62, limit]).fetchall()
    return [dict(r) for r in rows]


def list_conversations(db: Database, filters: dict, before_id: int | None, limit: int) -> list[dict]:
    """Conversations newest first, `filters` (already validated: status, agent_id, visitor_id, created_after,
    created_before) ANDed; a page after the cursor `before_id` (the list's stable order is by id)."""
    clauses, values = ["c.id < ?"], [before_id or 2**62]
    for name, clause in (("status", "c.status = ?"), ("agent_id", "c.agent_id = ?"), ("visitor_id", "c.visitor_id = ?"),
                         ("created_after", "c.created_at >= ?"), ("created_before", "c.created_at < ?")):
        if filters.get(name) is not None:
            clauses.append(clause)
            values.append(filters[name])
    rows = db.execute("SELECT c.*, a.name AS agent_name FROM conversations c LEFT JOIN agents a ON a.id = c.agent_id "
                      f"WHERE {' AND '.join(clauses)} ORDER BY c.id DESC LIMIT ?", [*values, limit]).fetchall()
    return [dict(r) for r in rows]
