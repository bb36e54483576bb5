"""Admin → Settings → Business hours: the time zone, the weekly schedule and the holidays (stored like every site
setting), and "Add public holidays" for a country and year from the `holidays` package (desk/hours.py)."""
from __future__ import annotations

from aiohttp import web

from .. import keys
from ..desk import hours
from ..desk import settings as settings_ops
from ..errors import InvalidFields, InvalidPayload
from .admin_common import admin_form
from .admin_settings import page

NAMES = ("hours_timezone", "hours_schedule", "hours_holidays")


async def save_hours_form(request: web.Request) -> web.Response:
    _, form = await admin_form(request)
    changes = {name: form.get(name, "") for name in NAMES}
    try:
        await settings_ops.update_settings(request.app[keys.DESK], changes)
    except InvalidFields as exc:
        errors = {name: message.split(": ", 1)[-1] for name, message in exc.errors.items()}
        return await page(request, status=400, values=changes, errors=errors)
    raise web.HTTPSeeOther("/admin/settings?done=hours_saved#hours")


async def add_holidays_form(request: web.Request) -> web.Response:
    _, form = await admin_form(request)
    try:
        year = int(form.get("year", ""))
    except ValueError:
        year = 0
    try:
        await hours.add_country_holidays(request.app[keys.DESK], form.get("country", ""), year)
    except InvalidPayload as exc:
        return await page(request, status=400, errors={"country": exc.message})
    raise web.HTTPSeeOther("/admin/settings?done=holidays_added#hours")


def setup(app: web.Application) -> None:
    app.router.add_post("/admin/settings/hours", save_hours_form)
    app.router.add_post("/admin/settings/hours/holidays", add_holidays_form)
