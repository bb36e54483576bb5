"""What every admin page and admin endpoint shares: the admin check, the CSRF check, form and JSON bodies,
field errors, and how errors are answered (a page for browsers, JSON for /api/ and fetch callers)."""
from __future__ import annotations

from aiohttp import web
from multidict import MultiDictProxy

from ..auth import check_csrf, require_agent
from ..desk.audit import Actor
from ..errors import ChatError, CsrfFailed, Forbidden, InvalidPayload
from ..security import client_address
from .public import render


def actor(request: web.Request, admin: dict) -> Actor:
    """The admin acting through this request, for the audit log: from a page, or /api/admin with their session."""
    return Actor.of(admin, "admin_api" if request.path.startswith("/api/") else "page",
                    client_address.of_request(request))


def wants_json(request: web.Request) -> bool:
    return request.path.startswith("/api/") or request.headers.get("Accept", "").startswith("application/json")


def admin_page(request: web.Request, template: str, status: int = 200, **context) -> web.Response:
    """An admin page; never cached (it can show a one-time password or unsaved form values)."""
    response = render(request, template, status=status, **context)
    response.headers["Cache-Control"] = "no-store"
    return response


def _refused_page(request: web.Request, exc: ChatError, title: str, message: str):
    """Browsers get a readable page for a refusal; JSON callers get the error as JSON (views/errors.py)."""
    if wants_json(request):
        return exc
    page = render(request, "admin_refused.html", status=exc.http_status, title=title, message=message)
    return web.HTTPForbidden(text=page.text, content_type="text/html", headers={"Cache-Control": "no-store"})


async def require_admin(request: web.Request) -> dict:
    """The logged-in admin; logged-out browsers go to /login, other agents get 403."""
    try:
        return await require_agent(request, admin=True)
    except Forbidden as exc:
        raise _refused_page(request, exc, "Admins only",
                            "This page is for administrators. Ask an admin if you need access.") from None


async def admin_form(request: web.Request) -> tuple[dict, MultiDictProxy]:
    """(admin, form fields) of a form POST whose CSRF token is right (a multidict: checkboxes repeat names)."""
    admin = await require_admin(request)
    form = await request.post()
    await _checked_csrf(request, form)
    return admin, form


async def admin_json(request: web.Request) -> tuple[dict, dict]:
    """(admin, JSON object) of a fetch/API call whose CSRF header is right (bearer-token clients are exempt)."""
    admin = await require_admin(request)
    await _checked_csrf(request, None)
    if request.method == "DELETE" and not request.can_read_body:
        return admin, {}
    return admin, await json_object(request)


async def json_object(request: web.Request) -> dict:
    """The request's JSON body, which must be an object (`invalid_payload` otherwise)."""
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise InvalidPayload("send a JSON object")
    return body


async def _checked_csrf(request: web.Request, form) -> None:
    try:
        await check_csrf(request, form)
    except CsrfFailed as exc:
        raise _refused_page(request, exc, "This form has expired",
                            "The page was open too long or you signed in again elsewhere. Go back, reload the page "
                            "and try again; nothing was changed.") from None
