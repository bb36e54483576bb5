"""API tokens (docs/api.md): only a SHA-256 of each secret is stored, so a copy of the database opens no API."""
from __future__ import annotations

import hashlib

from sqlite_utils import Database

from ..errors import NotFound

FIELDS = ("id", "name", "scope", "prefix", "agent_id", "created_at", "last_used_at", "revoked_at")
# last_used_at is written at most this often per token: a busy integration costs one write a second, not per call.
TOUCH_SECONDS = 1.0


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _public(row) -> dict | None:
    if row is None:
        return None
    token = {k: row[k] for k in FIELDS}
    if "agent_name" in row.keys():
        token["agent_name"] = row["agent_name"]
    return token


def create_token(db: Database, name: str, scope: str, secret: str, agent_id: int, now: float) -> dict:
    cur = db.execute("INSERT INTO api_tokens (name, scope, token_hash, prefix, agent_id, created_at) "
                     "VALUES (?, ?, ?, ?, ?, ?)", [name, scope, secret_hash(secret), secret[:12], agent_id, now])
    return get_token(db, cur.lastrowid)


def get_token(db: Database, token_id: int) -> dict | None:
    return _public(db.execute("SELECT t.*, a.name AS agent_name FROM api_tokens t JOIN agents a ON a.id = t.agent_id "
                              "WHERE t.id = ?", [token_id]).fetchone())


def list_tokens(db: Database) -> list[dict]:
    return [_public(r) for r in db.execute(
        "SELECT t.*, a.name AS agent_name FROM api_tokens t JOIN agents a ON a.id = t.agent_id "
        "ORDER BY t.revoked_at IS NOT NULL, t.id DESC").fetchall()]


def revoke_token(db: Database, token_id: int, now: float) -> dict:
    cur = db.execute("UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?", [now, token_id])
    if cur.rowcount == 0:
        raise NotFound("no such API token", code="token_not_found")
    return get_token(db, token_id)


def token_for_secret(db: Database, secret: str) -> dict | None:
    """The live token with this secret (not revoked), or None."""
    return _public(db.execute("SELECT * FROM api_tokens WHERE token_hash = ? AND revoked_at IS NULL",
                              [secret_hash(secret)]).fetchone())


def touch(db: Database, token_id: int, now: float) -> None:
    db.execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)",
               [now, token_id, now - TOUCH_SECONDS])
