"""The admin operations as JSON under /api/admin/ (scripts with a bearer token, or fetch with X-CSRF-Token).
Same validation and effects as the pages; errors are the documented codes (docs/admin.md)."""
from __future__ import annotations

from aiohttp import web

from .. import keys
from ..errors import InvalidPayload, NotFound
from ..store import agents as agent_queries
from ..store import settings as settings_queries
from ..desk import agents as agent_ops
from ..desk import labels as label_ops
from ..desk import settings as settings_ops
from .admin_common import actor, admin_json, require_admin


def _agent_id(request: web.Request) -> int:
    try:
        return int(request.match_info["agent_id"])
    except ValueError:
        raise NotFound("no such agent", code="agent_not_found") from None


async def list_agents(request: web.Request) -> web.Response:
    await require_admin(request)
    agents = await request.app[keys.STORE].read(agent_queries.list_agents)
    return web.json_response({"ok": True, "agents": await agent_ops.with_presence(request.app[keys.DESK], agents)})


async def create_agent(request: web.Request) -> web.Response:
    admin, payload = await admin_json(request)
    agent, generated, invitation = await agent_ops.create_agent(request.app[keys.DESK], payload,
                                                                actor(request, admin), admin)
    answer = {"ok": True, "agent": agent}
    if generated:
        answer["password"] = generated
    if invitation:
        answer["invitation"] = {"message_id": invitation["message_id"], "recipient": invitation["recipient"]}
    return web.json_response(answer, status=201, headers={"Cache-Control": "no-store"})


async def update_agent(request: web.Request) -> web.Response:
    admin, payload = await admin_json(request)
    agent = await agent_ops.update_agent(request.app[keys.DESK], admin, _agent_id(request), payload,
                                         actor(request, admin))
    return web.json_response({"ok": True, "agent": agent})


async def get_settings(request: web.Request) -> web.Response:
    await require_admin(request)
    return web.json_response({"ok": True, "settings": request.app[keys.SETTINGS].all()})


async def update_settings(request: web.Request) -> web.Response:
    admin, payload = await admin_json(request)
    settings = await settings_ops.update_settings(request.app[keys.DESK], payload, actor(request, admin))
    return web.json_response({"ok": True, "settings": settings})


async def list_replies(request: web.Request) -> web.Response:
    await require_admin(request)
    replies = await request.app[keys.STORE].read(settings_queries.canned_replies)
    return web.json_response({"ok": True, "canned_replies": replies})


async def add_reply(request: web.Request) -> web.Response:
    admin, payload = await admin_json(request)
    reply = await settings_ops.add_canned_reply(request.app[keys.DESK], payload, actor(request, admin))
    return web.json_response({"ok": True, "canned_reply": reply}, status=201)


async def delete_reply(request: web.Request) -> web.Response:
    admin, _ = await admin_json(request)
    try:
        reply_id = int(request.match_info["reply_id"])
    except ValueError:
        raise InvalidPayload("the canned reply id must be a number") from None
    await settings_ops.delete_canned_reply(request.app[keys.DESK], reply_id, actor(request, admin))
    return web.json_response({"ok": True})


async def list_labels(request: web.Request) -> web.Response:
    await require_admin(request)
    return web.json_response({"ok": True, "labels": await label_ops.list_labels(request.app[keys.DESK])})


async def add_label(request: web.Request) -> web.Response:
    _, payload = await admin_json(request)
    label = await label_ops.create_label(request.app[keys.DESK], payload)
    return web.json_response({"ok": True, "label": label}, status=201)


async def delete_label(request: web.Request) -> web.Response:
    await admin_json(request)
    try:
        label_id = int(request.match_info["label_id"])
    except ValueError:
        raise InvalidPayload("the label id must be a number") from None
    await label_ops.delete_label(request.app[keys.DESK], label_id)
    return web.json_response({"ok": True})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/admin/agents", list_agents)
    app.router.add_post("/api/admin/agents", create_agent)
    app.router.add_patch("/api/admin/agents/{agent_id}", update_agent)
    app.router.add_get("/api/admin/settings", get_settings)
    app.router.add_patch("/api/admin/settings", update_settings)
    app.router.add_get("/api/admin/canned-replies", list_replies)
    app.router.add_post("/api/admin/canned-replies", add_reply)
    app.router.add_delete("/api/admin/canned-replies/{reply_id}", delete_reply)
    app.router.add_get("/api/admin/labels", list_labels)
    app.router.add_post("/api/admin/labels", add_label)
    app.router.add_delete("/api/admin/labels/{label_id}", delete_label)
