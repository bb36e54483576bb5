"""`python run.py --demo-data`: fill a fresh data dir with a month of realistic help-desk traffic, so the reports
page (and the console's history) has something to show on first run.

Everything is written through the normal store functions at the times it "happened": visitors write to the bot,
the bot suggests articles (opened, helpful or not, with reasons), questions it cannot answer go to the gap list,
visitors ask for a person, agents on shift pick chats up, answer and close them, visitors answer the survey.
Agents follow shifts (presence log). A fixed random seed makes the data the same on every run.
"""
from __future__ import annotations

import asyncio
import math
import random
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from .config import Config
from .desk import surveys
from .desk.agents import ensure_first_admin
from .passwords import hash_password
from .store import Store, create_store
from .store import agents as agent_queries
from .store import bot_log
from .store import conversations as conv_queries
from .store import quality as quality_queries
from .store import receipts as receipt_queries
from .store import reports as report_queries
from .store import surveys as survey_queries
from .store import visitors as visitor_queries

DEMO_AGENT_PASSWORD = "demo-agent-password"
# name, email, departments, shift start hour (UTC), works weekends
DEMO_AGENTS = [
    ("Dana Whitfield", "dana@demo.example", ["orders", "shipping"], 7, False),
    ("Sam Okafor", "sam@demo.example", ["billing"], 8, True),
    ("Lena Brandt", "lena@demo.example", ["returns", "orders"], 9, False),
    ("Marco Rossi", "marco@demo.example", ["account", "privacy"], 11, True),
    ("Aiko Tanaka", "aiko@demo.example", [], 13, False),
]
SHIFT_HOURS = 8
# Questions the sample knowledge base has no article for: the gap list. Several wordings per topic.
GAP_TOPICS = [
    ["Do you offer gift wrapping?", "can you gift wrap my order", "Is gift wrap available?"],
    ["Do you ship to the Canary Islands?", "shipping to canary islands", "Can you deliver to Tenerife?"],
    ["Can I pay with bitcoin?", "do you accept crypto", "bitcoin payment possible?"],
    ["Do you have a shop in Berlin?", "store in berlin", "Is there a physical store in Berlin"],
    ["Is there a student discount?", "student discount", "discount for students?"],
    ["Do you price match?", "price match with other shops", "Will you match a cheaper price?"],
    ["Can I collect my order in person?", "click and collect", "pick up my order myself"],
    ["Are your products vegan?", "is the leather vegan"],
]
NOT_HELPFUL_REASONS = ["Doesn't cover my case", "I already tried that", "Too long to read", "The information is outdated",
                       None, None]
AGENT_OPENERS = ["Hi, thanks for waiting! Let me look into this for you.", "Hello! I'm on it.",
                 "Hi there, happy to help. Could you give me your order number?",
                 "Thanks for reaching out. Let me check that for you."]
AGENT_CLOSERS = ["All sorted now. Anything else I can do?", "Done! You'll get a confirmation email shortly.",
                 "I've fixed that on our side. Have a great day!", "That's taken care of. Thanks for your patience."]
VISITOR_REPLIES = ["The order number is {n}.", "Thanks, it's order {n}", "Sure: {n}", "Yes please, order {n}."]
COMMENTS = {
    "happy": ["Super quick and friendly, thank you!", "Sam sorted it in two minutes. Great service.",
              "The article answered my question right away.", "Very helpful, thanks!",
              "Easy and fast. Exactly what I needed.", "Friendly agent, problem solved."],
    "neutral": ["OK in the end, but I had to explain twice.", "Fine, though the wait was a bit long.",
                "Got my answer, the bot suggestions were not really relevant."],
    "unhappy": ["Waited far too long for someone to answer.", "The bot kept sending me articles that didn't help.",
                "Still no refund, this is frustrating.", "Nobody answered, I gave up."],
}


