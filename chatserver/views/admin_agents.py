"""Admin → Agents: create (invite) agents, change role, capacity and departments, disable, reset a password.

Disabling takes effect at once: the store deletes the agent's login sessions and the dispatcher disconnects their
sockets and sends their chats back to the queue. The same operations back the JSON API (admin_api.py).
"""
from __future__ import annotations

import asyncio
import re
import secrets
import time
from datetime import datetime, timezone

from aiohttp import web

from .. import keys, validation
from ..auth import hash_password
from ..errors import Conflict, InvalidPayload
from ..store import agents as agent_queries
from .admin_common import InvalidFields, admin_form, admin_page, collect_fields, require_admin

ROLES = {"agent", "admin"}
MAX_CHATS_LIMIT = 50
MIN_PASSWORD = 10
DEPARTMENT_RE = re.compile(r"^[\w][\w .&-]{0,39}$")
# Looser than validation.EMAIL_RE on purpose: logins like the default admin@localhost have no dot in the domain.
LOGIN_EMAIL_RE = re.compile(r"^[^@\s<>\"']{1,64}@[^@\s<>\"']{1,253}$")


# -- validation (JSON-typed values; the form handlers convert first) -----------------------------------------

def _email(fields: dict) -> str:
    value = fields.get("email")
    if not isinstance(value, str) or not LOGIN_EMAIL_RE.match(value.strip()):
        raise InvalidPayload("enter an email address like dana@example.com", code="invalid_email")
    return value.strip().lower()


def _name(fields: dict) -> str:
    return validation.text(fields, "name", 80)


def _max_chats(fields: dict) -> int:
    return validation.integer(fields, "max_chats", 1, MAX_CHATS_LIMIT)


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


# -- operations -------------------------------------------------------------------------------------------------

def generate_password() -> str:
    return secrets.token_urlsafe(12)


async def create_agent(app: web.Application, fields: dict) -> tuple[dict, str | None]:
    """Create an agent; returns (agent, generated password or None when the admin chose one)."""
    cleaned = clean_new_agent(fields)
    generated = None
    if cleaned["password"] is None:
        generated = cleaned["password"] = generate_password()
    password_hash = await asyncio.to_thread(hash_password, cleaned["password"])   # argon2: ~0.1 s of CPU
    agent = await app[keys.STORE].write(agent_queries.create_agent, cleaned["email"], cleaned["name"], password_hash,
                                        cleaned["role"], cleaned["max_chats"], cleaned["departments"], time.time())
    return agent, generated


async def update_agent(app: web.Application, admin: dict, agent_id: int, fields: dict) -> dict:
    """Change an agent and apply it live: new capacity and departments count for routing at once; disabling
    ends their sessions (store) and disconnects their sockets, their chats going back to the queue."""
    changes = clean_agent_changes(fields)
    if agent_id == admin["id"] and (changes.get("disabled") or changes.get("role", "admin") != "admin"):
        raise Conflict("you cannot disable your own account or remove your own admin role; ask another admin",
                       code="own_account")
    agent = await app[keys.STORE].write(agent_queries.update_agent, agent_id, **changes)
    await app[keys.DISPATCHER].refresh_agent(agent)
    return agent


async def reset_password(app: web.Application, agent_id: int) -> tuple[dict, str]:
    """A new generated password, shown once; every session of that agent is signed out."""
    password = generate_password()
    password_hash = await asyncio.to_thread(hash_password, password)
    store = app[keys.STORE]
    agent = await store.write(agent_queries.update_agent, agent_id, password_hash=password_hash)
    await store.write(agent_queries.delete_other_sessions, agent_id, None)
    return agent, password


def presence(app: web.Application, agent: dict) -> dict:
    """Live status for the list: online / away / offline, and open chats."""
    state = app[keys.DISPATCHER].agents.get(agent["id"])
    connected = bool(state and state.connected)
    return {"status": state.status if connected else "offline", "open_chats": state.open_chats if state else 0}


async def known_departments(app: web.Application, agents: list[dict]) -> list[str]:
    """Departments used by articles or agents, offered as checkboxes."""
    found = {a.department for a in list(app[keys.KB].articles.values()) if a.department}
    for agent in agents:
        found.update(agent["departments"])
    return sorted(found, key=str.lower)


# -- pages --------------------------------------------------------------------------------------------------

