"""Admin → Webhooks: add an endpoint (URL, events, secret shown once), see each one's state (paused, and why),
resume or delete it, and read its delivery log (status codes, response excerpts, every attempt) with "Resend".
The operations are chatserver/desk/webhooks.py (docs/webhooks.md)."""
from __future__ import annotations

from aiohttp import web

from .. import keys
from ..desk import webhooks
from ..errors import InvalidFields, InvalidPayload, NotFound
from ..store import webhooks as webhook_queries
from .admin_common import actor, admin_form, admin_page, require_admin


async def _list(request: web.Request, status: int = 200, **context) -> web.Response:
    endpoints = await request.app[keys.STORE].read(webhook_queries.list_endpoints)
    context.setdefault("new", {"url": "", "events": [], "secret": ""})
    return admin_page(request, "admin_webhooks.html", status=status, section="webhooks", endpoints=endpoints,
                      events=webhook_queries.EVENTS, errors=context.pop("errors", {}),
                      notice=request.query.get("done"),
                      allow_private=request.app[keys.SETTINGS].get("webhooks_allow_private"), **context)


def _endpoint_id(request: web.Request) -> int:
    try:
        return webhooks.parse_id(request.match_info["endpoint_id"])
    except InvalidPayload:
        raise NotFound("no such webhook", code="webhook_not_found") from None


async def webhooks_page(request: web.Request) -> web.Response:
    await require_admin(request)
    return await _list(request)


async def add_webhook_form(request: web.Request) -> web.Response:
    admin, form = await admin_form(request)
    fields = {"url": form.get("url", ""), "events": form.getall("events", []), "secret": form.get("secret", "")}
    try:
        endpoint = await webhooks.add_endpoint(request.app[keys.DESK], fields, actor(request, admin))
    except InvalidFields as exc:
        return await _list(request, status=400, errors=exc.errors, new=fields)
    return await _list(request, created=endpoint)


async def webhook_page(request: web.Request) -> web.Response:
    await require_admin(request)
    store = request.app[keys.STORE]
    endpoint = await store.read(webhook_queries.get_endpoint, _endpoint_id(request))
    if endpoint is None:
        raise NotFound("no such webhook", code="webhook_not_found")
    return admin_page(request, "admin_webhook.html", section="webhooks", endpoint=endpoint,
                      deliveries=await store.read(webhook_queries.deliveries, endpoint["id"]),
                      notice=request.query.get("done"))


async def resume_form(request: web.Request) -> web.Response:
    admin, _ = await admin_form(request)
    endpoint_id = _endpoint_id(request)
    await webhooks.resume_endpoint(request.app[keys.DESK], endpoint_id, actor(request, admin))
    raise web.HTTPSeeOther(f"/admin/webhooks/{endpoint_id}?done=resumed")


async def delete_form(request: web.Request) -> web.Response:
    admin, _ = await admin_form(request)
    await webhooks.delete_endpoint(request.app[keys.DESK], _endpoint_id(request), actor(request, admin))
    raise web.HTTPSeeOther("/admin/webhooks?done=deleted")


async def resend_form(request: web.Request) -> web.Response:
    admin, _ = await admin_form(request)
    endpoint_id = _endpoint_id(request)
    try:
        delivery_id = webhooks.parse_id(request.match_info["delivery_id"])
    except InvalidPayload:
        raise NotFound("no such delivery", code="webhook_not_found") from None
    await webhooks.resend(request.app[keys.DESK], endpoint_id, delivery_id, actor(request, admin))
    raise web.HTTPSeeOther(f"/admin/webhooks/{endpoint_id}?done=resent")


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/webhooks", webhooks_page)
    app.router.add_post("/admin/webhooks", add_webhook_form)
    app.router.add_get("/admin/webhooks/{endpoint_id}", webhook_page)
    app.router.add_post("/admin/webhooks/{endpoint_id}/resume", resume_form)
    app.router.add_post("/admin/webhooks/{endpoint_id}/delete", delete_form)
    app.router.add_post("/admin/webhooks/{endpoint_id}/deliveries/{delivery_id}/resend", resend_form)
