"""Attachments over HTTP (the socket carries no files: its frames stop at 64 KB). Visitors upload and read with
their visitor token as a bearer token, from the sites allowed to embed the widget (CORS); agents with their login
(cookie and CSRF header in the console, or a bearer token). Files are served with their real type, as a
download unless an image, under `X-Content-Type-Options: nosniff` and a CSP that runs nothing."""
from __future__ import annotations

from urllib.parse import quote, unquote

from aiohttp import web

from .. import keys, validation
from ..auth import check_csrf, require_agent
from ..desk import attachments as attachment_ops
from ..errors import ChatError, InvalidAttachment, InvalidPayload, Unauthorized
from ..security.origins import origin_checker
from .errors import error_response

FILE_CSP = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'"
MAX_ID = 2**53
CORS_HEADERS = "Authorization, Content-Type, X-Client-Id, X-File-Name"


def _cors(request: web.Request) -> dict:
    """CORS headers for the widget's site, when it may embed the widget (none otherwise: the browser then refuses)."""
    origin = request.headers.get("Origin")
    headers = {"Vary": "Origin"}
    if origin and origin_checker(request.app[keys.SETTINGS])(origin, {"HTTP_HOST": request.host}):
        headers.update({"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Headers": CORS_HEADERS,
                        "Access-Control-Allow-Methods": "GET, POST", "Access-Control-Max-Age": "600"})
    return headers


def _visitor_id(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.startswith("Bearer ") else None
    visitor_id = request.app[keys.DESK].secret.visitor_id_from_token(token)
    if visitor_id is None:
        raise Unauthorized("send the widget's visitor token")
    return visitor_id


def _attachment_id(request: web.Request) -> int:
    try:
        value = int(request.match_info["attachment_id"])
    except ValueError:
        raise InvalidPayload("the attachment id must be a number") from None
    if not 1 <= value <= MAX_ID:
        raise InvalidPayload("the attachment id must be a number")
    return value


async def _body(request: web.Request) -> bytes:
    """The raw request body, refused as soon as it is longer than the limit (never read whole into memory first)."""
    limit = request.app[keys.CONFIG].attachment_max_bytes
    if request.content_length is not None and request.content_length > limit:
        raise InvalidAttachment(f"the file is larger than {limit // 1024} KB", code="attachment_too_large")
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise InvalidAttachment(f"the file is larger than {limit // 1024} KB", code="attachment_too_large")
        chunks.append(chunk)
    return b"".join(chunks)


def _upload_fields(request: web.Request) -> tuple[str, str | None]:
    client_id = validation.client_id({"client_id": request.headers.get("X-Client-Id")})
    raw_name = request.headers.get("X-File-Name")
    return client_id, unquote(raw_name)[:500] if raw_name else None


def _file_response(attachment: dict, data: bytes, thumbnail: bool, extra: dict) -> web.Response:
    content_type = "image/png" if thumbnail else attachment["content_type"]
    disposition = "inline" if content_type.startswith("image/") else "attachment"
    name = attachment["filename"]
    ascii_name = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name)
    headers = {"Content-Disposition": f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}",
               "X-Content-Type-Options": "nosniff", "Content-Security-Policy": FILE_CSP,
               "Cache-Control": "private, max-age=3600", "X-Frame-Options": "DENY",
               "Referrer-Policy": "no-referrer", **extra}
    return web.Response(body=data, content_type=content_type, headers=headers)


# -- visitors (the widget, from the shop's site) ----------------------------------------------------------------

async def visitor_preflight(request: web.Request) -> web.Response:
    return web.Response(status=204, headers=_cors(request))


async def visitor_upload(request: web.Request) -> web.Response:
    """POST /widget/attachments: the raw file as the body; X-Client-Id (as for messages), X-File-Name (URL-encoded)."""
    cors = _cors(request)
    try:
        visitor_id = _visitor_id(request)
        client_id, filename = _upload_fields(request)
        data = await _body(request)
        ack = await attachment_ops.upload_from_visitor(request.app[keys.DESK], {"visitor_id": visitor_id},
                                                       client_id, filename, data)
    except ChatError as exc:
        return error_response(exc, headers={**cors, "Cache-Control": "no-store"})
    return web.json_response(ack, status=200 if ack["duplicate"] else 201, headers={**cors, "Cache-Control": "no-store"})


async def visitor_file(request: web.Request) -> web.Response:
    """GET /widget/attachments/{id} (and /thumbnail): a file of one of the visitor's own conversations."""
    cors = _cors(request)
    try:
        visitor_id = _visitor_id(request)
        attachment, data = await attachment_ops.file_for_visitor(
            request.app[keys.DESK], visitor_id, _attachment_id(request), request.path.endswith("/thumbnail"))
    except ChatError as exc:
        return error_response(exc, headers={**cors, "Cache-Control": "no-store"})
    return _file_response(attachment, data, request.path.endswith("/thumbnail"),
                          {**cors, "Cross-Origin-Resource-Policy": "cross-origin"})


# -- agents (the console, same origin) ----------------------------------------------------------------------------

async def agent_upload(request: web.Request) -> web.Response:
    """POST /api/console/conversations/{conversation_id}/attachments: a reply with a file, in a chat you hold."""
    agent = await require_agent(request)
    await check_csrf(request)
    try:
        conversation_id = int(request.match_info["conversation_id"])
    except ValueError:
        raise InvalidPayload("the conversation id must be a number") from None
    client_id, filename = _upload_fields(request)
    data = await _body(request)
    ack = await attachment_ops.upload_from_agent(request.app[keys.DESK], agent, conversation_id, client_id,
                                                 filename, data)
    return web.json_response(ack, status=200 if ack["duplicate"] else 201, headers={"Cache-Control": "no-store"})


async def agent_file(request: web.Request) -> web.Response:
    """GET /attachments/{id} (and /thumbnail): a file of a conversation you may read."""
    agent = await require_agent(request)
    attachment, data = await attachment_ops.file_for_agent(request.app[keys.DESK], agent, _attachment_id(request),
                                                           request.path.endswith("/thumbnail"))
    return _file_response(attachment, data, request.path.endswith("/thumbnail"),
                          {"Cross-Origin-Resource-Policy": "same-origin"})


def setup(app: web.Application) -> None:
    app.router.add_route("OPTIONS", "/widget/attachments", visitor_preflight)
    app.router.add_post("/widget/attachments", visitor_upload)
    for suffix in ("", "/thumbnail"):
        app.router.add_route("OPTIONS", "/widget/attachments/{attachment_id}" + suffix, visitor_preflight)
        app.router.add_get("/widget/attachments/{attachment_id}" + suffix, visitor_file)
        app.router.add_get("/attachments/{attachment_id}" + suffix, agent_file)
    app.router.add_post("/api/console/conversations/{conversation_id}/attachments", agent_upload)
