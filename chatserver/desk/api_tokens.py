"""API tokens (docs/api.md): admins create them in the browser (named, scoped read/write/admin, the secret shown
once), revoke them, and every /api/v1 call is authenticated here: the token's hash looked up on each call (so a
revoked token is refused at once, on every node), its rate limit counted in the live state (shared by a cluster),
its last-used time kept. A token acts as the admin who made it, with no more than its scope allows; it stops
working when that admin is disabled or no longer an admin."""
from __future__ import annotations

import secrets
import time

from .. import validation
from ..errors import Forbidden, InvalidPayload, RateLimited, Unauthorized
from ..store import agents as agent_queries
from ..store import api_tokens as token_queries
from ..validation import collect_fields
from . import audit

SCOPES = ("read", "write", "admin")          # each includes the ones before it
PREFIX = "cst_"                              # recognisable in logs scanners and secret scanners


def clean_new_token(fields: dict) -> dict:
    return collect_fields({
        "name": lambda: validation.text(fields, "name", 80),
        "scope": lambda: validation.choice(fields, "scope", set(SCOPES)),
    })


async def create_token(desk, admin: dict, fields: dict, actor: audit.Actor | None = None) -> tuple[dict, str]:
    """A new token for `admin`; returns (token, secret). Only the secret's hash is stored: it is shown once."""
    cleaned = clean_new_token(fields)
    secret = PREFIX + secrets.token_urlsafe(32)
    write = audit.audited(token_queries.create_token, actor, "api_token.created", "api_token",
                          lambda t: (t["id"], {"name": [None, t["name"]], "scope": [None, t["scope"]]}))
    token = await desk.store.write(write, cleaned["name"], cleaned["scope"], secret, admin["id"], time.time())
    return token, secret


async def revoke_token(desk, token_id: int, actor: audit.Actor | None = None) -> dict:
    """Refused from the next call on: every call looks the token up."""
    write = audit.audited(token_queries.revoke_token, actor, "api_token.revoked", "api_token",
                          lambda t: (t["id"], {"name": [t["name"], t["name"]]}))
    return await desk.store.write(write, token_id, time.time())


def _lookup(db, secret: str) -> tuple[dict, dict] | None:
    token = token_queries.token_for_secret(db, secret)
    if token is None:
        return None
    agent = agent_queries.get_agent(db, token["agent_id"])
    return token, agent


async def authenticate(desk, secret: str | None) -> tuple[dict, dict]:
    """(token, the admin it acts as) for a call carrying `secret`; Unauthorized when it is missing, unknown,
    revoked or its admin is no longer an active admin; RateLimited past the per-token budget."""
    if not secret:
        raise Unauthorized("send an API token: Authorization: Bearer cst_...", code="token_required")
    if not secret.startswith(PREFIX) or len(secret) > 100:
        raise Unauthorized("this is not a valid API token", code="invalid_token")
    found = await desk.store.read(_lookup, secret)
    if found is None:
        raise Unauthorized("this API token is unknown or revoked", code="invalid_token")
    token, agent = found
    if agent is None or agent["disabled"] or agent["role"] != "admin":
        raise Unauthorized("the admin who made this token is disabled or no longer an admin", code="invalid_token")
    now = time.time()
    if not await desk.live.allow("api_calls", str(token["id"]), now):
        per_minute = desk.config.api_rate_limit_per_minute
        raise RateLimited(f"at most {per_minute} calls a minute per token; slow down")
    if token["last_used_at"] is None or now - token["last_used_at"] >= token_queries.TOUCH_SECONDS:
        await desk.store.write(token_queries.touch, token["id"], now)
    return token, agent


def require_scope(token: dict, needed: str) -> None:
    if SCOPES.index(token["scope"]) < SCOPES.index(needed):
        raise Forbidden(f"this call needs a token with the '{needed}' scope; this one has '{token['scope']}'",
                        code="insufficient_scope")


def parse_token_id(raw: str) -> int:
    if not raw.isdigit() or len(raw) > 12:
        raise InvalidPayload("the token id must be a number")
    return int(raw)
