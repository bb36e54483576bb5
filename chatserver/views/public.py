"""Public pages: login/logout, rendered KB articles, health; and the security headers every response gets."""
from __future__ import annotations

import time
from pathlib import Path

from aiohttp import web

from .. import keys
from ..auth import (AGENT, SESSION_COOKIE, SESSION_TOKEN, agent_for_token, check_csrf, csrf_token, current_agent,
                    require_agent, session_token_from_request)
from ..desk import account_emails, agents as agent_ops
from ..errors import ChatError, NotFound
from ..security import client_address, login_guard
from ..security.redirects import same_site_path
from ..security.transport_security import is_https
from ..store import agents as agent_queries

# Paths other sites may load or frame: the widget script and its assets, the demo host page.
EMBEDDABLE_PREFIXES = ("/widget", "/socket.io/")

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


@web.middleware
async def security_headers(request: web.Request, handler):
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
        _decorate(request, response)
        raise
    _decorate(request, response)
    return response


def _decorate(request: web.Request, response) -> None:
    if request.path.startswith(EMBEDDABLE_PREFIXES) or getattr(response, "prepared", False):
        return
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")


def render(request: web.Request, template: str, status: int = 200, **context) -> web.Response:
    env = request.app[keys.TEMPLATES]
    context.setdefault("agent", request.get(AGENT))
    context.setdefault("csrf_token", csrf_token(request))
    html = env.get_template(template).render(**context)
    return web.Response(text=html, content_type="text/html", status=status)


async def index(request: web.Request) -> web.Response:
    agent = await current_agent(request)
    raise web.HTTPFound("/console" if agent else "/login")


async def healthz(request: web.Request) -> web.Response:
    kb = request.app[keys.KB]
    live = request.app[keys.DESK].live
    return web.json_response({"ok": True, "agents_online": await live.agents_online(),
                              "queue_length": len(await live.waiting()),
                              "kb": {"articles": len(kb), "meaning": kb.meaning_state(),
                                     "threshold": _threshold_summary(kb)}})


def _threshold_summary(kb) -> dict:
    """The bot's threshold, where it comes from, and the last calibration's figures (no article content)."""
    status = kb.threshold_status()
    result = status["calibration"]
    summary = {"value": status["threshold"], "source": status["source"]}
    if result is not None:
        summary["calibrated"] = {name: result[name] for name in (
            "threshold", "target", "questions", "kept", "right_first_kept", "unanswerable_declined", "meaning",
            "seconds", "at", "reason")}
    return summary


async def login_page(request: web.Request) -> web.Response:
    notice = "Your new password is set: sign in with it." if request.query.get("reset") else None
    return render(request, "login.html", error=None, email="", next=same_site_path(request.query.get("next")),
                  notice=notice, email_on=account_emails.email_on(request.app[keys.DESK]))


async def login(request: web.Request) -> web.Response:
    """POST /login with email and password, as a form (browser: sets the session cookie and redirects) or JSON
    (non-browser clients: returns {"token": ...} for the agent socket's auth)."""
    is_json = request.content_type == "application/json"
    if is_json:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return web.json_response({"ok": False, "error": "invalid_payload", "message": "send a JSON object"},
                                     status=400)
    else:
        body = dict(await request.post())
    email, password = body.get("email"), body.get("password")
    if not isinstance(email, str) or not isinstance(password, str) or not email or not password:
        return _login_failed(request, is_json, "", "Enter your email and password.", status=400)
    email = email.strip().lower()[:320]
    guard = request.app[login_guard.LOGIN_GUARD]
    now = time.time()
    try:
        agent_id = await guard.check(request, email, password, now)
    except ChatError as exc:
        return login_guard.throttled_answer(
            _login_failed(request, is_json, email, exc.message, status=exc.http_status, code=exc.code), exc)
    token = await agent_ops.start_session(request.app[keys.DESK], agent_id, now, client_address.of_request(request))
    if is_json:
        response = web.json_response({"ok": True, "token": token, "agent_id": agent_id})
    else:
        response = web.HTTPFound(same_site_path(body.get("next")))
    response.set_cookie(SESSION_COOKIE, token, httponly=True, samesite="Strict", path="/",
                        secure=is_https(request), max_age=agent_queries.SESSION_SECONDS)
    guard.remember_browser(request, response, email)
    if is_json:
        return response
    raise response


def _login_failed(request, is_json, email, message, status, code="invalid_credentials"):
    if is_json:
        return web.json_response({"ok": False, "error": code, "message": message}, status=status)
    return render(request, "login.html", status=status, error=message, email=email,
                  next=same_site_path(request.query.get("next")),
                  email_on=account_emails.email_on(request.app[keys.DESK]))


async def logout(request: web.Request) -> web.Response:
    token = session_token_from_request(request)
    agent = await agent_for_token(request.app, token) if token else None
    if agent:
        request[SESSION_TOKEN] = token
        form = dict(await request.post()) if request.content_type != "application/json" else {}
        await check_csrf(request, form)
        await agent_ops.sign_out(request.app[keys.DESK], agent["id"], token)
    response = web.HTTPFound("/login")
    response.del_cookie(SESSION_COOKIE, path="/")
    raise response


