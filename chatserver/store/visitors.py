"""Visitor rows: anonymous people on a customer's site, identified by a signed token."""
from __future__ import annotations

from sqlite_utils import Database

from . import identities
from .conversations import conversations_of_visitor


def get_or_create_visitor(db: Database, visitor_id: str, now: float, ip_network: str | None,
                          user_agent: str | None, page_url: str | None,
                          language: str | None = None) -> tuple[dict, bool]:
    """`ip_network` is the network around the visitor's address (client_address.stored_network), never the
    address itself; `language` their widget's (their emails are written in it)."""
    row = db.execute("SELECT * FROM visitors WHERE id = ?", [visitor_id]).fetchone()
    if row is None:
        # ON CONFLICT: the same new visitor's two tabs may connect to two nodes at once; the second finds the first.
        inserted = db.execute(
            "INSERT INTO visitors (id, created_at, last_seen_at, ip_network, user_agent, page_url, language) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            [visitor_id, now, now, ip_network, (user_agent or "")[:500], (page_url or "")[:2000] or None, language])
        if inserted.rowcount == 1:
            return get_visitor(db, visitor_id), True
        row = db.execute("SELECT * FROM visitors WHERE id = ?", [visitor_id]).fetchone()
    db.execute(
        "UPDATE visitors SET last_seen_at = ?, user_agent = COALESCE(?, user_agent), page_url = COALESCE(?, page_url), "
        "language = COALESCE(?, language) WHERE id = ?",
        [now, (user_agent or None) and user_agent[:500], (page_url or None) and page_url[:2000], language,
         visitor_id])
    return dict(row), False


def touch_visitor(db: Database, visitor_id: str, now: float) -> None:
    """A socket of theirs closed now: what they saw until then counts as seen (desk/email_replies.py)."""
    db.execute("UPDATE visitors SET last_seen_at = ? WHERE id = ? AND last_seen_at < ?", [now, visitor_id, now])



def ensure_visitor(db: Database, visitor_id: str, now: float) -> None:
    """The visitor's row exists (made bare if new: get_or_create_visitor fills it in)."""
    db.execute("INSERT INTO visitors (id, created_at, last_seen_at) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING",
               [visitor_id, now, now])


def get_visitor(db: Database, visitor_id: str) -> dict | None:
    row = db.execute("SELECT * FROM visitors WHERE id = ?", [visitor_id]).fetchone()
    return dict(row) if row else None


def set_contact(db: Database, visitor_id: str, email: str, name: str | None,
                conversation_id: int | None, now: float) -> dict:
    db.execute("UPDATE visitors SET email = ?, name = COALESCE(?, name) WHERE id = ?", [email, name, visitor_id])
    if conversation_id is not None:
        db.execute(
            "INSERT INTO conversation_events (conversation_id, type, actor_type, actor_id, reason, created_at) "
            "VALUES (?, 'contact', 'visitor', ?, 'visitor left contact details for a reply', ?)",
            [conversation_id, visitor_id, now])
    return get_visitor(db, visitor_id)


def visitor_details(db: Database, visitor_id: str) -> dict | None:
    """What an agent sees about a visitor: contact details, browser, first seen, previous conversations."""
    visitor = get_visitor(db, visitor_id)
    if visitor is None:
        return None
    visitor.pop("ip_network", None)
    visitor["identity"] = identities.of_visitor(db, visitor_id)
    visitor["conversations"] = conversations_of_visitor(db, visitor_id, None, 20)
    return visitor


def find_visitors(db: Database, query: str, limit: int = 20) -> list[dict]:
    """Visitors whose id is `query`, or whose email (their contact or claimed/verified identity) is `query`."""
    rows = db.execute(
        "SELECT v.id, v.name, v.email, v.created_at, v.last_seen_at, i.customer_id, i.email AS identity_email "
        "FROM visitors v LEFT JOIN visitor_identities i ON i.visitor_id = v.id "
        "WHERE v.id = ? OR lower(v.email) = lower(?) OR lower(i.email) = lower(?) OR i.customer_id = ? "
        "ORDER BY v.last_seen_at DESC LIMIT ?", [query, query, query, query, limit]).fetchall()
    return [dict(r) for r in rows]
