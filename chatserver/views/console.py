"""The agent console: the /console page (the live part runs in static/console*.js over the /agent socket) and the
read-only JSON it needs that the socket does not give: the canned replies and the agents to transfer a chat to."""
from __future__ import annotations

from aiohttp import web

from .. import keys
from ..auth import require_agent
from ..desk.presence import presence_of
from ..store import agents as agent_queries
from ..store import labels as label_queries
from ..store import settings as settings_queries
from .public import render


async def console_page(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    response = render(request, "console.html", agent=agent, section="console",
                      max_message_chars=request.app[keys.CONFIG].max_message_chars)
    # The page shows live conversations: never keep it in a shared or back-forward cache.
    response.headers["Cache-Control"] = "no-store"
    return response


async def canned_replies(request: web.Request) -> web.Response:
    """GET /api/console/canned-replies: every canned reply, by shortcut (admins edit them in Admin → Settings)."""
    await require_agent(request)
    replies = await request.app[keys.STORE].read(settings_queries.canned_replies)
    return web.json_response({"ok": True, "canned_replies": replies}, headers={"Cache-Control": "no-store"})


async def agents(request: web.Request) -> web.Response:
    """GET /api/console/agents: the active agents with their live presence and load, for transfers."""
    me = await require_agent(request)
    desk = request.app[keys.DESK]
    listed = []
    for agent in await request.app[keys.STORE].read(agent_queries.list_agents):
        if agent["disabled"]:
            continue
        listed.append({"id": agent["id"], "name": agent["name"], **await presence_of(desk, agent),
                       "departments": agent["departments"], "me": agent["id"] == me["id"]})
    return web.json_response({"ok": True, "agents": listed}, headers={"Cache-Control": "no-store"})


async def labels(request: web.Request) -> web.Response:
    """GET /api/console/labels: the label list agents tag conversations with (admins keep it in Admin → Settings)."""
    await require_agent(request)
    found = await request.app[keys.STORE].read(label_queries.all_labels)
    return web.json_response({"ok": True, "labels": found}, headers={"Cache-Control": "no-store"})


def setup(app: web.Application) -> None:
    app.router.add_get("/console", console_page)
    app.router.add_get("/api/console/canned-replies", canned_replies)
    app.router.add_get("/api/console/agents", agents)
    app.router.add_get("/api/console/labels", labels)
