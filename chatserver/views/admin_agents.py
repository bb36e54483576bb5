"""Admin → Agents: the pages to create (invite) agents, change role, capacity and departments, disable, reset a
password. The operations are chatserver/desk/agents.py (the JSON API, admin_api.py, calls the same ones)."""
from __future__ import annotations

from datetime import datetime, timezone

from aiohttp import web

from .. import keys
from ..desk import account_emails, agents as agent_ops
from ..desk.presence import presence_of
from ..errors import Conflict, InvalidFields
from ..store import agents as agent_queries
from .admin_common import actor, admin_form, admin_page, require_admin


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
    rows = await agent_ops.with_presence(app[keys.DESK], agents)
    context.setdefault("new", {"role": "agent", "max_chats": app[keys.CONFIG].default_max_chats, "departments": []})
    return admin_page(request, "admin_agents.html", status=status, section="agents", agents=rows,
                      departments=agent_ops.known_departments(app[keys.DESK], agents), errors=context.pop("errors", {}),
                      notice=request.query.get("done"), email_on=account_emails.email_on(app[keys.DESK]), **context)


async def agents_page(request: web.Request) -> web.Response:
    await require_admin(request)
    return await _list_page(request)


async def create_agent_form(request: web.Request) -> web.Response:
    admin, form = await admin_form(request)
    fields = _form_fields(form, with_identity=True)
    try:
        agent, generated, invitation = await agent_ops.create_agent(request.app[keys.DESK], fields,
                                                                    actor(request, admin), admin)
    except InvalidFields as exc:
        return await _list_page(request, status=400, errors=exc.errors, new=fields)
    except Conflict as exc:
        return await _list_page(request, status=409, errors={"email": exc.message}, new=fields)
    return await _list_page(request, created=agent, password=generated, invitation=invitation)


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
                      live=await presence_of(request.app[keys.DESK], agent),
                      departments=agent_ops.known_departments(request.app[keys.DESK], agents),
                      errors=context.pop("errors", {}), **context)


async def agent_page(request: web.Request) -> web.Response:
    await require_admin(request)
    return await _edit_page(request, await _agent_or_404(request))


async def update_agent_form(request: web.Request) -> web.Response:
    admin, form = await admin_form(request)
    agent = await _agent_or_404(request)
    fields = _form_fields(form, with_identity=False)
    try:
        await agent_ops.update_agent(request.app[keys.DESK], admin, agent["id"], fields, actor(request, admin))
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
        await agent_ops.update_agent(request.app[keys.DESK], admin, agent["id"], {"disabled": form.get("disabled") == "true"},
                                     actor(request, admin))
    except Conflict as exc:
        return await _list_page(request, status=409, errors={"list": exc.message})
    raise web.HTTPSeeOther("/admin/agents?done=" + ("disabled" if form.get("disabled") == "true" else "enabled"))


async def reset_password_form(request: web.Request) -> web.Response:
    admin, _ = await admin_form(request)
    agent = await _agent_or_404(request)
    agent, password = await agent_ops.reset_password(request.app[keys.DESK], agent["id"], actor(request, admin))
    return await _edit_page(request, agent, password=password)


async def reset_link_form(request: web.Request) -> web.Response:
    """A reset link for the agent, shown once, to hand to them; they choose their new password with it."""
    await admin_form(request)
    agent = await _agent_or_404(request)
    token = await agent_ops.issue_reset_link(request.app[keys.DESK], agent["id"])
    link = f"{request.app[keys.CONFIG].base_url}/account/reset/{token}"
    return await _edit_page(request, agent, reset_link=link)


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/agents", agents_page)
    app.router.add_post("/admin/agents", create_agent_form)
    app.router.add_get("/admin/agents/{agent_id}", agent_page)
    app.router.add_post("/admin/agents/{agent_id}", update_agent_form)
    app.router.add_post("/admin/agents/{agent_id}/disabled", toggle_agent_form)
    app.router.add_post("/admin/agents/{agent_id}/password", reset_password_form)
    app.router.add_post("/admin/agents/{agent_id}/reset-link", reset_link_form)
