"""Attachments: one row per file sent in a conversation, and its message (kind 'attachment') in the history."""
from __future__ import annotations

import json

from sqlite_utils import Database

from ..errors import Conflict
from . import conversations as conv_queries
from .locks import lock_conversation


def public(row: dict) -> dict:
    """What clients see of an attachment (inside its message's payload)."""
    return {"id": row["id"], "name": row["filename"], "type": row["content_type"], "size": row["size"],
            "width": row["width"], "height": row["height"], "thumbnail": row["thumbnail_key"] is not None}


def get_attachment(db: Database, attachment_id: int) -> dict | None:
    row = db.execute("SELECT * FROM attachments WHERE id = ?", [attachment_id]).fetchone()
    return dict(row) if row else None


def _message(db: Database, message_id: int) -> dict:
    row = db.execute(conv_queries._MESSAGE_SELECT + "WHERE m.id = ?", [message_id]).fetchone()
    return conv_queries.message_dict(row)


def visitor_upload(db: Database, visitor_id: str, client_id: str) -> dict | None:
    """The message this visitor already sent with `client_id` (a retried upload), if any."""
    row = db.execute(conv_queries._MESSAGE_SELECT + "JOIN conversations c ON c.id = m.conversation_id "
                     "WHERE m.client_id = ? AND c.visitor_id = ? AND m.author = 'visitor'",
                     [client_id, visitor_id]).fetchone()
    return conv_queries.message_dict(row) if row else None


def _insert(db: Database, conversation: dict, uploader: str, uploader_id: str, client_id: str, stored: dict,
            now: float, agent_id: int | None) -> dict:
    cur = db.execute(
        "INSERT INTO attachments (conversation_id, uploader, uploader_id, client_id, filename, content_type, size, "
        "sha256, storage_key, thumbnail_key, width, height, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [conversation["id"], uploader, uploader_id, client_id, stored["filename"], stored["content_type"],
         stored["size"], stored["sha256"], stored["storage_key"], stored["thumbnail_key"], stored["width"],
         stored["height"], now])
    attachment = get_attachment(db, cur.lastrowid)
    payload = {"attachment": public(attachment)}
    if uploader == "visitor":
        message = conv_queries._insert_message(db, conversation, "visitor", stored["filename"], now,
                                               client_id=client_id, kind="attachment", payload=payload)
    else:
        message = conv_queries.add_agent_message(db, conversation, agent_id, client_id, stored["filename"], now,
                                                 kind="attachment", payload=payload)
    db.execute("UPDATE attachments SET message_id = ? WHERE id = ?", [message["id"], attachment["id"]])
    return message


def add_visitor_attachment(db: Database, visitor_id: str, client_id: str, stored: dict, now: float,
                           initial_status: str, page_url: str | None) -> dict:
    """The visitor's file as a message in their open conversation (a new one if none). A client_id they already
    used returns the stored message (duplicate: the retried upload is not kept twice)."""
    conversation = conv_queries.open_conversation_of(db, visitor_id)
    existing = visitor_upload(db, visitor_id, client_id)
    if existing is not None:
        if existing["kind"] != "attachment":
            raise Conflict("that client_id was already used for a message", code="duplicate_client_id")
        return {"message": existing, "conversation": conv_queries.get_conversation(db, existing["conversation_id"]),
                "duplicate": True, "created": False}
    created = conversation is None
    if created:
        conversation = conv_queries.ensure_open_conversation(db, visitor_id, initial_status, now, page_url)
    if conversation["first_visitor_message_at"] is None:
        db.execute("UPDATE conversations SET first_visitor_message_at = ? WHERE id = ?", [now, conversation["id"]])
    message = _insert(db, conversation, "visitor", visitor_id, client_id, stored, now, None)
    return {"message": message, "conversation": conversation, "duplicate": False, "created": created}


def add_agent_attachment(db: Database, conversation: dict, agent_id: int, client_id: str, stored: dict,
                         now: float) -> dict:
    """The agent's file as a reply (who may reply is the caller's check); a resent client_id returns the stored one."""
    lock_conversation(db, conversation["id"])
    existing = conv_queries.agent_message_by_client_id(db, conversation["id"], client_id)
    if existing is not None:
        if existing.get("agent_id") != agent_id or existing["kind"] != "attachment":
            raise Conflict("that client_id was already used in this conversation", code="duplicate_client_id")
        return {"message": existing, "duplicate": True}
    return {"message": _insert(db, conversation, "agent", str(agent_id), client_id, stored, now, agent_id),
            "duplicate": False}


# -- privacy (store/privacy.py): the visitor's files are theirs --------------------------------------------------

def storage_keys(db: Database, conversation_ids: list[int]) -> list[str]:
    """The stored files (and thumbnails) of these conversations' attachments, to remove after their rows go."""
    found = privacy.rows(db, "SELECT storage_key, thumbnail_key FROM attachments WHERE conversation_id IN ({ids})",
                         conversation_ids)
    return [key for row in found for key in (row["storage_key"], row["thumbnail_key"]) if key]


def referenced_keys(db: Database) -> set[str]:
    return {key for row in db.execute("SELECT storage_key, thumbnail_key FROM attachments").fetchall()
            for key in row if key}


def remove_older_than(db: Database, created_before: float) -> tuple[int, list[str]]:
    """Attachment retention (docs/privacy.md): the rows of files sent before `created_before` go; their messages stay
    in the history, the payload marked `removed` (no thumbnail, nothing to fetch). Returns how many and the stored
    files to remove after the commit (a file is not part of a transaction)."""
    found = db.execute("SELECT id, message_id, storage_key, thumbnail_key FROM attachments WHERE created_at < ? "
                       "ORDER BY id LIMIT 5000", [created_before]).fetchall()
    for row in found:
        message = db.execute("SELECT payload FROM messages WHERE id = ?", [row["message_id"]]).fetchone()
        if message is not None and message["payload"]:
            payload = json.loads(message["payload"])
            payload["attachment"] = {**(payload.get("attachment") or {}), "thumbnail": False, "removed": True}
            db.execute("UPDATE messages SET payload = ? WHERE id = ?", [json.dumps(payload), row["message_id"]])
    ids = [row["id"] for row in found]
    if ids:
        db.execute(f"DELETE FROM attachments WHERE id IN ({', '.join('?' * len(ids))})", ids)
    return len(ids), [key for row in found for key in (row["storage_key"], row["thumbnail_key"]) if key]


def _export(db, _visitor_id, ids):
    return privacy.rows(db, "SELECT id, conversation_id, uploader, filename, content_type, size, width, height, "
                            "created_at FROM attachments WHERE conversation_id IN ({ids}) ORDER BY id", ids)


def _erase(db, _visitor_id, ids):
    # Before the conversations' part: these rows reference the messages it deletes. The bytes go after the commit
    # (desk/privacy.py), as a file cannot be part of a transaction.
    return db.execute(f"DELETE FROM attachments WHERE conversation_id IN ({', '.join('?' * len(ids)) or 'NULL'})",
                      ids).rowcount


from . import privacy  # noqa: E402  (privacy imports this module to register the part below)

privacy.register(privacy.PrivacyPart("attachments", _export, _erase), before="conversations")
