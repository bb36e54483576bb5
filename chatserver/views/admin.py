"""The admin pages: agents, knowledge base, settings (reports live in reports.py), and their JSON API.

Admins only (others get 403, logged-out browsers go to /login); every POST/PATCH/DELETE checks the CSRF token;
pages are server-rendered with autoescaping and run only /static/admin.js under the strict CSP. See docs/admin.md.
"""
from __future__ import annotations

from aiohttp import web

from . import (admin_agents, admin_api, admin_audit, admin_kb, admin_privacy, admin_settings, admin_tokens,
               admin_webhooks)
from .admin_common import require_admin


async def admin_index(request: web.Request) -> web.Response:
    await require_admin(request)
    raise web.HTTPFound("/admin/agents")


def setup(app: web.Application) -> None:
    app.router.add_get("/admin", admin_index)
    admin_agents.setup(app)
    admin_kb.setup(app)
    admin_settings.setup(app)
    admin_api.setup(app)
    admin_tokens.setup(app)
    admin_audit.setup(app)
    admin_webhooks.setup(app)
    admin_privacy.setup(app)
