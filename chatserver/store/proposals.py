"""Example questions learned from solved chats, waiting for an admin (tables `example_proposals` and
`example_proposal_sources`). The rules for what may be proposed live in desk/learning.py."""
from __future__ import annotations

from sqlite_utils import Database

from ..errors import NotFound

COLUMNS = "id, slug, text, normalised, count, status, first_seen, last_seen, decided_by, decided_at"


def last_visitor_text(db: Database, conversation_id: int) -> str | None:
    """The visitor's latest typed message in the conversation: the question a helpful article or a sent one
    answered (not their tap on "helpful", stored as a line of kind 'feedback')."""
    row = db.execute("SELECT text FROM messages WHERE conversation_id = ? AND author = 'visitor' AND private = 0 "
                     "AND kind = 'text' "
                     "ORDER BY seq DESC LIMIT 1", [conversation_id]).fetchone()
    return row[0] if row is not None else None


def add_occurrence(db: Database, slug: str, text: str, normalised: str, conversation_id: int, source: str,
                   now: float) -> dict | None:
    """Count one more conversation for (slug, normalised text): a new proposal, or one more source of an existing
    one. A rejected or accepted one is left as it is (never proposed again). Returns the proposal, or None when it
    was already decided."""
    db.execute("INSERT INTO example_proposals (slug, text, normalised, count, first_seen, last_seen) "
               "VALUES (?, ?, ?, 0, ?, ?) ON CONFLICT (slug, normalised) DO NOTHING",
               [slug, text, normalised, now, now])
    row = db.execute(f"SELECT {COLUMNS} FROM example_proposals WHERE slug = ? AND normalised = ?",
                     [slug, normalised]).fetchone()
    if row["status"] != "proposed":
        return None
    db.execute("INSERT INTO example_proposal_sources (proposal_id, conversation_id, source, created_at) "
               "VALUES (?, ?, ?, ?) ON CONFLICT (proposal_id, conversation_id) DO NOTHING",
               [row["id"], conversation_id, source, now])
    db.execute("UPDATE example_proposals SET last_seen = ?, "
               "count = (SELECT count(*) FROM example_proposal_sources WHERE proposal_id = ?) WHERE id = ?",
               [now, row["id"], row["id"]])
    return get(db, row["id"])


def get(db: Database, proposal_id: int) -> dict:
    row = db.execute(f"SELECT {COLUMNS} FROM example_proposals WHERE id = ?", [proposal_id]).fetchone()
    if row is None:
        raise NotFound("no such proposed example question", code="proposal_not_found")
    return dict(row)


def sources(db: Database, proposal_ids: list[int]) -> dict[int, list[dict]]:
    """The conversations each proposal came from, newest first."""
    if not proposal_ids:
        return {}
    marks = ", ".join("?" for _ in proposal_ids)
    out: dict[int, list[dict]] = {pid: [] for pid in proposal_ids}
    for row in db.execute(f"SELECT proposal_id, conversation_id, source, created_at FROM example_proposal_sources "
                          f"WHERE proposal_id IN ({marks}) ORDER BY created_at DESC", proposal_ids).fetchall():
        out[row["proposal_id"]].append({"conversation_id": row["conversation_id"], "source": row["source"],
                                        "created_at": row["created_at"]})
    return out


def waiting(db: Database, slug: str | None = None, limit: int = 200) -> list[dict]:
    """Proposals not decided yet (of one article, or all), the most often seen first, with their sources."""
    where, params = ("status = 'proposed' AND slug = ?", [slug]) if slug else ("status = 'proposed'", [])
    rows = [dict(r) for r in db.execute(f"SELECT {COLUMNS} FROM example_proposals WHERE {where} "
                                        "ORDER BY count DESC, last_seen DESC, id LIMIT ?", [*params, limit]).fetchall()]
    found = sources(db, [r["id"] for r in rows])
    for r in rows:
        r["sources"] = found[r["id"]]
    return rows


def waiting_count(db: Database) -> int:
    return db.execute("SELECT count(*) FROM example_proposals WHERE status = 'proposed'").fetchone()[0]


def decide(db: Database, proposal_id: int, status: str, admin_email: str, now: float) -> tuple[dict, bool]:
    """Mark a waiting proposal accepted or rejected (one conditional UPDATE, so two admins clicking at once decide
    it once). Returns (the proposal, whether this call decided it); NotFound when there is none."""
    cur = db.execute("UPDATE example_proposals SET status = ?, decided_by = ?, decided_at = ? "
                     "WHERE id = ? AND status = 'proposed'", [status, admin_email, now, proposal_id])
    return get(db, proposal_id), cur.rowcount == 1


# -- privacy (store/privacy.py): a proposed example question may be the visitor's own words -----------------------

def _export_proposals(db, _visitor_id, ids):
    return privacy.rows(db, "SELECT p.text, p.slug, p.status, s.conversation_id, s.source, s.created_at "
                            "FROM example_proposal_sources s JOIN example_proposals p ON p.id = s.proposal_id "
                            "WHERE s.conversation_id IN ({ids}) ORDER BY s.created_at", ids)


def _erase_proposals(db, _visitor_id, ids):
    """Their conversations stop counting for any proposal; one still waiting that only they gave goes. An accepted
    one is an admin's edit of the article by then (its history keeps who accepted it)."""
    marks = ", ".join("?" * len(ids)) or "NULL"
    touched = [r[0] for r in db.execute(f"SELECT DISTINCT proposal_id FROM example_proposal_sources "
                                        f"WHERE conversation_id IN ({marks})", ids).fetchall()]
    changed = db.execute(f"DELETE FROM example_proposal_sources WHERE conversation_id IN ({marks})", ids).rowcount
    for proposal_id in touched:
        left = db.execute("SELECT COUNT(*) FROM example_proposal_sources WHERE proposal_id = ?",
                          [proposal_id]).fetchone()[0]
        if left == 0:
            changed += db.execute("DELETE FROM example_proposals WHERE id = ? AND status = 'proposed'",
                                  [proposal_id]).rowcount
        else:
            db.execute("UPDATE example_proposals SET count = ? WHERE id = ?", [left, proposal_id])
    return changed


from . import privacy  # noqa: E402  (privacy imports this module to register the part below)

privacy.register(privacy.PrivacyPart("example_proposals", _export_proposals, _erase_proposals))
