"""Webhooks (docs/webhooks.md): endpoints, the durable outbox of deliveries, and each attempt.

`enqueue` is called by the store's own writes (a message inserted, a conversation event added, a survey saved),
inside their transaction: a delivery exists exactly when its event was committed, and survives any crash after.
With no endpoint subscribed it costs one small SELECT."""
from __future__ import annotations

import json
import uuid

from sqlite_utils import Database

from ..errors import NotFound

EVENTS = ("conversation.created", "conversation.queued", "conversation.assigned", "conversation.transferred",
          "conversation.closed", "message.created", "survey.submitted", "ticket.created")
# conversation_events types -> the webhook event they are
CONVERSATION_EVENTS = {"created": "conversation.created", "queued": "conversation.queued",
                       "requeued": "conversation.queued", "assigned": "conversation.assigned",
                       "transferred": "conversation.transferred", "closed": "conversation.closed"}
EXCERPT_CHARS = 200


def _endpoint(row) -> dict | None:
    if row is None:
        return None
    endpoint = dict(row)
    endpoint["events"] = json.loads(endpoint["events"])
    return endpoint


def create_endpoint(db: Database, url: str, events: list[str], secret: str, now: float) -> dict:
    cur = db.execute("INSERT INTO webhook_endpoints (url, events, secret, created_at) VALUES (?, ?, ?, ?)",
                     [url, json.dumps(events), secret, now])
    return get_endpoint(db, cur.lastrowid)


def get_endpoint(db: Database, endpoint_id: int) -> dict | None:
    return _endpoint(db.execute("SELECT * FROM webhook_endpoints WHERE id = ?", [endpoint_id]).fetchone())


def list_endpoints(db: Database) -> list[dict]:
    rows = db.execute("""
        SELECT e.*, (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending')
                    AS pending
        FROM webhook_endpoints e ORDER BY e.id""").fetchall()
    return [_endpoint(r) for r in rows]


def delete_endpoint(db: Database, endpoint_id: int) -> dict:
    endpoint = get_endpoint(db, endpoint_id)
    if endpoint is None:
        raise NotFound("no such webhook", code="webhook_not_found")
    db.execute("DELETE FROM webhook_attempts WHERE delivery_id IN "
               "(SELECT id FROM webhook_deliveries WHERE endpoint_id = ?)", [endpoint_id])
    db.execute("DELETE FROM webhook_deliveries WHERE endpoint_id = ?", [endpoint_id])
    db.execute("DELETE FROM webhook_endpoints WHERE id = ?", [endpoint_id])
    return endpoint


def resume_endpoint(db: Database, endpoint_id: int, now: float) -> dict:
    """Out of its pause: failures forgotten, waiting deliveries due at once."""
    if get_endpoint(db, endpoint_id) is None:
        raise NotFound("no such webhook", code="webhook_not_found")
    db.execute("UPDATE webhook_endpoints SET paused_at = NULL, paused_reason = NULL, consecutive_failures = 0 "
               "WHERE id = ?", [endpoint_id])
    db.execute("UPDATE webhook_deliveries SET next_attempt_at = ? WHERE endpoint_id = ? AND status = 'pending'",
               [now, endpoint_id])
    return get_endpoint(db, endpoint_id)


# -- the outbox -----------------------------------------------------------------------------------------------

def enqueue(db: Database, event_type: str, conversation_id: int | None, data: dict | None, now: float,
            data_fn=None) -> int:
    """One delivery per endpoint subscribed to `event_type`, in the caller's transaction. `data_fn(db)` builds the
    data only when someone listens. Returns how many were queued."""
    endpoints = [r for r in db.execute("SELECT id, events FROM webhook_endpoints").fetchall()
                 if event_type in json.loads(r["events"])]
    if not endpoints:
        return 0
    if data_fn is not None:
        data = data_fn(db)
    event_id = str(uuid.uuid4())
    body = json.dumps({"id": event_id, "type": event_type, "created_at": now, "conversation_id": conversation_id,
                       "data": data}, separators=(",", ":"))
    for endpoint in endpoints:
        db.execute("INSERT INTO webhook_deliveries (endpoint_id, event_id, event_type, conversation_id, body, "
                   "created_at, status, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)",
                   [endpoint["id"], event_id, event_type, conversation_id, body, now, now])
    return len(endpoints)


