"""Admin → API tokens: make a named, scoped token (its secret shown once), see when each was last used, revoke one.
The operations are chatserver/desk/api_tokens.py; the API they open is views/api_v1.py (docs/api.md)."""
from __future__ import annotations

from aiohttp import web

from .. import keys
from ..desk import api_tokens
from ..errors import InvalidFields, NotFound
from ..store import api_tokens as token_queries
from .admin_common import actor, admin_form, admin_page, require_admin


async def _page(request: web.Request, status: int = 200, **context) -> web.Response:
    tokens = await request.app[keys.STORE].read(token_queries.list_tokens)
    context.setdefault("new", {"name": "", "scope": "read"})
    return admin_page(request, "admin_tokens.html", status=status, section="tokens", tokens=tokens,
                      errors=context.pop("errors", {}), notice=request.query.get("done"), **context)


async def tokens_page(request: web.Request) -> web.Response:
    await require_admin(request)
    return await _page(request)


async def create_token_form(request: web.Request) -> web.Response:
    admin, form = await admin_form(request)
    fields = {"name": form.get("name", ""), "scope": form.get("scope", "")}
    try:
        token, secret = await api_tokens.create_token(request.app[keys.DESK], admin, fields, actor(request, admin))
    except InvalidFields as exc:
        return await _page(request, status=400, errors=exc.errors, new=fields)
    return await _page(request, created=token, secret=secret)


async def revoke_token_form(request: web.Request) -> web.Response:
    admin, _ = await admin_form(request)
    try:
        token_id = api_tokens.parse_token_id(request.match_info["token_id"])
    except Exception:
        raise NotFound("no such API token", code="token_not_found") from None
    await api_tokens.revoke_token(request.app[keys.DESK], token_id, actor(request, admin))
    raise web.HTTPSeeOther("/admin/tokens?done=revoked")


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/tokens", tokens_page)
    app.router.add_post("/admin/tokens", create_token_form)
    app.router.add_post("/admin/tokens/{token_id}/revoke", revoke_token_form)
