"""The Tickets view (/console/tickets): Unassigned / Mine / All, filtered by lifecycle (docs/console.md). Claiming
is a form post calling the same operation as the socket's `claim`; answering happens in the console."""
from __future__ import annotations

from aiohttp import web

from .. import keys
from ..auth import check_csrf, require_agent
from ..desk import assignment, lifecycle, ticket_notices
from ..errors import ChatError, CsrfFailed, InvalidPayload
from .public import render


def _filters(request: web.Request) -> tuple[str, str | None]:
    return request.query.get("view", "unassigned"), request.query.get("state") or None


async def tickets_page(request: web.Request, error: str | None = None, status: int = 200) -> web.Response:
    agent = await require_agent(request)
    view, state = _filters(request)
    try:
        found = await lifecycle.tickets(request.app[keys.DESK], agent, view, state)
    except InvalidPayload as exc:
        view, state, found, error, status = "unassigned", None, [], exc.message, 400
    response = render(request, "tickets.html", status=status, agent=agent, section="tickets", view=view,
                      state=state, tickets=found, error=error,
                      ticket_emails=await ticket_notices.opted_in(request.app[keys.DESK], agent))
    response.headers["Cache-Control"] = "no-store"
    return response


async def tickets_json(request: web.Request) -> web.Response:
    """GET /api/console/tickets?view=unassigned|mine|all&state=open|pending|snoozed|resolved"""
    agent = await require_agent(request)
    view, state = _filters(request)
    found = await lifecycle.tickets(request.app[keys.DESK], agent, view, state)
    return web.json_response({"ok": True, "view": view, "state": state, "tickets": found},
                             headers={"Cache-Control": "no-store"})


async def claim_form(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    form = await request.post()
    try:
        await check_csrf(request, form)
        conversation_id = int(request.match_info["conversation_id"])
        await assignment.claim(request.app[keys.DESK], agent, conversation_id)
    except CsrfFailed:
        raise
    except ValueError:
        raise web.HTTPNotFound(text="No such ticket") from None
    except ChatError as exc:
        return await tickets_page(request, error=f"Could not claim it: {exc.message}", status=exc.http_status)
    raise web.HTTPSeeOther("/console")


async def notices_form(request: web.Request) -> web.Response:
    """POST /console/tickets/emails: opt in (`ticket_emails=on`) or out of an email about each new ticket."""
    agent = await require_agent(request)
    form = await request.post()
    await check_csrf(request, form)
    await ticket_notices.set_opt_in(request.app[keys.DESK], agent, form.get("ticket_emails") == "on")
    raise web.HTTPSeeOther("/console/tickets")


def setup(app: web.Application) -> None:
    app.router.add_get("/console/tickets", tickets_page)
    app.router.add_get("/api/console/tickets", tickets_json)
    app.router.add_post("/console/tickets/{conversation_id}/claim", claim_form)
    app.router.add_post("/console/tickets/emails", notices_form)