def due_deliveries(db: Database, now: float, limit: int) -> list[dict]:
    """Pending deliveries due now on endpoints that are not paused, each the oldest pending one of its
    conversation at its endpoint (so one conversation's events arrive in order), oldest first."""
    rows = db.execute("""
        SELECT d.id, d.endpoint_id, d.event_id, d.event_type, d.conversation_id, d.body, d.attempts,
               e.url, e.secret
        FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
        WHERE d.status = 'pending' AND d.next_attempt_at <= ? AND e.paused_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.endpoint_id = d.endpoint_id
                          AND p.conversation_id = d.conversation_id AND p.status = 'pending' AND p.id < d.id)
        ORDER BY d.id LIMIT ?""", [now, limit]).fetchall()
    return [dict(r) for r in rows]


def record_attempt(db: Database, delivery_id: int, now: float, status_code: int | None, error: str | None,
                   excerpt: str | None, duration_ms: int, retry_at: float | None, pause_after: int) -> dict:
    """The outcome of one attempt: delivered (2xx), retried at `retry_at`, or given up (`retry_at` None).
    Returns {"paused": bool, "endpoint_id"} so the caller can tell the admins."""
    delivery = db.execute("SELECT endpoint_id, status FROM webhook_deliveries WHERE id = ?", [delivery_id]).fetchone()
    if delivery is None:          # its endpoint was deleted meanwhile
        return {"paused": False, "endpoint_id": None}
    db.execute("INSERT INTO webhook_attempts (delivery_id, attempted_at, status_code, error, response_excerpt, "
               "duration_ms) VALUES (?, ?, ?, ?, ?, ?)",
               [delivery_id, now, status_code, error, (excerpt or "")[:EXCERPT_CHARS] or None, duration_ms])
    endpoint_id = delivery["endpoint_id"]
    ok = status_code is not None and 200 <= status_code < 300
    if ok:
        db.execute("UPDATE webhook_deliveries SET status = 'delivered', attempts = attempts + 1, delivered_at = ?, "
                   "last_status_code = ?, last_error = NULL WHERE id = ?", [now, status_code, delivery_id])
        db.execute("UPDATE webhook_endpoints SET consecutive_failures = 0 WHERE id = ?", [endpoint_id])
        return {"paused": False, "endpoint_id": endpoint_id}
    db.execute("UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, next_attempt_at = ?, "
               "last_status_code = ?, last_error = ? WHERE id = ?",
               ["failed" if retry_at is None else "pending", retry_at if retry_at is not None else now, status_code,
                error, delivery_id])
    db.execute("UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + 1 WHERE id = ?",
               [endpoint_id])
    endpoint = db.execute("SELECT consecutive_failures, paused_at FROM webhook_endpoints WHERE id = ?",
                          [endpoint_id]).fetchone()
    if endpoint["paused_at"] is None and endpoint["consecutive_failures"] >= pause_after:
        db.execute("UPDATE webhook_endpoints SET paused_at = ?, paused_reason = ? WHERE id = ?",
                   [now, f"{endpoint['consecutive_failures']} failed attempts in a row; last: "
                         f"{status_code if status_code is not None else error}", endpoint_id])
        return {"paused": True, "endpoint_id": endpoint_id}
    return {"paused": False, "endpoint_id": endpoint_id}


def deliveries(db: Database, endpoint_id: int, limit: int = 100) -> list[dict]:
    """The endpoint's delivery log, newest first, each with its attempts."""
    rows = [dict(r) for r in db.execute(
        "SELECT id, event_id, event_type, conversation_id, created_at, status, attempts, next_attempt_at, "
        "delivered_at, last_status_code, last_error FROM webhook_deliveries WHERE endpoint_id = ? "
        "ORDER BY id DESC LIMIT ?", [endpoint_id, limit]).fetchall()]
    for row in rows:
        row["attempt_log"] = [dict(a) for a in db.execute(
            "SELECT attempted_at, status_code, error, response_excerpt, duration_ms FROM webhook_attempts "
            "WHERE delivery_id = ? ORDER BY id", [row["id"]]).fetchall()]
    return rows


def resend(db: Database, endpoint_id: int, delivery_id: int, now: float) -> dict:
    """The same delivery (same event id: the receiver's idempotency key) once more, due now."""
    cur = db.execute("UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ? "
                     "WHERE id = ? AND endpoint_id = ?", [now, delivery_id, endpoint_id])
    if cur.rowcount == 0:
        raise NotFound("no such delivery", code="webhook_not_found")
    return dict(db.execute("SELECT id, event_id, event_type FROM webhook_deliveries WHERE id = ?",
                           [delivery_id]).fetchone())
