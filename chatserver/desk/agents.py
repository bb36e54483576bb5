"""Managing agents: create (invite), change role, capacity and departments, disable, reset a password, and the
first admin account. Changes apply live: new capacity and departments count for routing at once; disabling ends
the agent's login sessions (store) and sockets, their chats going back to the queue."""
from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
import time

from .. import validation
from ..validation import collect_fields
from ..errors import Conflict, InvalidPayload, NotFound
from ..security.first_admin import record_generated_password
from ..passwords import hash_password
from ..store import agents as agent_queries
from . import account_emails, audit, presence
from .events import AgentSignedOut

ROLES = {"agent", "supervisor", "admin"}
MAX_CHATS_LIMIT = 50
MIN_PASSWORD = 10
DEPARTMENT_RE = re.compile(r"^[\w][\w .&-]{0,39}$")
# Looser than validation.EMAIL_RE on purpose: logins like the default admin@localhost have no dot in the domain.
LOGIN_EMAIL_RE = re.compile(r"^[^@\s<>\"']{1,64}@[^@\s<>\"']{1,253}$")

# JSON-typed values; the form handlers convert first.

def _email(fields: dict) -> str:
    value = fields.get("email")
    if not isinstance(value, str) or not LOGIN_EMAIL_RE.match(value.strip()):
        raise InvalidPayload("enter an email address like dana@example.com", code="invalid_email")
    return value.strip().lower()


def login_email(value: object) -> str:
    """A login typed on a page (e.g. "Forgot your password?"), checked and lower-cased; `invalid_email` if not one."""
    return _email({"email": value})


def _name(fields: dict) -> str:
    return validation.plainly(lambda: validation.text(fields, "name", 80),
                              "Enter the agent's name as visitors should see it (up to 80 characters).")


def _max_chats(fields: dict) -> int:
    return validation.plainly(lambda: validation.integer(fields, "max_chats", 1, MAX_CHATS_LIMIT),
                              f"Enter a whole number from 1 to {MAX_CHATS_LIMIT}: how many chats this agent "
                              "can take at once.")


def _departments(fields: dict) -> list[str]:
    value = fields.get("departments")
    if not isinstance(value, list) or not all(isinstance(d, str) for d in value):
        raise InvalidPayload("'departments' must be a list of names")
    cleaned: list[str] = []
    for item in (" ".join(d.split()) for d in value):
        if not item:
            continue
        if not DEPARTMENT_RE.match(item):
            raise InvalidPayload(f"'{item[:40]}' is not a department name (letters, digits, spaces, '-', up to 40)")
        if item not in cleaned:
            cleaned.append(item)
    if len(cleaned) > 20:
        raise InvalidPayload("at most 20 departments", code="out_of_range")
    return cleaned


def _password(fields: dict) -> str | None:
    value = fields.get("password")
    if value in (None, ""):
        return None
    if not isinstance(value, str) or len(value) < MIN_PASSWORD or len(value) > 200:
        raise InvalidPayload(f"a password needs {MIN_PASSWORD} to 200 characters (or leave it empty to generate one)")
    return value


def clean_new_agent(fields: dict) -> dict:
    return collect_fields({
        "email": lambda: _email(fields),
        "name": lambda: _name(fields),
        "role": lambda: validation.choice(fields, "role", ROLES),
        "max_chats": lambda: _max_chats(fields),
        "departments": lambda: _departments(fields),
        "password": lambda: _password(fields),
    })


def clean_agent_changes(fields: dict) -> dict:
    checks = {"name": lambda: _name(fields), "role": lambda: validation.choice(fields, "role", ROLES),
              "max_chats": lambda: _max_chats(fields), "departments": lambda: _departments(fields),
              "disabled": lambda: validation.boolean(fields, "disabled")}
    unknown = set(fields) - set(checks)
    if unknown:
        raise InvalidPayload(f"agents have no field(s) {', '.join(sorted(unknown))[:200]}")
    return collect_fields({name: check for name, check in checks.items() if name in fields})



