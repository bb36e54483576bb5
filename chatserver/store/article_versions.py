"""The history of knowledge-base articles edited through the admin pages (table `article_versions`)."""
from __future__ import annotations

from sqlite_utils import Database

from ..errors import NotFound

LISTED = "id, slug, action, renamed_from, author_email, length(text) AS chars, created_at"


def record(db: Database, slug: str, action: str, text: str, author_email: str | None, now: float,
           replaced_text: str | None = None, replaced_slug: str | None = None,
           replaced_at: float | None = None) -> dict:
    """Store `text` as the newest version of `slug`. `replaced_text` is what was on disk before (under
    `replaced_slug`): when the history does not end with it (the file was written outside the admin pages, or this
    is the first edit), it is kept first as a 'found' version, so nothing an admin overwrites is lost."""
    if replaced_text is not None:
        source = replaced_slug or slug
        last = db.execute("SELECT text FROM article_versions WHERE slug = ? ORDER BY id DESC LIMIT 1",
                          [source]).fetchone()
        if last is None or last[0] != replaced_text:
            db.execute("INSERT INTO article_versions (slug, action, text, created_at) VALUES (?, 'found', ?, ?)",
                       [source, replaced_text, replaced_at if replaced_at is not None else now])
    renamed_from = replaced_slug if replaced_slug and replaced_slug != slug else None
    cur = db.execute("INSERT INTO article_versions (slug, action, renamed_from, author_email, text, created_at) "
                     "VALUES (?, ?, ?, ?, ?, ?)", [slug, action, renamed_from, author_email, text, now])
    return get(db, cur.lastrowid)


def history(db: Database, slug: str, limit: int = 50) -> list[dict]:
    """Versions of one article, newest first (with those of the slug it was renamed from), without their text."""
    slugs = [slug]
    for _ in range(10):  # follow renames back a few steps
        row = db.execute("SELECT renamed_from FROM article_versions WHERE slug = ? AND renamed_from IS NOT NULL "
                         "ORDER BY id DESC LIMIT 1", [slugs[-1]]).fetchone()
        if row is None or row[0] in slugs:
            break
        slugs.append(row[0])
    marks = ", ".join("?" for _ in slugs)
    rows = db.execute(f"SELECT {LISTED} FROM article_versions WHERE slug IN ({marks}) ORDER BY id DESC LIMIT ?",
                      [*slugs, limit]).fetchall()
    return [dict(r) for r in rows]


def deleted(db: Database, limit: int = 20) -> list[dict]:
    """The latest 'deleted' version of each slug whose newest version is a deletion (not restored since)."""
    rows = db.execute(f"""
        SELECT {LISTED} FROM article_versions v
        WHERE action = 'deleted' AND id = (SELECT max(id) FROM article_versions WHERE slug = v.slug)
        ORDER BY id DESC LIMIT ?""", [limit]).fetchall()
    return [dict(r) for r in rows]


def get(db: Database, version_id: int) -> dict:
    row = db.execute(f"SELECT {LISTED}, text FROM article_versions WHERE id = ?", [version_id]).fetchone()
    if row is None:
        raise NotFound("no such article version", code="version_not_found")
    return dict(row)
