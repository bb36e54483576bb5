"""The audit log of admin actions (docs/admin.md, "Audit log"): who (the admin, and the API token if one was
used), when, from where (the client address as the edge resolved it), what (an action name such as
`agent.updated`) and what changed (`{field: [before, after]}`; never a password, a token's secret or erased
content). An operation that changes something writes its entry in its own transaction (`audited`), so an action
is never without its entry nor an entry without its action."""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from ..errors import InvalidPayload
from ..store import audit as audit_queries

PAGE = 50


@dataclass(frozen=True)
class Actor:
    """Who acts, as the edge knows it: a signed-in admin on a page, or an API token acting as its admin."""
    agent_id: int | None
    name: str
    via: str                    # "page" | "api" | "login" | "system"
    address: str | None = None
    token_id: int | None = None

    @classmethod
    def of(cls, agent: dict, via: str, address: str | None, token: dict | None = None) -> "Actor":
        return cls(agent["id"], f"{agent['name']} <{agent['email']}>", via, address,
                   token["id"] if token else None)


SYSTEM = Actor(None, "system", "system")


def entry(actor: Actor, action: str, target_type: str | None, target_id: object, changes: dict | None,
          now: float | None = None) -> dict:
    return {"created_at": time.time() if now is None else now, "actor_agent_id": actor.agent_id,
            "actor_name": actor.name, "via": actor.via, "token_id": actor.token_id, "address": actor.address,
            "action": action, "target_type": target_type, "target_id": target_id, "changes": changes}


def record(db, actor: Actor | None, action: str, target_type: str | None = None, target_id: object = None,
           changes: dict | None = None) -> None:
    """Append an entry inside the caller's transaction (nothing when there is no actor: code and tests that
    act below the edges)."""
    if actor is not None:
        audit_queries.append(db, entry(actor, action, target_type, target_id, changes))


def audited(fn: Callable, actor: Actor | None, action: str, target_type: str,
            describe: Callable[[object], tuple[object, dict | None]]) -> Callable:
    """A write function: `fn(db, *args)`, then its audit entry (target id and changes from `describe(result)`),
    in one transaction."""
    def write(db, *args, **kwargs):
        result = fn(db, *args, **kwargs)
        target_id, changes = describe(result)
        record(db, actor, action, target_type, target_id, changes)
        return result
    write.__name__ = getattr(fn, "__name__", "write")
    return write


def diff(before: dict | None, after: dict, fields) -> dict:
    """{field: [before, after]} for the fields that changed."""
    before = before or {}
    return {name: [before.get(name), after.get(name)] for name in fields if before.get(name) != after.get(name)}


def clean_filters(query: dict) -> dict:
    filters: dict = {}
    actor = query.get("actor")
    if actor:
        if not actor.isdigit() or len(actor) > 15:
            raise InvalidPayload("'actor' must be an agent id")
        filters["actor_agent_id"] = int(actor)
    action = (query.get("action") or "").strip()
    if action:
        if len(action) > 60 or not all(c.isalnum() or c in "._" for c in action):
            raise InvalidPayload("'action' is an action name like agent.updated, or a prefix like agent.")
        filters["action"] = action
    for name in ("target_type", "target_id"):
        value = (query.get(name) or "").strip()
        if value:
            if len(value) > 64:
                raise InvalidPayload(f"'{name}' is too long")
            filters[name] = value
    for name in ("since", "until"):
        raw = (query.get(name) or "").strip()
        if raw:
            try:
                value = float(raw)
            except ValueError:
                value = float("nan")
            if not 0 <= value < 1e11:
                raise InvalidPayload(f"'{name}' must be a Unix time in seconds")
            filters[name] = value
    cursor = query.get("cursor")
    if cursor:
        if not cursor.isdigit() or len(cursor) > 15:
            raise InvalidPayload("'cursor' must be one a previous page gave", code="invalid_cursor")
        filters["cursor"] = int(cursor)
    return filters


async def read_log(desk, filters: dict, limit: int | None = None) -> dict:
    """A page of entries, newest first, with the next page's cursor or None."""
    limit = limit or PAGE
    found = await desk.store.read(audit_queries.entries, filters, filters.get("cursor"), limit + 1)
    page = found[:limit]
    return {"ok": True, "entries": page, "next_cursor": str(page[-1]["id"]) if len(found) > limit else None}


async def append_now(desk, actor: Actor | None, action: str, target_type: str | None = None,
                     target_id: object = None, changes: dict | None = None) -> None:
    """An entry in a transaction of its own: for actions whose effect is not a database write (an export read)."""
    if actor is not None:
        await desk.store.write(record, actor, action, target_type, target_id, changes)
