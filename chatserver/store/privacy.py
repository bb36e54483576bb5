"""One visitor's data, table by table (docs/privacy.md): a registry of parts, each able to export what it holds of a
visitor and to erase it. Export and erasure run every registered part, in order, inside one read or one write.

A feature that keeps personal data in a table of its own (attachments, quality records, email tickets...) adds
one `PrivacyPart` with `register(...)` in its store module; nothing else changes. A part is

- `export(db, visitor_id, conversation_ids) -> JSON-able` (what the visitor may see of themselves), and
- `erase(db, visitor_id, conversation_ids) -> int` (rows changed). `visitor_id` is None when the retention job
  anonymises old conversations: then only the conversations' content goes, the visitor is kept.

What the reports count stays: conversations keep their times, status, agent and resolution; surveys their scores;
the bot's article events their types. What is erased is content: messages, names, email addresses, identities,
comments, free text, page addresses and browsers.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

import sqlite_utils
from sqlite_utils import Database

from . import identities
from .conversations import conversation_events, messages_after


@dataclass(frozen=True)
class PrivacyPart:
    name: str
    export: Callable[[Database, str, list[int]], object]
    erase: Callable[[Database, str | None, list[int]], int]


PARTS: list[PrivacyPart] = []


def register(part: PrivacyPart, before: str | None = None) -> None:
    """Add a part; `before` names a part it must run ahead of (its rows reference that part's rows)."""
    if any(p.name == part.name for p in PARTS):
        raise ValueError(f"privacy part {part.name!r} registered twice")
    names = [p.name for p in PARTS]
    PARTS.insert(names.index(before) if before in names else len(PARTS), part)


def rows(db: Database, sql: str, ids: list[int]) -> list[dict]:
    """The rows of `sql` (with `IN ({ids})` where the ids go) as plain dicts, for an export."""
    return [dict(r) for r in db.execute(sql.format(ids=_in(ids)), ids).fetchall()]


def _in(ids: list[int]) -> str:
    return ", ".join("?" * len(ids)) or "NULL"


def conversation_ids(db: Database, visitor_id: str) -> list[int]:
    return [r[0] for r in db.execute("SELECT id FROM conversations WHERE visitor_id = ? ORDER BY id",
                                     [visitor_id]).fetchall()]


# -- the parts of this server's own tables --------------------------------------------------------------------

def _export_visitor(db, visitor_id, _ids):
    row = db.execute("SELECT * FROM visitors WHERE id = ?", [visitor_id]).fetchone()
    return dict(row) if row else None


def _erase_visitor(db, visitor_id, _ids):
    if visitor_id is None:
        return 0
    return db.execute("UPDATE visitors SET name = NULL, email = NULL, page_url = NULL, user_agent = NULL, "
                      "ip_network = NULL WHERE id = ?", [visitor_id]).rowcount


def _export_identity(db, visitor_id, _ids):
    return identities.of_visitor(db, visitor_id)


def _erase_identity(db, visitor_id, _ids):
    if visitor_id is None:
        return 0
    return db.execute("DELETE FROM visitor_identities WHERE visitor_id = ?", [visitor_id]).rowcount


def _export_conversations(db, _visitor_id, ids):
    found = []
    for conversation_id in ids:
        row = db.execute("SELECT * FROM conversations WHERE id = ?", [conversation_id]).fetchone()
        found.append({**dict(row), "messages": messages_after(db, conversation_id, 0, True, 100_000),
                      "events": conversation_events(db, conversation_id)})
    return found


def _erase_conversations(db, _visitor_id, ids):
    changed = db.execute(f"DELETE FROM messages WHERE conversation_id IN ({_in(ids)})", ids).rowcount
    changed += db.execute(f"UPDATE conversations SET page_url = NULL WHERE id IN ({_in(ids)})", ids).rowcount
    # Event reasons and details can quote the visitor (a hand-off's question): the event types and times stay.
    changed += db.execute(f"UPDATE conversation_events SET reason = NULL, details = NULL "
                          f"WHERE conversation_id IN ({_in(ids)})", ids).rowcount
    return changed


def _export_surveys(db, _visitor_id, ids):
    return [dict(r) for r in db.execute(f"SELECT * FROM surveys WHERE conversation_id IN ({_in(ids)}) "
                                        "ORDER BY conversation_id", ids).fetchall()]


def _erase_surveys(db, _visitor_id, ids):
    return db.execute(f"UPDATE surveys SET comment = NULL WHERE conversation_id IN ({_in(ids)}) "
                      "AND comment IS NOT NULL", ids).rowcount


def _export_bot(db, _visitor_id, ids):
    return {
        "article_events": [dict(r) for r in db.execute(
            f"SELECT conversation_id, slug, type, rank, score, reason, created_at FROM article_events "
            f"WHERE conversation_id IN ({_in(ids)}) ORDER BY id", ids).fetchall()],
        "unanswered_questions": [dict(r) for r in db.execute(
            f"SELECT conversation_id, text, best_slug, best_score, created_at FROM unanswered_questions "
            f"WHERE conversation_id IN ({_in(ids)}) ORDER BY id", ids).fetchall()],
    }


def _erase_bot(db, _visitor_id, ids):
    changed = db.execute(f"UPDATE article_events SET reason = NULL WHERE conversation_id IN ({_in(ids)}) "
                         "AND reason IS NOT NULL", ids).rowcount
    # The gap report keeps counting the question, not its words.
    changed += db.execute(f"UPDATE unanswered_questions SET text = '(erased)' "
                          f"WHERE conversation_id IN ({_in(ids)})", ids).rowcount
    return changed


def _export_webhooks(db, _visitor_id, ids):
    return []       # copies of events sent to other systems: the events themselves are in the export


def _erase_webhooks(db, _visitor_id, ids):
    """Deliveries carry the events' content (message texts): they go, sent or not, with their attempts."""
    deliveries = [r[0] for r in db.execute(
        f"SELECT id FROM webhook_deliveries WHERE conversation_id IN ({_in(ids)})", ids).fetchall()]
    if not deliveries:
        return 0
    db.execute(f"DELETE FROM webhook_attempts WHERE delivery_id IN ({_in(deliveries)})", deliveries)
    return db.execute(f"DELETE FROM webhook_deliveries WHERE id IN ({_in(deliveries)})", deliveries).rowcount


for _part in (PrivacyPart("visitor", _export_visitor, _erase_visitor),
              PrivacyPart("identity", _export_identity, _erase_identity),
              PrivacyPart("conversations", _export_conversations, _erase_conversations),
              PrivacyPart("surveys", _export_surveys, _erase_surveys),
              PrivacyPart("bot", _export_bot, _erase_bot),
              PrivacyPart("webhook_deliveries", _export_webhooks, _erase_webhooks)):
    register(_part)


# -- the whole -------------------------------------------------------------------------------------------------

def export_visitor(db: Database, visitor_id: str) -> dict | None:
    if db.execute("SELECT 1 FROM visitors WHERE id = ?", [visitor_id]).fetchone() is None:
        return None
    ids = conversation_ids(db, visitor_id)
    return {part.name: part.export(db, visitor_id, ids) for part in PARTS}


def _secure_delete(db, on: bool) -> None:
    """SQLite: overwrite deleted content with zeros (not left in free pages). PostgreSQL has no such switch: its
    dead rows are reclaimed by VACUUM (docs/privacy.md)."""
    if isinstance(db, sqlite_utils.Database):
        db.execute(f"PRAGMA secure_delete = {'ON' if on else 'OFF'}")


def erase(db: Database, visitor_id: str | None, ids: list[int], now: float) -> dict:
    """Every part's erase, in one transaction; {part: rows changed} (counts only: the audit entry)."""
    _secure_delete(db, True)
    try:
        counts = {part.name: part.erase(db, visitor_id, ids) for part in PARTS}
        if visitor_id is not None:
            db.execute("INSERT INTO visitor_erasures (visitor_id, erased_at) VALUES (?, ?) "
                       "ON CONFLICT (visitor_id) DO NOTHING", [visitor_id, now])
    finally:
        _secure_delete(db, False)
    return counts


def erase_visitor(db: Database, visitor_id: str, now: float) -> dict | None:
    if db.execute("SELECT 1 FROM visitors WHERE id = ?", [visitor_id]).fetchone() is None:
        return None
    return erase(db, visitor_id, conversation_ids(db, visitor_id), now)


def is_erased(db: Database, visitor_id: str) -> bool:
    return db.execute("SELECT 1 FROM visitor_erasures WHERE visitor_id = ?", [visitor_id]).fetchone() is not None


def open_conversation_ids(db: Database, visitor_id: str) -> list[int]:
    return [r[0] for r in db.execute("SELECT id FROM conversations WHERE visitor_id = ? AND status != 'closed'",
                                     [visitor_id]).fetchall()]


# -- retention -------------------------------------------------------------------------------------------------

def last_retention_run(db: Database) -> float | None:
    row = db.execute("SELECT max(started_at) FROM retention_runs").fetchone()
    return row[0] if row else None


def apply_retention(db: Database, closed_before: float | None, now: float, every: float,
                    attachments_before: float | None = None) -> dict | None:
    """The daily retention run, unless one started within `every` seconds (another node, or before a restart): None
    then. Anonymises conversations closed before `closed_before` (not done yet; None: keep them) and removes the
    attachments sent before `attachments_before` (None: keep them). Returns {"conversations": how many,
    "attachments": how many, "files": the stored files to remove after the commit}."""
    last = last_retention_run(db)
    if last is not None and now - last < every:
        return None
    ids = [] if closed_before is None else [r[0] for r in db.execute(
        "SELECT c.id FROM conversations c WHERE c.status = 'closed' AND c.closed_at < ? "
        "AND (EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id) OR c.page_url IS NOT NULL "
        "OR EXISTS (SELECT 1 FROM surveys s WHERE s.conversation_id = c.id AND s.comment IS NOT NULL)) "
        "ORDER BY c.id LIMIT 5000", [closed_before]).fetchall()]
    if ids:
        erase(db, None, ids, now)
    removed, files = (0, []) if attachments_before is None else attachments.remove_older_than(db, attachments_before)
    db.execute("INSERT INTO retention_runs (started_at, conversations) VALUES (?, ?)", [now, len(ids)])
    return {"conversations": len(ids), "attachments": removed, "files": files}


def dumps(export: dict) -> str:
    return json.dumps(export, indent=1, ensure_ascii=False, default=str)


# The parts of the features with tables of their own register themselves in their store modules; importing them
# here makes sure they have whoever imports this module first.
from . import attachments, email_replies, outbox, proposals, quality, receipts  # noqa: E402,F401
