"""Agent authentication: argon2 password hashes, session tokens (cookie or bearer), CSRF tokens, login throttling."""
from __future__ import annotations

import hmac
import time
from http.cookies import SimpleCookie

from aiohttp import web

from . import keys
from .errors import CsrfFailed, Forbidden, Unauthorized
from .passwords import hash_password, verify_password  # noqa: F401  (re-exported for the views)
from .store import agents as agent_queries

PASSWORD_PAGE = "/account/password"

SESSION_COOKIE = "chat_session"
# Per-request cache of the logged-in agent (RequestKeys: aiohttp warns about plain string keys).
AGENT = web.RequestKey("agent", object)
SESSION_TOKEN = web.RequestKey("session_token", object)


def session_token_from_request(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[7:].strip() or None
    return request.cookies.get(SESSION_COOKIE)


def session_token_from_environ(environ: dict, auth: object) -> str | None:
    """For socket connects: `auth = {"token": ...}` (non-browser clients) or the session cookie (the console)."""
    if isinstance(auth, dict) and isinstance(auth.get("token"), str):
        return auth["token"]
    cookie = SimpleCookie()
    try:
        cookie.load(environ.get("HTTP_COOKIE", ""))
    except Exception:
        return None
    morsel = cookie.get(SESSION_COOKIE)
    return morsel.value if morsel else None


async def agent_for_token(app: web.Application, token: str | None) -> dict | None:
    if not token or len(token) > 200:
        return None
    return await app[keys.STORE].read(agent_queries.agent_for_session, token, time.time())


async def current_agent(request: web.Request) -> dict | None:
    if AGENT not in request:
        token = session_token_from_request(request)
        request[SESSION_TOKEN] = token
        request[AGENT] = await agent_for_token(request.app, token)
    return request[AGENT]


async def require_agent(request: web.Request, admin: bool = False, supervisor: bool = False) -> dict:
    """The logged-in agent; `admin`: admins only; `supervisor`: admins and supervisors."""
    agent = await current_agent(request)
    if agent is None:
        if request.headers.get("Accept", "").startswith("application/json") or request.path.startswith("/api/"):
            raise Unauthorized("log in first")
        raise web.HTTPFound("/login?next=" + request.path)
    if admin and agent["role"] != "admin":
        raise Forbidden("admins only")
    if supervisor and agent["role"] not in ("admin", "supervisor"):
        raise Forbidden("admins and supervisors only")
    # A one-time password (an invitation or an admin's reset) is changed before any page of the desk opens.
    if (request.method == "GET" and request.path != PASSWORD_PAGE and not request.path.startswith("/api/")
            and await request.app[keys.STORE].read(agent_queries.must_change_password, agent["id"])):
        raise web.HTTPFound(PASSWORD_PAGE + "?first=1")
    return agent


def csrf_token(request: web.Request) -> str:
    token = request.get(SESSION_TOKEN) or session_token_from_request(request) or ""
    return request.app[keys.SECRETS].csrf_token(token)


async def check_csrf(request: web.Request, form: dict | None = None) -> None:
    """Forms carry `csrf_token`; JSON/fetch callers send the `X-CSRF-Token` header. Bearer-token clients are exempt
    (a browser never attaches a bearer token on its own)."""
    if request.headers.get("Authorization", "").startswith("Bearer "):
        return
    sent = request.headers.get("X-CSRF-Token") or (form or {}).get("csrf_token") or ""
    if not hmac.compare_digest(str(sent), csrf_token(request)):
        raise CsrfFailed("missing or wrong CSRF token")
