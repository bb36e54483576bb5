"""HTTP's one error shape: every domain error (chatserver/errors.py) raised by a view becomes
`{"ok": false, "error": code, "message": ...}` with the error's HTTP status, here and nowhere else. Pages that show
errors inline (forms) catch them before they get here."""
from __future__ import annotations

from aiohttp import web

from ..errors import ChatError


def error_response(exc: ChatError, headers: dict | None = None) -> web.Response:
    return web.json_response(exc.ack(), status=exc.http_status, headers=headers)


@web.middleware
async def domain_errors(request: web.Request, handler):
    try:
        return await handler(request)
    except ChatError as exc:
        return error_response(exc, headers={"Cache-Control": "no-store"})