async def change_password(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    form = dict(await request.post())
    await check_csrf(request, form)
    store = request.app[keys.STORE]
    passwords = request.app[login_guard.LOGIN_GUARD].passwords
    current, new, repeat = form.get("current_password", ""), form.get("new_password", ""), form.get("repeat_password", "")
    error = None
    stored_hash = await store.read(agent_queries.password_hash_of, agent["id"])
    if not await passwords.verify(stored_hash, current, bounded=False):
        error = "Your current password is not right."
    elif len(new) < 10:
        error = "Choose a new password of at least 10 characters."
    elif new != repeat:
        error = "The two new passwords differ."
    first = await store.read(agent_queries.must_change_password, agent["id"])
    if not error and first and new == current:
        error = "Choose a password of your own, not the one-time password you were given."
    if error:
        return render(request, "password.html", status=400, error=error, done=False, first=first)
    await agent_ops.change_own_password(request.app[keys.DESK], agent["id"], await passwords.hash(new, bounded=False),
                                        request.get(SESSION_TOKEN))
    return render(request, "password.html", error=None, done=True, first=False)


async def password_page(request: web.Request) -> web.Response:
    agent = await require_agent(request)
    first = await request.app[keys.STORE].read(agent_queries.must_change_password, agent["id"])
    return render(request, "password.html", error=None, done=False, first=first)


async def reset_page(request: web.Request) -> web.Response:
    """GET /account/reset/<token>: the link an admin created; the agent chooses a new password here."""
    agent = await request.app[keys.STORE].read(agent_queries.reset_link_agent, request.match_info["token"],
                                               time.time())
    if agent is None:
        return render(request, "reset.html", status=404, reset_agent=None, error=None,
                      invalid="This reset link is no longer valid (used, replaced or older than a day): "
                              "ask an admin for a new one.")
    return render(request, "reset.html", reset_agent=agent, error=None, invalid=None)


async def reset_with_link(request: web.Request) -> web.Response:
    form = dict(await request.post())
    token = request.match_info["token"]
    new, repeat = str(form.get("new_password", "")), str(form.get("repeat_password", ""))
    agent = await request.app[keys.STORE].read(agent_queries.reset_link_agent, token, time.time())
    if agent is not None and new != repeat:
        return render(request, "reset.html", status=400, reset_agent=agent, invalid=None,
                      error="The two passwords differ: type the same new password twice.")
    try:
        await agent_ops.reset_with_link(request.app[keys.DESK], token, new)
    except ChatError as exc:
        return render(request, "reset.html", status=exc.http_status, reset_agent=agent,
                      invalid=None if agent else exc.message,
                      error=exc.message if agent else None)
    raise web.HTTPSeeOther("/login?reset=1")


async def forgot_page(request: web.Request) -> web.Response:
    """GET /account/forgot: "Forgot your password?", the form to have a reset link emailed (or, with email off,
    where to get one)."""
    return render(request, "forgot.html", email_on=account_emails.email_on(request.app[keys.DESK]), sent=False,
                  email="", error=None)


async def email_reset_link(request: web.Request) -> web.Response:
    """POST /account/forgot: the same answer whether or not the address is an agent's."""
    form = dict(await request.post())
    email = str(form.get("email", "")).strip()[:320]
    desk = request.app[keys.DESK]
    try:
        await account_emails.email_reset_link(desk, email, client_address.limit_key(client_address.of_request(request)))
    except ChatError as exc:
        off = exc.code == "email_off"
        return render(request, "forgot.html", status=exc.http_status, email_on=not off, sent=False, email=email,
                      error=exc.message)
    return render(request, "forgot.html", email_on=True, sent=True, email=email.lower(), error=None)


async def article_page(request: web.Request) -> web.Response:
    article = request.app[keys.KB].get(request.match_info["slug"])
    if article is None or not article.published:
        raise web.HTTPNotFound(text="No such article")
    return render(request, "article.html", article=article)


async def article_json(request: web.Request) -> web.Response:
    article = request.app[keys.KB].get(request.match_info["slug"])
    if article is None or not article.published:
        raise NotFound("no such article", code="article_not_found")
    return web.json_response({"ok": True, "article": {"slug": article.slug, "title": article.title,
                                                      "html": article.html, "department": article.department}})


VENDOR_CLIENT = Path(__file__).resolve().parent.parent / "widget" / "dist" / "socket.io.min.js"


async def vendored_client(request: web.Request) -> web.StreamResponse:
    """The pinned official socket.io-client build, for the console."""
    return web.FileResponse(VENDOR_CLIENT, headers={"Cache-Control": "public, max-age=86400",
                                                    "Content-Type": "application/javascript"})


FAVICON = Path(__file__).resolve().parent.parent / "static" / "favicon.ico"


async def favicon(request: web.Request) -> web.StreamResponse:
    """The browser asks every page's origin for /favicon.ico: answer it rather than log a 404 on each page."""
    return web.FileResponse(FAVICON, headers={"Cache-Control": "public, max-age=86400",
                                              "Content-Type": "image/x-icon"})


def setup_routes(app: web.Application) -> None:
    login_guard.setup(app)
    app.router.add_get("/", index)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/favicon.ico", favicon)
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
    app.router.add_get("/account/password", password_page)
    app.router.add_post("/account/password", change_password)
    app.router.add_get("/account/forgot", forgot_page)
    app.router.add_post("/account/forgot", email_reset_link)
    app.router.add_get("/account/reset/{token}", reset_page)
    app.router.add_post("/account/reset/{token}", reset_with_link)
    app.router.add_get("/kb/{slug}", article_page)
    app.router.add_get("/api/kb/{slug}", article_json)
    app.router.add_static("/static", Path(__file__).resolve().parent.parent / "static")
    app.router.add_get("/vendor/socket.io.min.js", vendored_client)
