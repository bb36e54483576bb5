"""Refuse state-changing requests that another site's page makes a browser send (CSRF, login CSRF included).

Browsers say where a request comes from: `Sec-Fetch-Site` (every current browser) and `Origin` (on every POST).
A POST, PUT, PATCH or DELETE is refused with 403 `cross_site_request` when either names another site
(`Sec-Fetch-Site` other than `same-origin` or `none`, or an `Origin` that is not this server's). Requests without
either header are not from a browser page (API clients, scripts) and pass; forms still need their CSRF token.
Engine.IO's long-polling POSTs under /socket.io/ are exempt: the widget sends them from the shop's pages, and
Engine.IO checks their origin against the allowed origins itself; so are the widget's uploads (/widget/attachments),
authenticated by the visitor's token in a header and admitted by CORS for the allowed origins only.
"""
from __future__ import annotations

from aiohttp import web

from .. import keys
from .origins import is_own_origin

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# /widget/attachments: the widget's uploads come from the shop's pages too; they carry the visitor's token (a
# header no browser adds on its own) and CORS admits only the allowed origins (views/attachments.py).
EXEMPT_PREFIXES = ("/socket.io/", "/widget/attachments")
SAME_SITE_FETCHES = frozenset({"same-origin", "none"})


def is_cross_site(request: web.Request) -> bool:
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site.strip().lower() not in SAME_SITE_FETCHES:
        return True
    origin = request.headers.get("Origin")
    return origin is not None and not is_own_origin(origin, request.app[keys.CONFIG], request.host)


@web.middleware
async def refuse_cross_site(request: web.Request, handler):
    if request.method not in SAFE_METHODS and not request.path.startswith(EXEMPT_PREFIXES) and is_cross_site(request):
        return web.json_response({"ok": False, "error": "cross_site_request",
                                  "message": "this request came from another site's page and was refused"},
                                 status=403)
    return await handler(request)


def setup(app: web.Application) -> None:
    app.middlewares.append(refuse_cross_site)
