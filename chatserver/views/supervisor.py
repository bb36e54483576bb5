"""The live supervisor view: the /supervisor page for admins and supervisors (the live part runs in
static/supervisor.js over the /agent socket, which sends it `supervisor` events; docs/console.md)."""
from __future__ import annotations

from aiohttp import web

from .. import keys
from ..auth import require_agent
from .public import render


async def supervisor_page(request: web.Request) -> web.Response:
    agent = await require_agent(request, supervisor=True)
    response = render(request, "supervisor.html", agent=agent, section="supervisor",
                      sla_seconds=request.app[keys.CONFIG].sla_seconds)
    response.headers["Cache-Control"] = "no-store"
    return response


def setup(app: web.Application) -> None:
    app.router.add_get("/supervisor", supervisor_page)
