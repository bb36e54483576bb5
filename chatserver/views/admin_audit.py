"""Admin → Audit log: every admin action, newest first, filtered by who, which action and which days; a page at a
time. Read-only: nothing in the server changes or deletes an entry (chatserver/desk/audit.py)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from urllib.parse import urlencode

from aiohttp import web

from .. import keys
from ..desk import audit
from ..errors import InvalidPayload
from ..store import agents as agent_queries
from ..store import audit as audit_queries
from .admin_common import admin_page, require_admin


def _day(raw: str, name: str, after: bool = False) -> str | None:
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise InvalidPayload(f"'{name}' must be a date like 2025-01-31") from None
    if after:
        day += timedelta(days=1)
    return str(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp())


async def audit_page(request: web.Request) -> web.Response:
    await require_admin(request)
    shown = {k: request.query.get(k, "")[:64] for k in ("actor", "action", "from", "to", "cursor")}
    store = request.app[keys.STORE]
    error, result = None, {"entries": [], "next_cursor": None}
    try:
        filters = audit.clean_filters({"actor": shown["actor"], "action": shown["action"], "cursor": shown["cursor"],
                                       "since": _day(shown["from"], "from"), "until": _day(shown["to"], "to", True)})
        result = await audit.read_log(request.app[keys.DESK], filters)
    except InvalidPayload as exc:
        error = exc.message
    next_query = None
    if result["next_cursor"]:
        next_query = urlencode({**{k: v for k, v in shown.items() if v and k != "cursor"},
                                "cursor": result["next_cursor"]})
    return admin_page(request, "admin_audit.html", status=400 if error else 200, section="audit", error=error,
                      entries=result["entries"], next_query=next_query, filters=shown,
                      agents=await store.read(agent_queries.list_agents), actions=await store.read(audit_queries.actions))


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/audit", audit_page)
