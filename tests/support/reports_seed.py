"""Seed helper for report tests: conversations with known timings written through the store functions.

KNOWN_CHATS is a small help desk over two UTC days (Mon 2025-03-03 and Tue 2025-03-04) whose figures are worked
out by hand in tests/test_reports_api.py. Use: `await server.store.write(seed_known_desk, ana_id, ben_id)`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from chatserver.desk import surveys
from chatserver.store import agents as agent_queries
from chatserver.store import bot_log
from chatserver.store import conversations as conv_queries
from chatserver.store import surveys as survey_queries
from chatserver.store import visitors as visitor_queries

FROM, TO = "2025-03-03", "2025-03-04"


def at(day: int, hour: int, minute: int = 0) -> float:
    """Seconds since the epoch for 2025-03-0<day> hour:minute UTC."""
    return datetime(2025, 3, day, hour, minute, tzinfo=timezone.utc).timestamp()


@dataclass
class Chat:
    start: float
    question: str
    suggested: list[str] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)
    helpful: list[str] = field(default_factory=list)
    not_helpful: list[tuple[str, str]] = field(default_factory=list)
    unanswered: bool = False
    queued_after: float | None = None
    handoff: str | None = None
    department: str | None = None
    agent: str | None = None                 # "ana" | "ben"
    assigned_after: float | None = None
    responded_after: float | None = None
    closed_after: float | None = None
    closed_by: str = "visitor"
    resolution: str = "resolved"
    survey: dict | None = None               # answers; {} = dismissed


KNOWN_CHATS = [
    # 1: the bot's article helped.
    Chat(at(3, 10), "Where is my order?", suggested=["track-order", "refund-status"], opened=["track-order"],
         helpful=["track-order"], closed_after=120, resolution="deflected",
         survey={"csat": 5, "ces": 7, "nps": 10, "comment": "Great bot"}),
    # 2: article not helpful -> person. queue 30 s, first response 40 s (from joining the queue), 10 s after assignment.
    Chat(at(3, 10, 30), "My parcel tracking is stuck", suggested=["track-order"], opened=["track-order"],
         not_helpful=[("track-order", "outdated info")], queued_after=60, handoff="not_helpful", department="orders",
         agent="ana", assigned_after=90, responded_after=100, closed_after=600, closed_by="agent",
         survey={"csat": 4, "ces": 5, "nps": 8}),
    # 3: no match -> person. queue 120 s, first response 220 s (SLA breach), 100 s after assignment.
    Chat(at(3, 11), "Do you ship to Mars?", unanswered=True, queued_after=30, handoff="no_match", agent="ben",
         assigned_after=150, responded_after=250, closed_after=900, closed_by="agent",
         survey={"csat": 2, "ces": 3, "nps": 3, "comment": "<script>alert('x')</script> far too slow"}),
    # 4: asked for a person at once (overlaps chat 3). queue 10 s, first response 30 s, 20 s after assignment.
    Chat(at(3, 11, 10), "I want to talk to a person", queued_after=5, handoff="visitor_asked", department="billing",
         agent="ana", assigned_after=15, responded_after=35, closed_after=300, closed_by="agent",
         survey={"csat": 5, "ces": 6, "nps": 9}),
    # 5: no match -> person. queue 60 s, first response 70 s (breach), 10 s after assignment. CES skipped.
    Chat(at(3, 13), "do you ship to mars", unanswered=True, queued_after=10, handoff="no_match", agent="ben",
         assigned_after=70, responded_after=80, closed_after=400, closed_by="agent",
         survey={"csat": 3, "nps": 7}),
    # 6: suggestion ignored, visitor left the bot; dismissed the survey.
    Chat(at(4, 9), "refund please", suggested=["refund-status"], closed_after=50, resolution="abandoned", survey={}),
    # 7: left the queue after 180 s without an answer (SLA breach, no response). No survey.
    Chat(at(4, 10), "agent", queued_after=20, handoff="visitor_asked", closed_after=200, resolution="abandoned"),
    # 8: no match -> person. queue 30 s, first response 45 s, 15 s after assignment.
    Chat(at(4, 11), "Can I pay with bitcoin?", unanswered=True, queued_after=15, handoff="no_match", agent="ana",
         assigned_after=45, responded_after=60, closed_after=500, closed_by="agent",
         survey={"csat": 4, "ces": 6, "nps": 10, "comment": "=1+1 thanks"}),
    # 9: the bot's article helped. CES skipped.
    Chat(at(4, 12), "Where is my refund", suggested=["refund-status"], helpful=["refund-status"], closed_after=60,
         resolution="deflected", survey={"csat": 5, "nps": 6}),
]


def seed_chat(db, chat: Chat, number: int, agents: dict[str, int]) -> int:
    """Write one conversation through the store functions, at the chat's own times."""
    visitor_id = f"seed-visitor-{number}"
    t0 = chat.start
    visitor_queries.get_or_create_visitor(db, visitor_id, t0, "127.0.0.1", "pytest", "https://shop.example/")
    cid = conv_queries.add_visitor_message(db, visitor_id, f"q-{number}", chat.question, t0, "bot")["message"][
        "conversation_id"]
    if chat.suggested:
        bot_log.record_suggestions(db, cid, [{"slug": s, "score": 0.6} for s in chat.suggested], t0 + 1)
    for slug in chat.opened:
        bot_log.record_article_event(db, cid, slug, "opened", None, t0 + 2)
    for slug in chat.helpful:
        bot_log.record_article_event(db, cid, slug, "helpful", None, t0 + 3)
    for slug, reason in chat.not_helpful:
        bot_log.record_article_event(db, cid, slug, "not_helpful", reason, t0 + 3)
    if chat.unanswered:
        bot_log.record_unanswered(db, cid, chat.question, None, None, t0 + 1)
    if chat.queued_after is not None:
        conv_queries.queue_conversation(db, cid, visitor_id, chat.department, chat.handoff, t0 + chat.queued_after)
    if chat.agent is not None:
        agent_id = agents[chat.agent]
        conv_queries.assign_conversation(db, cid, agent_id, "assigned", "system", None, "seeded",
                                         t0 + chat.assigned_after, ("queued",))
        if chat.responded_after is not None:
            conv_queries.add_agent_message(db, conv_queries.get_conversation(db, cid), agent_id, f"r-{number}",
                                           "Hello, how can I help?",
                                           t0 + chat.responded_after)
    if chat.closed_after is not None:
        closed_at = t0 + chat.closed_after
        actor = agents.get(chat.agent) if chat.closed_by == "agent" else visitor_id
        conv_queries.close_conversation(db, cid, chat.closed_by, actor, chat.resolution, "seeded", closed_at)
        if chat.survey is not None:
            survey_queries.save_survey(db, visitor_id, cid, dict(chat.survey), closed_at + 10,
                                       surveys.ANSWER_WINDOW_SECONDS, surveys.CORRECTION_SECONDS)
    return cid


def seed_known_desk(db, ana_id: int, ben_id: int) -> list[int]:
    agents = {"ana": ana_id, "ben": ben_id}
    ids = [seed_chat(db, chat, n, agents) for n, chat in enumerate(KNOWN_CHATS, start=1)]
    # Presence: Ben online since the evening before (until 01:00), again 10:30-12:30; Ana 09:00-17:00 on Monday
    # and from 09:00 on Tuesday without going away.
    for agent_id, status, moment in [(ben_id, "online", at(2, 22)), (ben_id, "away", at(3, 1)),
                                     (ana_id, "online", at(3, 9)), (ben_id, "online", at(3, 10, 30)),
                                     (ben_id, "away", at(3, 12, 30)), (ana_id, "away", at(3, 17)),
                                     (ana_id, "online", at(4, 9))]:
        agent_queries.log_presence(db, agent_id, status, moment)
    return ids
