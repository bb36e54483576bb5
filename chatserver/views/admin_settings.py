"""Admin → Settings: the site settings (widget greeting and colour, allowed origins, business hours, surveys) and
the canned replies agents insert in the console. Validation lives in site_settings.clean (one place for the page
and the JSON API)."""
from __future__ import annotations

import re
import time

from aiohttp import web

from .. import keys, validation
from ..errors import Conflict, InvalidPayload, NotFound
from ..site_settings import SETTINGS, clean
from ..store import settings as settings_queries
from .admin_common import InvalidFields, admin_form, admin_page, collect_fields, require_admin

SHORTCUT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
CANNED_TEXT_CHARS = 2000


# -- operations (shared with the JSON API) -----------------------------------------------------------------

async def update_settings(app: web.Application, changes: dict) -> dict:
    """Validate every change first (all field errors at once), then save them together."""
    cleaned = collect_fields({name: (lambda n=name: clean(n, changes[n])) for name in changes})
    return await app[keys.SETTINGS].update(cleaned)


def clean_canned_reply(fields: dict) -> dict:
    def shortcut():
        value = fields.get("shortcut")
        if not isinstance(value, str):
            raise InvalidPayload("'shortcut' must be a string")
        value = value.strip().lstrip("/").lower()
        if not SHORTCUT_RE.match(value):
            raise InvalidPayload("a shortcut is 1-32 lowercase letters, digits, '-' or '_' (typed as /shortcut)")
        return value

    return collect_fields({"shortcut": shortcut,
                           "text": lambda: validation.text(fields, "text", CANNED_TEXT_CHARS)})


async def add_canned_reply(app: web.Application, fields: dict) -> dict:
    reply = clean_canned_reply(fields)
    return await app[keys.STORE].write(settings_queries.add_canned_reply, reply["shortcut"], reply["text"], time.time())


async def delete_canned_reply(app: web.Application, reply_id: int) -> None:
    await app[keys.STORE].write(settings_queries.delete_canned_reply, reply_id)


# -- the page -----------------------------------------------------------------------------------------------

async def _page(request: web.Request, status: int = 200, values: dict | None = None, **context) -> web.Response:
    current = request.app[keys.SETTINGS].all()
    shown = {**current, **(values or {})}
    if isinstance(shown["allowed_origins"], list):
        shown["allowed_origins"] = "\n".join(shown["allowed_origins"])
    replies = await request.app[keys.STORE].read(settings_queries.canned_replies)
    return admin_page(request, "admin_settings.html", status=status, section="settings", settings=SETTINGS,
                      values=shown, replies=replies, errors=context.pop("errors", {}),
                      reply_errors=context.pop("reply_errors", {}), new_reply=context.pop("new_reply", {}),
                      notice=request.query.get("done"), **context)


async def settings_page(request: web.Request) -> web.Response:
    await require_admin(request)
    return await _page(request)


async def save_settings_form(request: web.Request) -> web.Response:
    _, form = await admin_form(request)
    changes = {}
    for setting in SETTINGS:
        if setting.kind == "bool":
            changes[setting.name] = form.get(setting.name) == "on"      # an unticked box is not sent
        elif setting.kind == "origins":
            changes[setting.name] = ",".join(form.get(setting.name, "").split())
        else:
            changes[setting.name] = form.get(setting.name, "")
    try:
        await update_settings(request.app, changes)
    except InvalidFields as exc:
        # Shown under the field itself, so "'widget_colour' must be ..." reads "must be ...".
        errors = {name: message.replace(f"'{name}' ", "", 1).capitalize() if message.startswith(f"'{name}' ")
                  else message for name, message in exc.errors.items()}
        return await _page(request, status=400, values=changes, errors=errors)
    raise web.HTTPSeeOther("/admin/settings?done=saved")


async def add_reply_form(request: web.Request) -> web.Response:
    _, form = await admin_form(request)
    fields = {"shortcut": form.get("shortcut", ""), "text": form.get("text", "")}
    try:
        await add_canned_reply(request.app, fields)
    except InvalidFields as exc:
        return await _page(request, status=400, reply_errors=exc.errors, new_reply=fields)
    except Conflict as exc:
        return await _page(request, status=409, reply_errors={"shortcut": exc.message}, new_reply=fields)
    raise web.HTTPSeeOther("/admin/settings?done=reply_added#canned-replies")


async def delete_reply_form(request: web.Request) -> web.Response:
    await admin_form(request)
    try:
        await delete_canned_reply(request.app, int(request.match_info["reply_id"]))
    except (ValueError, NotFound):
        raise web.HTTPNotFound(text="No such canned reply") from None
    raise web.HTTPSeeOther("/admin/settings?done=reply_deleted#canned-replies")


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/settings", settings_page)
    app.router.add_post("/admin/settings", save_settings_form)
    app.router.add_post("/admin/settings/canned-replies", add_reply_form)
    app.router.add_post("/admin/settings/canned-replies/{reply_id}/delete", delete_reply_form)