@dataclass
class DemoChat:
    """One planned conversation; times are seconds after `start`."""
    start: float
    visitor_id: str
    question: str
    department: str | None = None
    suggested: list[str] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)
    helpful: str | None = None
    not_helpful: tuple[str, str | None] | None = None
    unanswered: bool = False
    handoff: str | None = None
    queued_after: float | None = None
    agent: str | None = None
    assigned_after: float | None = None
    responded_after: float | None = None
    sent_article: str | None = None
    closed_after: float = 60.0
    closed_by: str = "visitor"
    resolution: str = "resolved"
    survey: dict | None = None
    quality: dict | None = None      # the widget's report and the wait estimate shown (docs/quality.md)


def fill_demo_data(config: Config, conversations: int = 320, days: int = 30, seed: int = 7) -> dict:
    """Synchronous entry point for run.py (called before the server starts)."""
    return asyncio.run(fill_demo_data_async(config, conversations=conversations, days=days, seed=seed))


async def fill_demo_data_async(config: Config, conversations: int = 320, days: int = 30, seed: int = 7,
                               now: float | None = None) -> dict:
    """Create the schema and fill it; does nothing if the database already holds conversations."""
    store = create_store(config)
    await store.start()
    try:
        if await store.read(report_queries.count_conversations):
            where = "the database" if config.database_url else config.db_path
            print(f"Demo data: {where} already has conversations; nothing added.", flush=True)
            return {"conversations": 0, "skipped": True}
        # The first admin exactly as on a normal first start (printed password), before the demo agents exist.
        await _create_first_admin(config, store)
        agents = await _create_agents(store, config)
        rng = random.Random(seed)
        now = now or time.time()
        articles = _articles(config)
        plan = plan_chats(rng, articles, agents, now, days, conversations)
        plan_quality(random.Random(seed + 15), plan)     # its own generator: the rest of the plan stays as it was
        for start in range(0, len(plan), 50):
            await store.write(_write_chats, plan[start:start + 50], agents)
        await store.write(_write_presence, presence_plan(rng, agents, now, days))
        surveys_answered = sum(1 for c in plan if c.survey)
        print(f"Demo data: {len(plan)} conversations over the last {days} days, {surveys_answered} surveys, "
              f"{len(agents)} agents ({', '.join(a['email'] for a in agents.values())}, "
              f"password {DEMO_AGENT_PASSWORD}).", flush=True)
        return {"conversations": len(plan), "surveys": surveys_answered, "agents": len(agents), "skipped": False}
    finally:
        await store.close()


async def _create_first_admin(config: Config, store: Store) -> None:
    await ensure_first_admin(store, config)


async def _create_agents(store: Store, config: Config) -> dict[str, dict]:
    existing = {a["email"]: a for a in await store.read(agent_queries.list_agents)}
    password_hash = hash_password(DEMO_AGENT_PASSWORD)
    agents = {}
    for name, email, departments, shift_start, weekends in DEMO_AGENTS:
        agent = existing.get(email) or await store.write(
            agent_queries.create_agent, email, name, password_hash, "agent", config.default_max_chats, departments,
            time.time())
        agents[email] = {**agent, "shift_start": shift_start, "weekends": weekends}
    return agents


def _articles(config: Config) -> list[dict]:
    from triage import KnowledgeBase

    kb = KnowledgeBase.load(config.kb_dir)
    found = [{"slug": a.slug, "title": a.title, "department": a.department,
              "questions": list(a.questions) or [a.title]} for a in kb.articles.values() if a.published]
    if not found:
        found = [{"slug": "track-order", "title": "Track your order", "department": "orders",
                  "questions": ["Where is my order?"]}]
    return sorted(found, key=lambda a: a["slug"])


# -- planning (pure: random choices only) -------------------------------------------------------------------

def _on_shift(agent: dict, moment: datetime) -> bool:
    if moment.weekday() >= 5 and not agent["weekends"]:
        return False
    return agent["shift_start"] <= moment.hour < agent["shift_start"] + SHIFT_HOURS


