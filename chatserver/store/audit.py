"""The audit log: one row per admin action, appended in the transaction of the action itself, never changed
(the schema's triggers refuse UPDATE and DELETE)."""
from __future__ import annotations

import json

from sqlite_utils import Database

COLUMNS = ("created_at", "actor_agent_id", "actor_name", "via", "token_id", "address", "action", "target_type",
           "target_id", "changes")
PAGE_MAX = 200


def append(db: Database, entry: dict) -> int:
    values = [entry.get(c) for c in COLUMNS]
    values[COLUMNS.index("changes")] = json.dumps(entry["changes"]) if entry.get("changes") is not None else None
    values[COLUMNS.index("target_id")] = None if entry.get("target_id") is None else str(entry["target_id"])
    cur = db.execute(f"INSERT INTO audit_log ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                     values)
    return cur.lastrowid


def _entry(row) -> dict:
    entry = dict(row)
    entry["changes"] = json.loads(entry["changes"]) if entry["changes"] else None
    return entry


def entries(db: Database, filters: dict, before_id: int | None, limit: int) -> list[dict]:
    """Newest first; `filters` (validated): actor_agent_id, action (exact, or a prefix ending in '.'), target_type,
    target_id, since, until."""
    clauses, values = ["id < ?"], [before_id or 2**62]
    if filters.get("actor_agent_id") is not None:
        clauses.append("actor_agent_id = ?")
        values.append(filters["actor_agent_id"])
    action = filters.get("action")
    if action:
        if action.endswith("."):
            clauses.append("substr(action, 1, ?) = ?")
            values += [len(action), action]
        else:
            clauses.append("action = ?")
            values.append(action)
    for name, clause in (("target_type", "target_type = ?"), ("target_id", "target_id = ?"),
                         ("since", "created_at >= ?"), ("until", "created_at < ?")):
        if filters.get(name) is not None:
            clauses.append(clause)
            values.append(filters[name])
    rows = db.execute(f"SELECT * FROM audit_log WHERE {' AND '.join(clauses)} ORDER BY id DESC LIMIT ?",
                      [*values, limit]).fetchall()
    return [_entry(r) for r in rows]


def actions(db: Database) -> list[str]:
    return [r[0] for r in db.execute("SELECT DISTINCT action FROM audit_log ORDER BY action").fetchall()]



def prune(db: Database, before: float) -> int:
    """Delete the entries older than `before` (the retention setting): the one delete the triggers allow."""
    db.execute("UPDATE audit_prune SET before = ? WHERE id = 1 AND before < ?", [before, before])
    return db.execute("DELETE FROM audit_log WHERE created_at < ?", [before]).rowcount
