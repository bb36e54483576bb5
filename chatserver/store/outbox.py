"""The email outbox (table email_outbox): queue an email with what causes it, claim the due ones with a lease,
record each attempt, and what admins see. Statuses: queued (waiting, or retrying at next_attempt_at), sending
(leased to a worker until lease_until), sent, failed (gave up), cancelled (no longer needed, e.g. seen in the chat)."""
from __future__ import annotations

import json

from sqlite_utils import Database

OUTBOX_COLUMNS = ("id, message_id, kind, conversation_id, recipient, subject, status, attempts, next_attempt_at, "
                  "lease_until, last_error, created_by, created_at, sent_at")


def queue_email(db: Database, message_id: str, kind: str, recipient: str, now: float, *, due_at: float | None = None,
                subject: str | None = None, raw: str | None = None, conversation_id: int | None = None,
                details: dict | None = None, created_by: int | None = None) -> tuple[dict, bool]:
    """(the outbox row, whether this call queued it). A message_id already queued returns its row unchanged:
    the Message-ID is the idempotency key of every email."""
    inserted = db.execute(
        "INSERT INTO email_outbox (message_id, kind, conversation_id, recipient, subject, raw, details, status, "
        "next_attempt_at, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'queued', ?, ?, ?) "
        "ON CONFLICT (message_id) DO NOTHING",
        [message_id, kind, conversation_id, recipient, subject, raw, json.dumps(details) if details else None,
         now if due_at is None else due_at, created_by, now])
    return email_by_message_id(db, message_id), inserted.rowcount == 1


def email_by_message_id(db: Database, message_id: str) -> dict | None:
    row = db.execute(f"SELECT {OUTBOX_COLUMNS}, details FROM email_outbox WHERE message_id = ?",
                     [message_id]).fetchone()
    return _row(row)


def _row(row) -> dict | None:
    if row is None:
        return None
    email = dict(row)
    if "details" in email:
        email["details"] = json.loads(email["details"]) if email["details"] else None
    return email


def claim_due(db: Database, now: float, lease_seconds: float, limit: int) -> list[dict]:
    """Lease up to `limit` due emails to this worker (queued and due, or sending with a lease run out: their
    worker died) and count the attempt. On PostgreSQL rows another transaction holds are skipped."""
    skip = " FOR UPDATE SKIP LOCKED" if getattr(db, "locks_rows", False) else ""
    rows = db.execute(
        "SELECT id FROM email_outbox WHERE (status = 'queued' AND next_attempt_at <= ?) "
        "OR (status = 'sending' AND lease_until < ?) ORDER BY next_attempt_at, id LIMIT ?" + skip,
        [now, now, limit]).fetchall()
    claimed = []
    for row in rows:
        db.execute("UPDATE email_outbox SET status = 'sending', lease_until = ?, attempts = attempts + 1 "
                   "WHERE id = ?", [now + lease_seconds, row["id"]])
        claimed.append(_row(db.execute(f"SELECT {OUTBOX_COLUMNS}, details, raw FROM email_outbox WHERE id = ?",
                                       [row["id"]]).fetchone()))
    return claimed


def freeze(db: Database, email_id: int, subject: str, raw: str) -> None:
    """Keep the composed message: every later attempt sends these bytes."""
    db.execute("UPDATE email_outbox SET subject = ?, raw = ? WHERE id = ? AND raw IS NULL", [subject, raw, email_id])


def mark_sent(db: Database, email_id: int, attempt: int, now: float) -> bool:
    """Sent: only the attempt that holds the lease records it (a late, superseded attempt does not)."""
    return db.execute("UPDATE email_outbox SET status = 'sent', sent_at = ?, lease_until = NULL, last_error = NULL "
                      "WHERE id = ? AND status = 'sending' AND attempts = ?", [now, email_id, attempt]).rowcount == 1


def forget_raw(db: Database, email_id: int) -> None:
    """Drop a sent email's bytes (they held a secret); what admins see of it stays."""
    db.execute("UPDATE email_outbox SET raw = NULL WHERE id = ? AND status = 'sent'", [email_id])


def mark_failed_attempt(db: Database, email_id: int, attempt: int, error: str, retry_at: float | None) -> None:
    """An attempt failed: retry at `retry_at`, or give up (None)."""
    if retry_at is None:
        db.execute("UPDATE email_outbox SET status = 'failed', lease_until = NULL, last_error = ? "
                   "WHERE id = ? AND status = 'sending' AND attempts = ?", [error[:1000], email_id, attempt])
    else:
        db.execute("UPDATE email_outbox SET status = 'queued', lease_until = NULL, last_error = ?, "
                   "next_attempt_at = ? WHERE id = ? AND status = 'sending' AND attempts = ?",
                   [error[:1000], retry_at, email_id, attempt])


def cancel(db: Database, email_id: int, reason: str) -> None:
    db.execute("UPDATE email_outbox SET status = 'cancelled', lease_until = NULL, last_error = ? WHERE id = ? "
               "AND status = 'sending'", [reason, email_id])


def retry_now(db: Database, email_id: int, now: float) -> dict | None:
    """An admin's "retry now" of a failed or waiting email."""
    db.execute("UPDATE email_outbox SET status = 'queued', next_attempt_at = ? WHERE id = ? "
               "AND status IN ('queued', 'failed')", [now, email_id])
    return _row(db.execute(f"SELECT {OUTBOX_COLUMNS} FROM email_outbox WHERE id = ?", [email_id]).fetchone())


def recent(db: Database, limit: int = 50) -> list[dict]:
    """What admins see: the newest emails with their state, last error and next retry."""
    return [dict(r) for r in db.execute(f"SELECT {OUTBOX_COLUMNS} FROM email_outbox ORDER BY id DESC LIMIT ?",
                                        [limit]).fetchall()]


def counts(db: Database) -> dict:
    return {r["status"]: r["n"] for r in db.execute(
        "SELECT status, count(*) AS n FROM email_outbox GROUP BY status").fetchall()}


# -- privacy (store/privacy.py): emails to the visitor hold their address and the chat's words ---------------------

def _export_emails(db, _visitor_id, ids):
    return privacy.rows(db, "SELECT id, kind, conversation_id, recipient, subject, status, created_at, sent_at "
                            "FROM email_outbox WHERE conversation_id IN ({ids}) ORDER BY id", ids)


def _erase_emails(db, _visitor_id, ids):
    return db.execute(f"DELETE FROM email_outbox WHERE conversation_id IN ({', '.join('?' * len(ids)) or 'NULL'})",
                      ids).rowcount


from . import privacy  # noqa: E402  (privacy imports this module to register the part below)

privacy.register(privacy.PrivacyPart("emails_sent", _export_emails, _erase_emails))