def _start_times(rng: random.Random, now: float, days: int, count: int) -> list[float]:
    """Business-hours-shaped arrival times over the last `days` days (fewer at weekends and at night)."""
    hour_weight = [0.2, 0.1, 0.1, 0.1, 0.2, 0.4, 0.8, 1.4, 2.2, 3.0, 3.4, 3.3, 2.8, 3.0, 3.2, 3.0, 2.6, 2.2,
                   1.8, 1.6, 1.4, 1.0, 0.7, 0.4]
    today = datetime.fromtimestamp(now, timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    slots, weights = [], []
    for d in range(days):
        day = today - timedelta(days=days - 1 - d)
        weekend = 0.55 if day.weekday() >= 5 else 1.0
        growth = 0.85 + 0.3 * d / max(1, days - 1)     # a little busier lately
        for hour in range(24):
            slot = day + timedelta(hours=hour)
            if slot.timestamp() + 3600 > now:
                continue
            slots.append(slot.timestamp())
            weights.append(hour_weight[hour] * weekend * growth)
    picks = rng.choices(slots, weights=weights, k=count)
    return sorted(p + rng.uniform(0, 3500) for p in picks)


def _lognormal(rng: random.Random, median: float, spread: float) -> float:
    return median * math.exp(rng.gauss(0, spread))


def plan_chats(rng: random.Random, articles: list[dict], agents: dict[str, dict], now: float, days: int,
               count: int) -> list[DemoChat]:
    by_slug = {a["slug"]: a for a in articles}
    misleading = by_slug.get("shipping-costs-times", articles[0])["slug"]   # often suggested, rarely helps
    previous_visitors: list[tuple[str, float]] = []
    plan = []
    for n, start in enumerate(_start_times(rng, now, days, count)):
        returning = [v for v, last in previous_visitors if last < start - 86400]
        visitor_id = rng.choice(returning) if returning and rng.random() < 0.15 else f"demo-{n:04d}-{rng.randrange(16**6):06x}"
        chat = _plan_one(rng, articles, by_slug, misleading, agents, start, visitor_id)
        if chat.start + chat.closed_after > now - 60:
            continue   # keep every demo chat closed
        previous_visitors.append((visitor_id, chat.start + chat.closed_after))
        plan.append(chat)
    return plan


def _plan_one(rng, articles, by_slug, misleading, agents, start, visitor_id) -> DemoChat:
    article = rng.choice(articles)
    scenario = rng.choices(["deflected", "bot_abandoned", "not_helpful", "no_match", "visitor_asked"],
                           weights=[30, 8, 22, 15, 25])[0]
    question = rng.choice(article["questions"])
    chat = DemoChat(start=start, visitor_id=visitor_id, question=question, department=article["department"])
    others = [a["slug"] for a in rng.sample(articles, k=min(3, len(articles))) if a["slug"] != article["slug"]]
    if scenario == "no_match":
        chat.question = rng.choice(rng.choice(GAP_TOPICS))
        chat.unanswered = True
        chat.department = None
        chat.handoff = "no_match"
        chat.queued_after = rng.uniform(20, 90)
    else:
        target = misleading if scenario == "not_helpful" and rng.random() < 0.35 else article["slug"]
        if target == misleading:
            chat.department = by_slug[misleading]["department"]
        chat.suggested = [target] + others[:rng.choice([0, 0, 1, 2])]
        if scenario == "not_helpful" and misleading not in chat.suggested and rng.random() < 0.5:
            chat.suggested.append(misleading)
        if scenario == "deflected":
            chat.opened = [target] if rng.random() < 0.9 else []
            chat.helpful = target
            chat.resolution = "deflected"
            chat.closed_after = rng.uniform(45, 400)
        elif scenario == "bot_abandoned":
            chat.opened = [target] if rng.random() < 0.4 else []
            chat.resolution = "abandoned"
            chat.closed_after = rng.uniform(20, 300)
        elif scenario == "not_helpful":
            chat.opened = [target]
            chat.not_helpful = (target, rng.choice(NOT_HELPFUL_REASONS))
            chat.handoff = "not_helpful"
            chat.queued_after = rng.uniform(60, 300)
        else:
            if rng.random() < 0.5:
                chat.suggested = []
                chat.question = rng.choice(["Can I talk to a person?", "I'd like to speak to someone",
                                            "agent please", "Talk to a human"])
            chat.handoff = "visitor_asked"
            chat.queued_after = rng.uniform(5, 90)
    if chat.queued_after is not None:
        _plan_agent_part(rng, chat, agents, by_slug)
    chat.survey = _plan_survey(rng, chat)
    return chat


def _plan_agent_part(rng, chat: DemoChat, agents: dict[str, dict], by_slug) -> None:
    queued_at = datetime.fromtimestamp(chat.start + chat.queued_after, timezone.utc)
    on_shift = [a for a in agents.values() if _on_shift(a, queued_at)]
    busy_hour = 10 <= queued_at.hour < 16
    wait = _lognormal(rng, 22 if busy_hour else 12, 0.9) * (1.6 if len(on_shift) <= 1 else 1.0)
    if not on_shift or rng.random() < 0.06 or wait > 600:
        chat.resolution = "abandoned"            # nobody there, or the visitor gave up waiting
        chat.closed_after = chat.queued_after + min(wait, rng.uniform(60, 500))
        return
    preferred = [a for a in on_shift if chat.department in a["departments"]] or on_shift
    agent = rng.choice(preferred)
    chat.agent = agent["email"]
    chat.assigned_after = chat.queued_after + wait
    chat.responded_after = chat.assigned_after + _lognormal(rng, 14, 0.8)
    if rng.random() < 0.12 and by_slug:
        chat.sent_article = rng.choice(list(by_slug))
    chat.closed_after = chat.responded_after + rng.uniform(120, 1200)
    chat.closed_by = "agent" if rng.random() < 0.8 else "visitor"
    chat.resolution = "resolved"


def _plan_survey(rng, chat: DemoChat) -> dict | None:
    if rng.random() > 0.45:
        return {} if rng.random() < 0.06 else None
    mood = 0.9
    if chat.resolution == "deflected":
        mood = 1.2
    if chat.resolution == "abandoned":
        mood = -0.6
    if chat.not_helpful:
        mood -= 0.3
    if chat.responded_after is not None and chat.assigned_after is not None:
        waited = chat.responded_after - chat.queued_after
        mood -= 0.8 if waited > 120 else (0.3 if waited > 60 else -0.2)
    mood += rng.gauss(0, 0.7)
    csat = max(1, min(5, round(3.4 + mood * 1.1)))
    survey: dict = {"csat": csat}
    if rng.random() < 0.9:
        survey["ces"] = max(1, min(7, round(4.8 + mood * 1.4 + rng.gauss(0, 0.6))))
    if rng.random() < 0.8:
        survey["nps"] = max(0, min(10, round(7.2 + mood * 1.9 + rng.gauss(0, 1.0))))
    if rng.random() < 0.3:
        tone = "happy" if csat >= 4 else ("neutral" if csat == 3 else "unhappy")
        survey["comment"] = rng.choice(COMMENTS[tone])
    return survey


def plan_quality(rng: random.Random, plan: list[DemoChat]) -> None:
    """What each visitor experienced: most on a good line, some on a flaky one (reconnects, slow acks, a message
    not sent), more of them among the unhappy; a wait estimate for chats that queued, sometimes far off."""
    for chat in plan:
        unhappy = bool(chat.survey) and chat.survey.get("csat", 5) <= 2
        flaky = rng.random() < (0.35 if unhappy else 0.1)
        quality: dict = {"estimate": None, "widget": None}
        if chat.queued_after is not None:
            waited = (chat.assigned_after or chat.closed_after) - chat.queued_after
            quality["estimate"] = round(max(15.0, waited * _lognormal(rng, 1.0, 0.5 if not unhappy else 0.9)), 0)
        if rng.random() < 0.85:        # the rest: measurement off on their site, or gone before the first report
            sends = 1 + (2 if chat.agent else 0)
            acks = sorted(_lognormal(rng, 900 if flaky else 60, 0.7) for _ in range(sends))
            replies = 1 + (2 if chat.agent else 0) + (1 if chat.helpful else 0)
            deliveries = sorted(_lognormal(rng, 2500 if flaky else 250, 0.8) for _ in range(replies))
            reconnects = (1 + int(rng.random() < 0.4)) if flaky and rng.random() < 0.8 else int(rng.random() < 0.04)
            quality["widget"] = {
                "connect_ms": round(_lognormal(rng, 1200 if flaky else 350, 0.6)), "reconnects": reconnects,
                "offline_seconds": round(sum(rng.uniform(2, 40) for _ in range(reconnects)), 1), "acks": sends,
                "ack_p50_ms": round(acks[len(acks) // 2]), "ack_p95_ms": round(acks[-1]), "ack_max_ms": round(acks[-1]),
                "resends": int(flaky and rng.random() < 0.5), "not_sent": int(rng.random() < (0.12 if flaky else 0.01)),
                "delivery_p50_ms": round(deliveries[len(deliveries) // 2]), "delivery_p95_ms": round(deliveries[-1]),
                "delivery_max_ms": round(deliveries[-1]), "clock_offset_ms": round(rng.gauss(0, 400)),
                "hidden_replies": rng.randint(0, replies // 2), "replies": replies,
            }
        chat.quality = quality


def presence_plan(rng: random.Random, agents: dict[str, dict], now: float, days: int) -> list[tuple[int, str, float]]:
    """Online at shift start (give or take), away for lunch, away at the end of the shift."""
    today = datetime.fromtimestamp(now, timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
    events = []
    for d in range(days):
        day = today - timedelta(days=days - 1 - d)
        for agent in agents.values():
            if day.weekday() >= 5 and not agent["weekends"]:
                continue
            if rng.random() < 0.07:
                continue   # day off
            begin = day + timedelta(hours=agent["shift_start"], minutes=rng.uniform(-10, 10))
            lunch = begin + timedelta(hours=4, minutes=rng.uniform(-20, 20))
            back = lunch + timedelta(minutes=rng.uniform(25, 45))
            end = begin + timedelta(hours=SHIFT_HOURS, minutes=rng.uniform(-5, 20))
            for status, moment in (("online", begin), ("away", lunch), ("online", back), ("away", end)):
                if moment.timestamp() < now:
                    events.append((agent["id"], status, moment.timestamp()))
    return sorted(events, key=lambda e: e[2])


# -- writing (through the store functions, in the writer thread) ---------------------------------------------

def _write_chats(db, chats: list[DemoChat], agents: dict[str, dict]) -> None:
    for chat in chats:
        _write_chat(db, chat, agents)


def _write_chat(db, chat: DemoChat, agents: dict[str, dict]) -> None:
    t0 = chat.start
    visitor_queries.get_or_create_visitor(db, chat.visitor_id, t0, "203.0.113.7",
                                          "Mozilla/5.0 (demo data)", "https://shop.example.com/help")
    stored = conv_queries.add_visitor_message(db, chat.visitor_id, f"{chat.visitor_id}-{t0:.0f}-q", chat.question,
                                              t0, "bot", "https://shop.example.com/help")
    cid = stored["conversation"]["id"]
    if chat.suggested:
        cards = [{"slug": slug, "score": round(0.75 - 0.12 * i, 2)} for i, slug in enumerate(chat.suggested)]
        bot_log.record_suggestions(db, cid, cards, t0 + 1)
        conv_queries.add_bot_message(db, cid, "These articles may answer your question:", t0 + 1, "suggestions",
                                     {"articles": [{"slug": c["slug"], "url": f"/kb/{c['slug']}"} for c in cards],
                                      "offer_agent": True})
    for slug in chat.opened:
        bot_log.record_article_event(db, cid, slug, "opened", None, t0 + 15)
    if chat.helpful:
        bot_log.record_article_event(db, cid, chat.helpful, "helpful", None, t0 + 40)
        conv_queries.add_bot_message(db, cid, "Glad that helped! Is there anything else I can do for you?", t0 + 40,
                                     "resolved_prompt", {"slug": chat.helpful, "actions": ["end_chat", "ask_more"]})
    if chat.not_helpful:
        slug, reason = chat.not_helpful
        bot_log.record_article_event(db, cid, slug, "not_helpful", reason, t0 + 40)
    if chat.unanswered:
        bot_log.record_unanswered(db, cid, chat.question, None, None, t0 + 1)
        conv_queries.add_bot_message(db, cid, "I couldn't find an article that answers this. Would you like to talk "
                                     "to a person?", t0 + 1, "no_match", {"offer_agent": True})
    if chat.queued_after is not None:
        queued_at = t0 + chat.queued_after
        conv_queries.queue_conversation(db, cid, chat.visitor_id, chat.department, chat.handoff, queued_at)
        conv_queries.add_bot_message(db, cid, "Connecting you with a person. You can keep writing while you wait.",
                                     queued_at, "handoff", {"reason": chat.handoff})
    agent = agents.get(chat.agent) if chat.agent else None
    if agent is not None:
        assigned_at = t0 + chat.assigned_after
        reason = f"assigned to {agent['name'].split()[0]}: online, free slot"
        conv_queries.assign_conversation(db, cid, agent["id"], "assigned", "system", None, reason, assigned_at,
                                         ("queued",))
        responded_at = t0 + chat.responded_after
        number = 100000 + cid * 7
        lines = [(responded_at, "agent", AGENT_OPENERS[cid % len(AGENT_OPENERS)]),
                 (responded_at + 40, "visitor", VISITOR_REPLIES[cid % len(VISITOR_REPLIES)].format(n=number)),
                 (t0 + chat.closed_after - 30, "agent", AGENT_CLOSERS[cid % len(AGENT_CLOSERS)])]
        for i, (moment, author, text) in enumerate(lines):
            if author == "agent":
                conv_queries.add_agent_message(db, conv_queries.get_conversation(db, cid), agent["id"], f"demo-{cid}-{i}",
                                               text, moment)
            else:
                conv_queries.add_visitor_message(db, chat.visitor_id, f"demo-{cid}-{i}", text, moment, "bot")
        if chat.sent_article:
            conv_queries.add_agent_message(db, conv_queries.get_conversation(db, cid), agent["id"],
                                           f"demo-{cid}-article", chat.sent_article, responded_at + 60, False, "article",
                                           {"slug": chat.sent_article, "url": f"/kb/{chat.sent_article}"})
            bot_log.record_article_event(db, cid, chat.sent_article, "sent_by_agent", None, responded_at + 60)
    closed_at = t0 + chat.closed_after
    actor = agent["id"] if agent is not None and chat.closed_by == "agent" else chat.visitor_id
    closed_by = chat.closed_by if agent is not None else "visitor"
    conv_queries.close_conversation(db, cid, closed_by, actor, chat.resolution, "demo data", closed_at)
    if chat.survey is not None:
        survey_queries.save_survey(db, chat.visitor_id, cid, dict(chat.survey), closed_at + 30,
                                   surveys.ANSWER_WINDOW_SECONDS, surveys.CORRECTION_SECONDS)
    quality = chat.quality or {}
    if quality.get("estimate") is not None:
        quality_queries.note_estimates(db, [(cid, quality["estimate"])], t0 + chat.queued_after)
    if quality.get("widget"):
        quality_queries.save_widget_report(db, cid, quality["widget"], closed_at)
    last_seq = conv_queries.get_conversation(db, cid)["last_seq"]
    receipt_queries.advance(db, cid, "visitor", None, {"delivered": last_seq, "seen": last_seq}, closed_at - 5)
    if agent is not None:
        receipt_queries.advance(db, cid, "agent", agent["id"], {"seen": last_seq}, closed_at - 10)


def _write_presence(db, events: list[tuple[int, str, float]]) -> None:
    for agent_id, status, moment in events:
        agent_queries.log_presence(db, agent_id, status, moment)