def generate_password() -> str:
    return secrets.token_urlsafe(12)


AUDITED_FIELDS = ("email", "name", "role", "max_chats", "departments", "disabled")


async def create_agent(desk, fields: dict, actor: audit.Actor | None = None,
                       admin: dict | None = None) -> tuple[dict, str | None, dict | None]:
    """Create an agent; returns (agent, one-time password, invitation email). Without a chosen password: when
    email is on, an invitation with a link to choose their password is queued in the same transaction (the
    generated password is never shown); when it is off, the one-time password is returned to show once."""
    cleaned = clean_new_agent(fields)
    generated = None
    if cleaned["password"] is None:
        generated = cleaned["password"] = generate_password()
    invite = generated is not None and account_emails.email_on(desk)
    password_hash = await asyncio.to_thread(hash_password, cleaned["password"])   # argon2: ~0.1 s of CPU

    def create(db, now):
        agent = agent_queries.create_agent(db, cleaned["email"], cleaned["name"], password_hash, cleaned["role"],
                                           cleaned["max_chats"], cleaned["departments"], now)
        if generated is not None:       # a one-time password: they choose their own at first sign-in
            agent_queries.require_password_change(db, agent["id"], now)
        invitation = account_emails.queue_invitation(db, desk, agent, admin, now) if invite else None
        return agent, invitation

    write = audit.audited(create, actor, "agent.created", "agent",
                          lambda made: (made[0]["id"], audit.diff(None, made[0], AUDITED_FIELDS)))
    agent, invitation = await desk.store.write(write, time.time())
    return agent, None if invite else generated, invitation


def _update(db, agent_id: int, changes: dict, actor: audit.Actor | None) -> dict:
    before = agent_queries.get_agent(db, agent_id)
    agent = agent_queries.update_agent(db, agent_id, **changes)
    changed = audit.diff(before, agent, AUDITED_FIELDS)
    action = ("agent.disabled" if agent["disabled"] else "agent.enabled") if "disabled" in changed else \
        "agent.role_changed" if "role" in changed else "agent.updated"
    audit.record(db, actor, action, "agent", agent_id, changed)
    return agent


async def update_agent(desk, admin: dict, agent_id: int, fields: dict, actor: audit.Actor | None = None) -> dict:
    """Change an agent and apply it live: new capacity and departments count for routing at once; disabling
    ends their sessions (store) and disconnects their sockets, their chats going back to the queue."""
    changes = clean_agent_changes(fields)
    if agent_id == admin["id"] and (changes.get("disabled") or changes.get("role", "admin") != "admin"):
        raise Conflict("you cannot disable your own account or remove your own admin role; ask another admin",
                       code="own_account")
    agent = await desk.store.write(_update, agent_id, changes, actor)
    await presence.refresh_agent(desk, agent)
    return agent


