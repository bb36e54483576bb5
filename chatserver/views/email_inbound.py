"""POST /api/email/inbound: replies by email from an inbound-mail service (docs/email.md). The body is the raw
email (RFC 5322); `X-Chat-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>." + body>` under
CHAT_EMAIL_INBOUND_SECRET, at most 5 minutes old; the envelope recipients may be named in `X-Chat-Recipients`
(comma-separated) and the envelope sender in `X-Chat-Sender`. Refusals are 4xx with a documented code, logged."""
from __future__ import annotations

import hashlib
import hmac
import logging
import time

from aiohttp import web

from .. import keys
from ..desk import email_in
from ..errors import ChatError, NotFound, TooLarge, Unauthorized
from ..mail.inbound import MAX_EMAIL_BYTES

log = logging.getLogger(__name__)
MAX_AGE_SECONDS = 300


def _check_signature(secret: str, header: str, body: bytes, now: float) -> None:
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        signed_at = int(fields.get("t", ""))
    except ValueError:
        raise Unauthorized("X-Chat-Signature needs t=<unix time>,v1=<hex>", code="invalid_signature") from None
    expected = hmac.new(secret.encode(), f"{signed_at}.".encode() + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(fields.get("v1", ""), expected):
        raise Unauthorized("the signature does not match", code="invalid_signature")
    if abs(now - signed_at) > MAX_AGE_SECONDS:
        raise Unauthorized("the signature is older than 5 minutes", code="invalid_signature")


async def inbound_email(request: web.Request) -> web.Response:
    config = request.app[keys.CONFIG]
    try:
        if not config.email_inbound_secret:
            raise NotFound("the inbound email endpoint is off (CHAT_EMAIL_INBOUND_SECRET)", code="email_inbound_off")
        if (request.content_length or 0) > MAX_EMAIL_BYTES:
            raise TooLarge(f"the email is larger than {MAX_EMAIL_BYTES // 1024} KB")
        body = await request.content.read(MAX_EMAIL_BYTES + 1)
        if len(body) > MAX_EMAIL_BYTES:
            raise TooLarge(f"the email is larger than {MAX_EMAIL_BYTES // 1024} KB")
        _check_signature(config.email_inbound_secret, request.headers.get("X-Chat-Signature", ""), body, time.time())
        recipients = [r.strip() for r in request.headers.get("X-Chat-Recipients", "").split(",") if r.strip()]
        result = await email_in.receive_email(request.app[keys.DESK], body, request.headers.get("X-Chat-Sender"),
                                              recipients)
    except ChatError as exc:
        log.info("inbound email refused (%s): %s", exc.code, exc.message)
        raise
    return web.json_response(result, status=202)


def setup(app: web.Application) -> None:
    app.router.add_post("/api/email/inbound", inbound_email)
