"""The post-chat survey: what is asked, when it is offered, and how answers are checked and stored.

CSAT 1-5 ("How satisfied are you with this chat?"), CES 1-7 ("The company made it easy for me to handle my
issue."), NPS 0-10 (optional, switched by the `survey_nps_enabled` setting) and a comment of up to 2,000
characters. Every answer may be skipped. See docs/protocol.md, "Surveys".
"""
from __future__ import annotations

import time

from .. import validation
from ..errors import Conflict
from ..store import surveys as survey_queries

CSAT_RANGE = (1, 5)
CES_RANGE = (1, 7)
NPS_RANGE = (0, 10)
COMMENT_MAX_CHARS = 2000
# A second submission this soon after the first corrects it; later ones are refused.
CORRECTION_SECONDS = 10 * 60
# A visitor who closed the widget before answering can still answer on a later visit, for this long.
ANSWER_WINDOW_SECONDS = 7 * 24 * 3600


def offer(settings) -> dict | None:
    """What `conversation_closed` and `session` tell the widget to ask: `{"nps": bool}`, or None when off."""
    if not settings.get("survey_enabled"):
        return None
    return {"nps": bool(settings.get("survey_nps_enabled"))}


def clean_answers(body: dict, nps_enabled: bool) -> dict:
    """The answers present in a `survey` payload, validated. A field that is absent or null is skipped;
    NPS is dropped when the NPS question is switched off. Raises InvalidPayload (out_of_range, text_too_long...)."""
    answers: dict = {}
    for name, (low, high) in (("csat", CSAT_RANGE), ("ces", CES_RANGE), ("nps", NPS_RANGE)):
        if name in body:
            answers[name] = validation.integer(body, name, minimum=low, maximum=high, required=False)
    if "comment" in body:
        answers["comment"] = validation.text(body, "comment", COMMENT_MAX_CHARS, required=False)
    if not nps_enabled:
        answers.pop("nps", None)
    return answers


def public_survey(survey: dict) -> dict:
    return {"conversation_id": survey["conversation_id"], "csat": survey["csat"], "ces": survey["ces"],
            "nps": survey["nps"], "comment": survey["comment"], "created_at": survey["created_at"],
            "updated_at": survey["updated_at"]}


async def submit(desk, visitor_id: str, body: dict) -> dict:
    """Answer (or, within the correction window, correct) the survey of one of this visitor's closed chats."""
    conversation_id = validation.integer(body, "conversation_id", minimum=1, maximum=2**53)
    offered = offer(desk.settings)
    if offered is None:
        raise Conflict("surveys are switched off", code="survey_unavailable")
    answers = clean_answers(body, offered["nps"])
    survey, corrected = await desk.store.write(
        survey_queries.save_survey, visitor_id, conversation_id, answers, time.time(),
        ANSWER_WINDOW_SECONDS, CORRECTION_SECONDS)
    return {"ok": True, "conversation_id": conversation_id, "survey": public_survey(survey), "corrected": corrected}


async def pending_for_session(desk, visitor_id: str, open_conversation: dict | None) -> dict:
    """`survey: {conversation_id, nps}` for the visitor's `session` when their last closed chat awaits an answer
    (and they are not in a new chat meanwhile)."""
    offered = offer(desk.settings)
    if offered is None or open_conversation is not None:
        return {}
    since = time.time() - ANSWER_WINDOW_SECONDS
    conversation_id = await desk.store.read(survey_queries.pending_survey, visitor_id, since)
    if conversation_id is None:
        return {}
    return {"survey": {"conversation_id": conversation_id, **offered}}


async def list_surveys(desk, cursor: int | None, limit: int) -> dict:
    """A page of answered surveys (the API's list), newest first, with the next page's cursor or None."""
    found = await desk.store.read(survey_queries.list_surveys, cursor, limit + 1)
    page = found[:limit]
    return {"ok": True, "surveys": page,
            "next_cursor": str(page[-1]["conversation_id"]) if len(found) > limit else None}
