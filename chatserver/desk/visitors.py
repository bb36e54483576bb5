"""What admins do with one visitor's record: read it (the API and the admin pages)."""
from __future__ import annotations

from ..errors import NotFound
from ..store import visitors as visitor_queries


async def visitor_for_admin(desk, visitor_id: str) -> dict:
    """A visitor's details with their recent conversations, as agents see them (no network address)."""
    visitor = await desk.store.read(visitor_queries.visitor_details, visitor_id)
    if visitor is None:
        raise NotFound("no such visitor", code="visitor_not_found")
    return visitor