def login_session_hash(token: str) -> str:
    """Names a login session without the token itself: its sockets share a room, ended at logout."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def _start_session(db, agent_id: int, now: float, address: str | None) -> str:
    token = agent_queries.create_session(db, agent_id, now)
    agent = agent_queries.get_agent(db, agent_id)
    if agent is not None and agent["role"] == "admin":
        audit.record(db, audit.Actor.of(agent, "login", address), "admin.login", "agent", agent_id, None)
    return token


async def start_session(desk, agent_id: int, now: float, address: str | None) -> str:
    """A login session for an agent whose password was checked; an admin's login is audited in the same
    transaction. Returns the session token."""
    return await desk.store.write(_start_session, agent_id, now, address)


async def sign_out(desk, agent_id: int, token: str) -> None:
    """Logout: the login session ends, and so do the sockets opened with it."""
    await desk.store.write(agent_queries.delete_session, token)
    await desk.notifier.publish([AgentSignedOut(agent_id, session_hash=login_session_hash(token))])


def _set_password(db, agent_id: int, password_hash: str, keep_token: str | None) -> dict:
    agent = agent_queries.update_agent(db, agent_id, password_hash=password_hash)
    agent_queries.delete_other_sessions(db, agent_id, keep_token)
    agent_queries.password_chosen(db, agent_id)
    return agent


async def change_own_password(desk, agent_id: int, password_hash: str, keep_token: str | None) -> None:
    """An agent chose a new password (hashed by the caller): every other login session ends, sockets included;
    this one stays."""
    await desk.store.write(_set_password, agent_id, password_hash, keep_token)
    await desk.notifier.publish([AgentSignedOut(agent_id, keep_session_hash=login_session_hash(keep_token)
                                                if keep_token else None)])


def _reset_password(db, agent_id: int, password_hash: str, actor: audit.Actor | None = None) -> dict:
    agent = agent_queries.update_agent(db, agent_id, password_hash=password_hash)
    agent_queries.delete_other_sessions(db, agent_id, None)
    audit.record(db, actor, "agent.password_reset", "agent", agent_id, None)   # never the password
    agent_queries.require_password_change(db, agent_id, time.time())
    return agent


async def reset_password(desk, agent_id: int, actor: audit.Actor | None = None) -> tuple[dict, str]:
    """A new generated password, shown once; every session of that agent is signed out, sockets included."""
    password = generate_password()
    password_hash = await asyncio.to_thread(hash_password, password)
    agent = await desk.store.write(_reset_password, agent_id, password_hash, actor)
    await desk.notifier.publish([AgentSignedOut(agent_id)])
    return agent, password


async def issue_reset_link(desk, agent_id: int) -> str:
    """A reset token for the agent (the admin hands them the link); valid a day, once. Their password and
    sessions stay as they are until the link is used."""
    return await desk.store.write(agent_queries.create_reset_link, agent_id, time.time())


async def reset_with_link(desk, token: str, password: str) -> dict:
    """The agent chose a new password through a reset link: it is set, the link stops working and every session
    of theirs ends (sockets included). Refuses a short password or an unknown, used or expired link."""
    if len(password) < MIN_PASSWORD or len(password) > 200:
        raise InvalidPayload(f"Choose a password of {MIN_PASSWORD} to 200 characters.", code="weak_password")
    password_hash = await asyncio.to_thread(hash_password, password)
    agent = await desk.store.write(agent_queries.use_reset_link, token, password_hash, time.time())
    if agent is None:
        raise NotFound("This reset link is no longer valid: ask an admin for a new one.", code="reset_link_invalid")
    await desk.notifier.publish([AgentSignedOut(agent["id"])])
    return agent


async def with_presence(desk, agents: list[dict]) -> list[dict]:
    """Agents for the admin lists, each with live status (online / away / offline) and open chats."""
    listed = []
    for agent in agents:
        live = await presence.presence_of(desk, agent)
        listed.append({**agent, "status": live["status"], "open_chats": live["open_chats"]})
    return listed


def known_departments(desk, agents: list[dict]) -> list[str]:
    """Departments used by articles or agents, offered as checkboxes."""
    found = {a.department for a in list(desk.kb.articles.values()) if a.department}
    for agent in agents:
        found.update(agent["departments"])
    return sorted(found, key=str.lower)


async def ensure_first_admin(store, config) -> None:
    """On first start, create the admin account; a generated password is written once to a private file in the
    data dir (the database stores only its hash), never to stdout."""
    if await store.read(agent_queries.count_agents) != 0:
        return
    password = config.admin_password or secrets.token_urlsafe(12)
    created = await store.write(agent_queries.create_first_admin, config.admin_email, "Admin",
                                hash_password(password), config.default_max_chats, time.time())
    if created is None:
        return  # another node of the cluster created it meanwhile
    if not config.admin_password:
        record_generated_password(config.data_dir, config.admin_email, password)
    else:
        print(f"Created admin account {config.admin_email} (password from CHAT_ADMIN_PASSWORD)", flush=True)
