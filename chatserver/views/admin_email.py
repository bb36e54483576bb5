"""Admin → Settings → Email: the SMTP server and From address (stored like every site setting, the password
shown masked), "Send a test email", and the outbox (each email's state, last error and next retry, "Retry now").
The operations are chatserver/desk/outbox.py and desk/settings.py; the JSON API is under /api/admin/email."""
from __future__ import annotations

from aiohttp import web

from .. import keys, validation
from ..desk import outbox
from ..desk import settings as settings_ops
from ..errors import ChatError, InvalidFields, NotFound
from ..mail.smtp_url import masked
from .admin_common import admin_form, admin_json, require_admin
from .admin_settings import page

REDIRECT = "/admin/settings?done={}#email"


def _kept_password(request: web.Request, typed: str) -> str:
    """The form shows the stored URL with its password masked: sent back unchanged, it keeps the stored one."""
    current = request.app[keys.SETTINGS].get("smtp_url")
    return current if current and typed == masked(current) else typed


async def save_email_form(request: web.Request) -> web.Response:
    _, form = await admin_form(request)
    changes = {"smtp_url": _kept_password(request, form.get("smtp_url", "").strip()),
               "email_from": form.get("email_from", "")}
    try:
        await settings_ops.update_settings(request.app[keys.DESK], changes)
    except InvalidFields as exc:
        errors = {name: message.split(": ", 1)[-1].replace(f"'{name}' ", "", 1)
                  for name, message in exc.errors.items()}
        return await page(request, status=400, values={**changes, "smtp_url": form.get("smtp_url", "")},
                          errors=errors)
    raise web.HTTPSeeOther(REDIRECT.format("email_saved"))


async def test_email_form(request: web.Request) -> web.Response:
    admin, form = await admin_form(request)
    try:
        recipient = validation.email({"to": form.get("to", "")}, "to")
        await outbox.queue_test_email(request.app[keys.DESK], admin, recipient)
    except ChatError as exc:
        return await page(request, status=exc.http_status, errors={"to": exc.message},
                          test_to=form.get("to", ""))
    raise web.HTTPSeeOther(REDIRECT.format("test_queued"))


def _email_id(request: web.Request) -> int:
    try:
        return int(request.match_info["email_id"])
    except ValueError:
        raise NotFound("no such email", code="email_not_found") from None


async def retry_form(request: web.Request) -> web.Response:
    await admin_form(request)
    try:
        await outbox.retry_now(request.app[keys.DESK], _email_id(request))
    except NotFound:
        raise web.HTTPNotFound(text="No such email") from None
    raise web.HTTPSeeOther(REDIRECT.format("retry_queued"))


async def email_status(request: web.Request) -> web.Response:
    await require_admin(request)
    return web.json_response({"ok": True, **await outbox.status(request.app[keys.DESK])})


async def send_test(request: web.Request) -> web.Response:
    admin, body = await admin_json(request)
    recipient = validation.email(body, "to")
    email = await outbox.queue_test_email(request.app[keys.DESK], admin, recipient)
    return web.json_response({"ok": True, "email": email}, status=202)


async def retry(request: web.Request) -> web.Response:
    await admin_json(request)
    return web.json_response({"ok": True, "email": await outbox.retry_now(request.app[keys.DESK], _email_id(request))})


def setup(app: web.Application) -> None:
    app.router.add_post("/admin/settings/email", save_email_form)
    app.router.add_post("/admin/settings/email/test", test_email_form)
    app.router.add_post("/admin/settings/email/{email_id}/retry", retry_form)
    app.router.add_get("/api/admin/email", email_status)
    app.router.add_post("/api/admin/email/test", send_test)
    app.router.add_post("/api/admin/email/{email_id}/retry", retry)