def _form_fields(form, with_identity: bool) -> dict:
    """Form strings to the typed values the validators expect."""
    chosen = form.getall("departments", []) + form.get("other_departments", "").split(",")
    fields: dict = {"name": form.get("name", ""), "role": form.get("role", ""),
                    "departments": [d.strip() for d in chosen if d.strip()]}
    raw = form.get("max_chats", "").strip()
    fields["max_chats"] = int(raw) if raw.isdigit() and len(raw) < 6 else raw
    if with_identity:
        fields["email"] = form.get("email", "")
        fields["password"] = form.get("password", "")
    else:
        fields["disabled"] = form.get("disabled") == "on"
    return fields


async def _list_page(request: web.Request, status: int = 200, **context) -> web.Response:
    app = request.app
    agents = await app[keys.STORE].read(agent_queries.list_agents)
    rows = [{**agent, **presence(app, agent)} for agent in agents]
    context.setdefault("new", {"role": "agent", "max_chats": app[keys.CONFIG].default_max_chats, "departments": []})
    return admin_page(request, "admin_agents.html", status=status, section="agents", agents=rows,
                      departments=await known_departments(app, agents), errors=context.pop("errors", {}),
                      notice=request.query.get("done"), **context)


async def agents_page(request: web.Request) -> web.Response:
    await require_admin(request)
    return await _list_page(request)


async def create_agent_form(request: web.Request) -> web.Response:
    admin, form = await admin_form(request)
    fields = _form_fields(form, with_identity=True)
    try:
        agent, generated = await create_agent(request.app, fields)
    except InvalidFields as exc:
        return await _list_page(request, status=400, errors=exc.errors, new=fields)
    except Conflict as exc:
        return await _list_page(request, status=409, errors={"email": exc.message}, new=fields)
    return await _list_page(request, created=agent, password=generated)


async def _agent_or_404(request: web.Request) -> dict:
    try:
        agent_id = int(request.match_info["agent_id"])
    except ValueError:
        raise web.HTTPNotFound(text="No such agent") from None
    agent = await request.app[keys.STORE].read(agent_queries.get_agent, agent_id)
    if agent is None:
        raise web.HTTPNotFound(text="No such agent")
    return agent


async def _edit_page(request: web.Request, agent: dict, status: int = 200, **context) -> web.Response:
    agents = await request.app[keys.STORE].read(agent_queries.list_agents)
    since = datetime.fromtimestamp(agent["created_at"], timezone.utc).strftime("%d %b %Y")
    return admin_page(request, "admin_agent.html", status=status, section="agents", edited=agent, since=since,
                      live=presence(request.app, agent), departments=await known_departments(request.app, agents),
                      errors=context.pop("errors", {}), **context)


async def agent_page(request: web.Request) -> web.Response:
    await require_admin(request)
    return await _edit_page(request, await _agent_or_404(request))


async def update_agent_form(request: web.Request) -> web.Response:
    admin, form = await admin_form(request)
    agent = await _agent_or_404(request)
    fields = _form_fields(form, with_identity=False)
    try:
        await update_agent(request.app, admin, agent["id"], fields)
    except InvalidFields as exc:
        return await _edit_page(request, {**agent, **fields}, status=400, errors=exc.errors)
    except Conflict as exc:
        return await _edit_page(request, {**agent, **fields}, status=409, errors={"form": exc.message})
    raise web.HTTPSeeOther("/admin/agents?done=saved")


async def toggle_agent_form(request: web.Request) -> web.Response:
    """The list's one-click Disable / Enable buttons."""
    admin, form = await admin_form(request)
    agent = await _agent_or_404(request)
    try:
        await update_agent(request.app, admin, agent["id"], {"disabled": form.get("disabled") == "true"})
    except Conflict as exc:
        return await _list_page(request, status=409, errors={"list": exc.message})
    raise web.HTTPSeeOther("/admin/agents?done=" + ("disabled" if form.get("disabled") == "true" else "enabled"))


async def reset_password_form(request: web.Request) -> web.Response:
    await admin_form(request)
    agent = await _agent_or_404(request)
    agent, password = await reset_password(request.app, agent["id"])
    return await _edit_page(request, agent, password=password)


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/agents", agents_page)
    app.router.add_post("/admin/agents", create_agent_form)
    app.router.add_get("/admin/agents/{agent_id}", agent_page)
    app.router.add_post("/admin/agents/{agent_id}", update_agent_form)
    app.router.add_post("/admin/agents/{agent_id}/disabled", toggle_agent_form)
    app.router.add_post("/admin/agents/{agent_id}/password", reset_password_form)
