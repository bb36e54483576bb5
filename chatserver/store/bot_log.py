"""What the triage bot did, kept for the per-article funnel and the gap list."""
from __future__ import annotations

from sqlite_utils import Database


def record_suggestions(db: Database, conversation_id: int, suggestions: list[dict], now: float) -> None:
    for rank, s in enumerate(suggestions, start=1):
        db.execute("INSERT INTO article_events (conversation_id, slug, type, rank, score, created_at) "
                   "VALUES (?, ?, 'suggested', ?, ?, ?)", [conversation_id, s["slug"], rank, s["score"], now])


def record_article_event(db: Database, conversation_id: int, slug: str, type_: str, reason: str | None,
                         now: float) -> None:
    db.execute("INSERT INTO article_events (conversation_id, slug, type, reason, created_at) VALUES (?, ?, ?, ?, ?)",
               [conversation_id, slug, type_, reason, now])


def record_unanswered(db: Database, conversation_id: int, text: str, best_slug: str | None,
                      best_score: float | None, now: float) -> None:
    db.execute("INSERT INTO unanswered_questions (conversation_id, text, best_slug, best_score, created_at) "
               "VALUES (?, ?, ?, ?, ?)", [conversation_id, text, best_slug, best_score, now])


def article_events(db: Database, conversation_id: int) -> list[dict]:
    return [dict(r) for r in db.execute(
        "SELECT slug, type, rank, score, reason, created_at FROM article_events WHERE conversation_id = ? ORDER BY id",
        [conversation_id]).fetchall()]


def suggested_slugs(db: Database, conversation_id: int) -> list[str]:
    return [r[0] for r in db.execute(
        "SELECT DISTINCT slug FROM article_events WHERE conversation_id = ? AND type = 'suggested'",
        [conversation_id]).fetchall()]
