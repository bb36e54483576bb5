"""Admin → Privacy: find a visitor (by visitor id, email or the site's customer id), download everything kept about
them as JSON, or erase it (docs/privacy.md). The operations are chatserver/desk/privacy.py."""
from __future__ import annotations

from aiohttp import web

from .. import keys
from ..desk import privacy
from ..store import privacy as privacy_queries
from ..store import visitors as visitor_queries
from .admin_common import actor, admin_form, admin_page, require_admin


async def privacy_page(request: web.Request) -> web.Response:
    await require_admin(request)
    query = request.query.get("q", "").strip()[:320]
    found = await request.app[keys.STORE].read(visitor_queries.find_visitors, query) if query else []
    return admin_page(request, "admin_privacy.html", section="privacy", query=query, found=found,
                      notice=request.query.get("done"), erased_id=request.query.get("visitor", "")[:64],
                      parts=[p.name for p in privacy_queries.PARTS],
                      retention_days=request.app[keys.SETTINGS].get("retention_days"),
                      attachment_retention_days=request.app[keys.SETTINGS].get("attachment_retention_days"))


async def export_download(request: web.Request) -> web.Response:
    admin = await require_admin(request)
    visitor_id = request.match_info["visitor_id"]
    exported = await privacy.export_visitor(request.app[keys.DESK], visitor_id, actor(request, admin))
    return web.Response(text=privacy_queries.dumps(exported), content_type="application/json", headers={
        "Content-Disposition": f'attachment; filename="visitor-{visitor_id}.json"', "Cache-Control": "no-store"})


async def erase_form(request: web.Request) -> web.Response:
    admin, form = await admin_form(request)
    visitor_id = request.match_info["visitor_id"]
    await privacy.erase_visitor(request.app[keys.DESK], visitor_id, actor(request, admin))
    raise web.HTTPSeeOther(f"/admin/privacy?done=erased&visitor={visitor_id}")


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/privacy", privacy_page)
    app.router.add_get("/admin/privacy/{visitor_id}/export.json", export_download)
    app.router.add_post("/admin/privacy/{visitor_id}/erase", erase_form)
