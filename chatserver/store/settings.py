"""Admin-editable settings (key -> JSON value) and canned replies."""
from __future__ import annotations

import json

from sqlite_utils import Database

from ..errors import Conflict, NotFound


def all_settings(db: Database) -> dict:
    return {row["key"]: json.loads(row["value"]) for row in db.execute("SELECT key, value FROM settings").fetchall()}


def save_settings(db: Database, changes: dict) -> dict:
    for key, value in changes.items():
        db.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                   [key, json.dumps(value)])
    return all_settings(db)


def canned_replies(db: Database) -> list[dict]:
    return [dict(r) for r in db.execute("SELECT id, shortcut, text FROM canned_replies ORDER BY shortcut").fetchall()]


def add_canned_reply(db: Database, shortcut: str, text: str, now: float) -> dict:
    if db.execute("SELECT 1 FROM canned_replies WHERE shortcut = ?", [shortcut]).fetchone():
        raise Conflict("a canned reply with that shortcut exists", code="shortcut_exists")
    cur = db.execute("INSERT INTO canned_replies (shortcut, text, created_at) VALUES (?, ?, ?)", [shortcut, text, now])
    return {"id": cur.lastrowid, "shortcut": shortcut, "text": text}


def delete_canned_reply(db: Database, reply_id: int) -> None:
    if db.execute("DELETE FROM canned_replies WHERE id = ?", [reply_id]).rowcount == 0:
        raise NotFound("no such canned reply")
