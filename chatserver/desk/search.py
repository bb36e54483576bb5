"""Finding conversations: the console's search and its Mine / Unassigned / All lists, and a visitor's search of
their own history. Who may see what is the scope built here from the access rules (desk/access.py): an admin
every conversation, an agent what they may read, a visitor only their own (never private notes)."""
from __future__ import annotations

import datetime

from .. import validation
from ..errors import InvalidPayload
from ..store import labels as label_queries
from ..store import search as search_queries
from . import access

PAGE = 25
QUERY_CHARS = 200
STATUSES = {"open": ("bot", "queued", "assigned"), "bot": ("bot",), "queued": ("queued",),
            "assigned": ("assigned",), "closed": ("closed",), "resolved": ("closed",)}
VIEWS = {"mine", "unassigned", "all"}
MAX_ID = 2**53
PREVIEW_CHARS = 140


def _day(body: dict, name: str) -> datetime.date | None:
    raw = body.get(name)
    if raw is None or raw == "":
        return None
    try:
        if not isinstance(raw, str):
            raise ValueError
        return datetime.date.fromisoformat(raw)
    except ValueError:
        raise InvalidPayload(f"'{name}' must be a date like 2025-01-31", code="invalid_date") from None


def _epoch(day: datetime.date) -> float:
    return datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.timezone.utc).timestamp()


def parse_criteria(body: dict) -> search_queries.Criteria:
    """The console's search payload (docs/protocol.md, `search`): every field optional."""
    query = validation.text(body, "query", QUERY_CHARS, required=False) if body.get("query") != "" else None
    view = body.get("view", "all")
    if view not in VIEWS:
        raise InvalidPayload("'view' must be one of: all, mine, unassigned")
    status = body.get("status")
    if status is not None and status not in STATUSES:
        raise InvalidPayload(f"'status' must be one of: {', '.join(STATUSES)}")
    start, end = _day(body, "from"), _day(body, "to")
    if start and end and start > end:
        raise InvalidPayload("'from' is after 'to'", code="invalid_range")
    return search_queries.Criteria(
        words=search_queries.words_of(query), view=view, statuses=STATUSES[status] if status else (),
        agent_id=validation.integer(body, "agent_id", minimum=1, maximum=MAX_ID, required=False),
        label_id=validation.integer(body, "label_id", minimum=1, maximum=MAX_ID, required=False),
        created_from=_epoch(start) if start else None,
        created_to=_epoch(end + datetime.timedelta(days=1)) if end else None,
        rating=validation.integer(body, "rating", minimum=1, maximum=5, required=False),
        before_id=validation.integer(body, "before_id", minimum=1, maximum=MAX_ID, required=False),
        limit=PAGE)


def _agent_search(db, scope, criteria) -> list[dict]:
    found = search_queries.find_conversations(db, scope, criteria)
    labels = label_queries.labels_by_conversation(db, [c["id"] for c in found])
    for conversation in found:
        conversation["labels"] = labels.get(conversation["id"], [])
        conversation["preview"] = (conversation.pop("first_question") or "")[:PREVIEW_CHARS]
    return found


async def agent_search(desk, agent: dict, criteria: search_queries.Criteria) -> dict:
    """Conversations this agent may read that match, newest first, a page at a time (`before_id`)."""
    scope = search_queries.Scope(agent_id=agent["id"], admin=access.is_admin(agent))
    found = await desk.store.read(_agent_search, scope, criteria)
    return {"ok": True, "conversations": found[:PAGE], "more": len(found) > PAGE}


VISITOR_FIELDS = ("id", "status", "created_at", "closed_at", "resolution", "agent_name", "preview", "message_count",
                  "match")


async def visitor_search(desk, visitor_id: str, query: str, before_id: int | None) -> dict:
    """The visitor's own conversations holding every word of `query` (their messages and the answers they got;
    never agents' private notes), newest first."""
    words = search_queries.words_of(query)
    if not words:
        return {"ok": True, "conversations": [], "more": False}
    criteria = search_queries.Criteria(words=words, before_id=before_id, limit=PAGE)
    found = await desk.store.read(search_queries.find_conversations, search_queries.Scope(visitor_id=visitor_id),
                                  criteria)
    shown = []
    for conversation in found[:PAGE]:
        conversation["preview"] = (conversation.pop("first_question") or "")[:PREVIEW_CHARS]
        shown.append({name: conversation.get(name) for name in VISITOR_FIELDS})
    return {"ok": True, "conversations": shown, "more": len(found) > PAGE}
