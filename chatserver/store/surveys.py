"""Post-chat surveys: one row per conversation, written only by that conversation's visitor."""
from __future__ import annotations

from sqlite_utils import Database

from ..errors import Conflict, NotFound
from . import webhooks
from .locks import row_lock

ANSWER_FIELDS = ("csat", "ces", "nps", "comment")


def get_survey(db: Database, conversation_id: int) -> dict | None:
    row = db.execute("SELECT * FROM surveys WHERE conversation_id = ?", [conversation_id]).fetchone()
    return dict(row) if row else None


def save_survey(db: Database, visitor_id: str, conversation_id: int, answers: dict, now: float,
                answer_window: float, correction_window: float) -> tuple[dict, bool]:
    """Store the visitor's answers for one of their closed conversations; returns (survey, corrected).

    `answers` holds only the fields the visitor sent (None = skipped). A second submission within
    `correction_window` seconds of the first overwrites the fields it carries; later ones are refused."""
    # Locked inside the write (PostgreSQL): two submissions for one conversation from two nodes run one after the other.
    conversation = db.execute("SELECT id, visitor_id, status, closed_at FROM conversations WHERE id = ?" + row_lock(db),
                              [conversation_id]).fetchone()
    if conversation is None or conversation["visitor_id"] != visitor_id:
        raise NotFound("no such conversation")
    if conversation["status"] != "closed":
        raise Conflict("the conversation is still open; the survey comes when it ends", code="survey_unavailable")
    if now - conversation["closed_at"] > answer_window:
        raise Conflict(f"surveys are accepted for {answer_window / 86400:g} days after the chat",
                       code="survey_expired")
    existing = get_survey(db, conversation_id)
    if existing is None:
        row = {"csat": None, "ces": None, "nps": None, "comment": None, **answers}
        db.execute("INSERT INTO surveys (conversation_id, visitor_id, csat, ces, nps, comment, created_at, updated_at) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                   [conversation_id, visitor_id, row["csat"], row["ces"], row["nps"], row["comment"], now, now])
        webhooks.enqueue(db, "survey.submitted", conversation_id, None, now,
                         data_fn=lambda _: get_survey(db, conversation_id))
        return get_survey(db, conversation_id), False
    if now - existing["created_at"] > correction_window:
        raise Conflict("this survey was already answered", code="survey_already_answered")
    if answers:
        assert set(answers) <= set(ANSWER_FIELDS)  # column names come from this fixed list only
        sets = ", ".join(f"{name} = ?" for name in answers)
        db.execute(f"UPDATE surveys SET {sets}, updated_at = ? WHERE conversation_id = ?",
                   [*answers.values(), now, conversation_id])
    return get_survey(db, conversation_id), True


def pending_survey(db: Database, visitor_id: str, since: float) -> int | None:
    """The visitor's most recently closed conversation, if it closed after `since` and has no survey yet."""
    row = db.execute(
        "SELECT c.id, c.closed_at, s.conversation_id AS answered FROM conversations c "
        "LEFT JOIN surveys s ON s.conversation_id = c.id "
        "WHERE c.visitor_id = ? AND c.status = 'closed' ORDER BY c.closed_at DESC, c.id DESC LIMIT 1",
        [visitor_id]).fetchone()
    if row is None or row["answered"] is not None or row["closed_at"] < since:
        return None
    return row["id"]


def list_surveys(db: Database, before_conversation_id: int | None, limit: int) -> list[dict]:
    """Answered surveys, newest conversation first, a page before the cursor."""
    return [dict(r) for r in db.execute(
        "SELECT * FROM surveys WHERE conversation_id < ? ORDER BY conversation_id DESC LIMIT ?",
        [before_conversation_id or 2**62, limit]).fetchall()]
