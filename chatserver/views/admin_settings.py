"""Admin → Settings: the page for the site settings (widget greeting and colour, allowed origins, business hours,
surveys) and the canned replies agents insert in the console. The operations are chatserver/desk/settings.py
(shared with the JSON API)."""
from __future__ import annotations

from aiohttp import web

from .. import keys
from ..desk import hours, outbox
from ..desk import labels as label_ops
from ..desk import settings as settings_ops
from ..mail.smtp_url import masked
from ..errors import Conflict, InvalidFields, InvalidPayload, NotFound
from ..site_settings import SETTINGS
from ..store import settings as settings_queries
from .admin_common import actor, admin_form, admin_page, require_admin

# -- the page -----------------------------------------------------------------------------------------------

async def page(request: web.Request, status: int = 200, values: dict | None = None, **context) -> web.Response:
    """The settings page, with the typed `values` and field `errors` of a form that was refused."""
    current = request.app[keys.SETTINGS].all()
    current["smtp_url"] = masked(current["smtp_url"])
    shown = {**current, **(values or {})}
    if isinstance(shown["allowed_origins"], list):
        shown["allowed_origins"] = "\n".join(shown["allowed_origins"])
    replies = await request.app[keys.STORE].read(settings_queries.canned_replies)
    email = await outbox.status(request.app[keys.DESK])
    labels = await label_ops.list_labels(request.app[keys.DESK])
    return admin_page(request, "admin_settings.html", status=status, section="settings",
                      settings=[s for s in SETTINGS if s.group == "site"],
                      email_settings=[s for s in SETTINGS if s.group == "email"], email=email,
                      hours_settings=[s for s in SETTINGS if s.group == "hours"],
                      hours_now=hours.status(request.app[keys.DESK]),
                      values=shown, replies=replies, labels=labels, label_errors=context.pop("label_errors", {}),
                      new_label=context.pop("new_label", {}), errors=context.pop("errors", {}),
                      reply_errors=context.pop("reply_errors", {}), new_reply=context.pop("new_reply", {}),
                      notice=request.query.get("done"), **context)


async def settings_page(request: web.Request) -> web.Response:
    await require_admin(request)
    return await page(request)


async def save_settings_form(request: web.Request) -> web.Response:
    admin, form = await admin_form(request)
    changes = {}
    for setting in SETTINGS:
        if setting.group != "site":
            continue
        if setting.kind == "bool":
            changes[setting.name] = form.get(setting.name) == "on"      # an unticked box is not sent
        elif setting.kind == "origins":
            changes[setting.name] = ",".join(form.get(setting.name, "").split())
        else:
            changes[setting.name] = form.get(setting.name, "")
    try:
        await settings_ops.update_settings(request.app[keys.DESK], changes, actor(request, admin))
    except InvalidFields as exc:
        # Shown under the field itself, so "'widget_colour' must be ..." reads "must be ...".
        errors = {name: message.replace(f"'{name}' ", "", 1).capitalize() if message.startswith(f"'{name}' ")
                  else message for name, message in exc.errors.items()}
        return await page(request, status=400, values=changes, errors=errors)
    raise web.HTTPSeeOther("/admin/settings?done=saved")


async def add_reply_form(request: web.Request) -> web.Response:
    admin, form = await admin_form(request)
    fields = {"shortcut": form.get("shortcut", ""), "text": form.get("text", "")}
    try:
        await settings_ops.add_canned_reply(request.app[keys.DESK], fields, actor(request, admin))
    except InvalidFields as exc:
        return await page(request, status=400, reply_errors=exc.errors, new_reply=fields)
    except Conflict as exc:
        return await page(request, status=409, reply_errors={"shortcut": exc.message}, new_reply=fields)
    raise web.HTTPSeeOther("/admin/settings?done=reply_added#canned-replies")


async def delete_reply_form(request: web.Request) -> web.Response:
    admin, _ = await admin_form(request)
    try:
        await settings_ops.delete_canned_reply(request.app[keys.DESK], int(request.match_info["reply_id"]),
                                               actor(request, admin))
    except (ValueError, NotFound):
        raise web.HTTPNotFound(text="No such canned reply") from None
    raise web.HTTPSeeOther("/admin/settings?done=reply_deleted#canned-replies")


async def add_label_form(request: web.Request) -> web.Response:
    _, form = await admin_form(request)
    fields = {"name": form.get("name", ""), "colour": form.get("colour", "")}
    try:
        await label_ops.create_label(request.app[keys.DESK], fields)
    except InvalidPayload as exc:
        field = "colour" if exc.code == "invalid_colour" else "name"
        return await page(request, status=400, label_errors={field: exc.message}, new_label=fields)
    except Conflict as exc:
        message = "A label with that name exists already" if exc.code == "label_exists" else exc.message
        return await page(request, status=409, label_errors={"name": message}, new_label=fields)
    raise web.HTTPSeeOther("/admin/settings?done=label_added#labels")


async def delete_label_form(request: web.Request) -> web.Response:
    await admin_form(request)
    try:
        await label_ops.delete_label(request.app[keys.DESK], int(request.match_info["label_id"]))
    except (ValueError, NotFound):
        raise web.HTTPNotFound(text="No such label") from None
    raise web.HTTPSeeOther("/admin/settings?done=label_deleted#labels")


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/settings", settings_page)
    app.router.add_post("/admin/settings", save_settings_form)
    app.router.add_post("/admin/settings/canned-replies", add_reply_form)
    app.router.add_post("/admin/settings/canned-replies/{reply_id}/delete", delete_reply_form)
    app.router.add_post("/admin/settings/labels", add_label_form)
    app.router.add_post("/admin/settings/labels/{label_id}/delete", delete_label_form)
