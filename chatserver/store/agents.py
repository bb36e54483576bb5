"""Agent accounts and login sessions."""
from __future__ import annotations

import hashlib
import json
import secrets

from sqlite_utils import Database

from ..errors import Conflict, NotFound
from .locks import serialize

SESSION_SECONDS = 14 * 24 * 3600
PUBLIC_FIELDS = ("id", "email", "name", "role", "max_chats", "departments", "disabled", "created_at")


def _public(row) -> dict | None:
    if row is None:
        return None
    agent = {k: row[k] for k in PUBLIC_FIELDS}
    agent["departments"] = json.loads(agent["departments"] or "[]")
    agent["disabled"] = bool(agent["disabled"])
    return agent


def count_agents(db: Database) -> int:
    return db.execute("SELECT count(*) FROM agents").fetchone()[0]


def create_agent(db: Database, email: str, name: str, password_hash: str, role: str,
                 max_chats: int, departments: list[str], now: float) -> dict:
    if db.execute("SELECT 1 FROM agents WHERE email = ?", [email]).fetchone():
        raise Conflict("an agent with that email already exists", code="agent_exists")
    cur = db.execute(
        "INSERT INTO agents (email, name, password_hash, role, max_chats, departments, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [email, name, password_hash, role, max_chats, json.dumps(departments), now])
    return get_agent(db, cur.lastrowid)


def create_first_admin(db: Database, email: str, name: str, password_hash: str, max_chats: int,
                       now: float) -> dict | None:
    """The admin account of a new database, or None when it has agents already. The check and the insert run
    under the bootstrap lock (PostgreSQL), so nodes starting together create exactly one."""
    serialize(db)
    if count_agents(db) != 0:
        return None
    return create_agent(db, email, name, password_hash, "admin", max_chats, [], now)


def get_agent(db: Database, agent_id: int) -> dict | None:
    return _public(db.execute("SELECT * FROM agents WHERE id = ?", [agent_id]).fetchone())


def list_agents(db: Database) -> list[dict]:
    return [_public(r) for r in db.execute("SELECT * FROM agents ORDER BY lower(name), id").fetchall()]


def password_hash_for(db: Database, email: str) -> tuple[int, str, bool] | None:
    row = db.execute("SELECT id, password_hash, disabled FROM agents WHERE email = ?", [email]).fetchone()
    return (row["id"], row["password_hash"], bool(row["disabled"])) if row else None


def password_hash_of(db: Database, agent_id: int) -> str | None:
    row = db.execute("SELECT password_hash FROM agents WHERE id = ?", [agent_id]).fetchone()
    return row[0] if row else None


def update_agent(db: Database, agent_id: int, **fields) -> dict:
    allowed = {"name", "role", "max_chats", "departments", "disabled", "password_hash"}
    sets, values = [], []
    for key, value in fields.items():
        if key not in allowed:
            raise ValueError(key)
        if key == "departments":
            value = json.dumps(value)
        if key == "disabled":
            value = int(bool(value))
        sets.append(f"{key} = ?")
        values.append(value)
    if sets:
        cur = db.execute(f"UPDATE agents SET {', '.join(sets)} WHERE id = ?", [*values, agent_id])
        if cur.rowcount == 0:
            raise NotFound("no such agent", code="agent_not_found")
    if fields.get("disabled"):
        db.execute("DELETE FROM agent_sessions WHERE agent_id = ?", [agent_id])
    return get_agent(db, agent_id)


def token_hash(token: str) -> str:
    """What is stored of a session token: its SHA-256 (tokens are 256 random bits, so no salt or slow hash is
    needed), so a copy of the database opens no sessions."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_session(db: Database, agent_id: int, now: float) -> str:
    """A new session token for the agent; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    db.execute("DELETE FROM agent_sessions WHERE expires_at < ?", [now])
    db.execute("INSERT INTO agent_sessions (token_hash, agent_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
               [token_hash(token), agent_id, now, now + SESSION_SECONDS])
    return token


def agent_for_session(db: Database, token: str, now: float) -> dict | None:
    row = db.execute(
        "SELECT a.* FROM agent_sessions s JOIN agents a ON a.id = s.agent_id "
        "WHERE s.token_hash = ? AND s.expires_at > ? AND a.disabled = 0", [token_hash(token), now]).fetchone()
    return _public(row)


def delete_session(db: Database, token: str) -> None:
    db.execute("DELETE FROM agent_sessions WHERE token_hash = ?", [token_hash(token)])


def delete_other_sessions(db: Database, agent_id: int, keep_token: str | None) -> None:
    keep = token_hash(keep_token) if keep_token is not None else None
    if keep is None:
        db.execute("DELETE FROM agent_sessions WHERE agent_id = ?", [agent_id])
    else:
        db.execute("DELETE FROM agent_sessions WHERE agent_id = ? AND token_hash != ?", [agent_id, keep])


def log_presence(db: Database, agent_id: int, status: str, now: float) -> None:
    db.execute("INSERT INTO presence_log (agent_id, status, created_at) VALUES (?, ?, ?)", [agent_id, status, now])


# -- one-time passwords and reset links ------------------------------------------------------------------------

RESET_LINK_SECONDS = 24 * 3600


def require_password_change(db: Database, agent_id: int, now: float) -> None:
    """The agent's password was generated (an invitation or an admin's reset): they choose their own at their
    next sign-in."""
    db.execute("DELETE FROM password_change_required WHERE agent_id = ?", [agent_id])
    db.execute("INSERT INTO password_change_required (agent_id, since) VALUES (?, ?)", [agent_id, now])


def must_change_password(db: Database, agent_id: int) -> bool:
    return db.execute("SELECT 1 FROM password_change_required WHERE agent_id = ?",
                      [agent_id]).fetchone() is not None


def password_chosen(db: Database, agent_id: int) -> None:
    db.execute("DELETE FROM password_change_required WHERE agent_id = ?", [agent_id])


def create_reset_link(db: Database, agent_id: int, now: float) -> str:
    """A new reset token for the agent (valid RESET_LINK_SECONDS, once); earlier ones stop working. Only its hash
    is stored."""
    if get_agent(db, agent_id) is None:
        raise NotFound("no such agent", code="agent_not_found")
    token = secrets.token_urlsafe(32)
    db.execute("DELETE FROM password_resets WHERE agent_id = ? OR expires_at < ?", [agent_id, now])
    db.execute("INSERT INTO password_resets (token_hash, agent_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
               [token_hash(token), agent_id, now, now + RESET_LINK_SECONDS])
    return token


def reset_link_agent(db: Database, token: str, now: float) -> dict | None:
    """The (enabled) agent a valid reset token was made for, else None."""
    row = db.execute("SELECT a.* FROM password_resets r JOIN agents a ON a.id = r.agent_id "
                     "WHERE r.token_hash = ? AND r.expires_at > ? AND a.disabled = 0",
                     [token_hash(token), now]).fetchone()
    return _public(row)


def use_reset_link(db: Database, token: str, password_hash: str, now: float) -> dict | None:
    """Set the password with a valid reset token, which then stops working; every session of the agent ends.
    None when the token is unknown, used or expired."""
    agent = reset_link_agent(db, token, now)
    if agent is None:
        return None
    db.execute("DELETE FROM password_resets WHERE agent_id = ?", [agent["id"]])
    update_agent(db, agent["id"], password_hash=password_hash)
    delete_other_sessions(db, agent["id"], None)
    password_chosen(db, agent["id"])
    return agent
