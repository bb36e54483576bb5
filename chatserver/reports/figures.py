"""Report figures as pure functions over plain rows (dicts from chatserver/store/reports.py): no sockets, no
SQL, no clock, so every figure can be checked by hand. Definitions are in docs/reports.md.

Conventions: days are UTC; durations are seconds; percentages are 0-100 with one decimal; `None` means "no data"
(never 0, which would be a real value). Medians average the two middle values; p90 is the nearest-rank 90th
percentile (the value at position ceil(0.9 n) of the sorted list), so it is always a value that happened.
"""
from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from datetime import datetime, timezone
from typing import Iterable

from urllib.parse import urlencode

from rapidfuzz import fuzz, process, utils

from triage.grouping import group_by_meaning, most_typical

from .parameters import ReportParams

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# An article is flagged when it was suggested in at least this many chats and helped in fewer than this share.
FLAG_MIN_SUGGESTED = 5
FLAG_MAX_HELPFUL_RATE = 0.2
# Two unanswered questions belong together when their content words are this similar (rapidfuzz, 0-100).
GAP_SIMILARITY = 70
# A group's trend: "rising" when its later half of the range has at least this many times the earlier half's count
# and at least GAP_TREND_MIN more (so 1 -> 2 is steady); "falling" the other way round.
GAP_TREND_RATIO = 1.5
GAP_TREND_MIN = 2
GAP_START_QUESTIONS = 10        # wordings a "Start an article" link puts in the new article's example questions
GAP_STOP_WORDS = frozenset(
    "a an the i im me my we our you your do does did is are was be been can could would should will to of in on at "
    "for with and or but it its this that there have has had how what when where which who why please hi hello hey "
    "any some get".split())


def day_of(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).date().isoformat()


# -- statistics -----------------------------------------------------------------------------------------------

def median(values: Iterable[float]) -> float | None:
    values = list(values)
    return round(statistics.median(values), 1) if values else None


def p90(values: Iterable[float]) -> float | None:
    """Nearest-rank 90th percentile."""
    values = sorted(values)
    if not values:
        return None
    return round(values[math.ceil(0.9 * len(values)) - 1], 1)


def mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return round(statistics.fmean(values), 2) if values else None


def percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


# -- what a conversation was ------------------------------------------------------------------------------------

def handled_by(conversation: dict) -> str:
    """`agent` (a person joined), `queue` (asked for a person, left before one joined) or `bot` (never asked)."""
    if conversation["first_assigned_at"] is not None:
        return "agent"
    if conversation["queued_at"] is not None or conversation["handoff_reason"] is not None:
        return "queue"
    return "bot"


def waiting_since(conversation: dict) -> float | None:
    """When the visitor started waiting for a person: their first message, or joining the queue if later
    (time spent with the bot first is not an agent's delay)."""
    starts = [t for t in (conversation["first_visitor_message_at"], conversation["queued_at"]) if t is not None]
    if not starts:
        return conversation["created_at"] if conversation["first_assigned_at"] is not None else None
    return max(starts)


def first_response_seconds(conversation: dict, hours=None) -> float | None:
    """Calendar seconds, or with `hours` (chatserver/business_hours.BusinessHours) business seconds only."""
    start = waiting_since(conversation)
    if start is None or conversation["first_agent_response_at"] is None:
        return None
    return _elapsed(start, conversation["first_agent_response_at"], hours)


def _elapsed(start: float, end: float, hours) -> float:
    return max(0.0, end - start) if hours is None else hours.business_seconds(start, end)


def queue_seconds(conversation: dict) -> float | None:
    if conversation["first_assigned_at"] is None:
        return None
    start = conversation["queued_at"] if conversation["queued_at"] is not None else conversation["created_at"]
    return max(0.0, conversation["first_assigned_at"] - start)


def response_after_assignment_seconds(conversation: dict) -> float | None:
    if conversation["first_agent_response_at"] is None or conversation["first_assigned_at"] is None:
        return None
    return max(0.0, conversation["first_agent_response_at"] - conversation["first_assigned_at"])


def resolution_seconds(conversation: dict) -> float | None:
    """From the visitor's first message to the close, for chats that ended resolved or deflected."""
    if conversation["closed_at"] is None or conversation["resolution"] not in ("resolved", "deflected"):
        return None
    start = conversation["first_visitor_message_at"] or conversation["created_at"]
    return max(0.0, conversation["closed_at"] - start)


def sla_breach(conversation: dict, sla_seconds: float, now: float, hours=None) -> float | None:
    """Seconds waited (business seconds with `hours`) when the first response missed the SLA (also when nobody
    answered for longer than the SLA before the chat ended); None when the SLA was met or does not apply."""
    frt = first_response_seconds(conversation, hours)
    if frt is not None:
        return frt if frt > sla_seconds else None
    start = waiting_since(conversation)
    if start is None or handled_by(conversation) == "bot":
        return None
    end = conversation["closed_at"] if conversation["closed_at"] is not None else now
    waited = _elapsed(start, end, hours)
    return waited if waited > sla_seconds else None


def is_survey_response(conversation: dict) -> bool:
    return any(conversation.get(k) is not None for k in ("csat", "ces", "nps", "comment"))


# -- grouping -------------------------------------------------------------------------------------------------

def group_key(conversation: dict, group_by: str) -> str:
    if group_by == "day":
        return day_of(conversation["created_at"])
    if group_by == "agent":
        return conversation["agent_name"] or "(no agent)"
    if group_by == "department":
        return conversation["department"] or "(none)"
    return handled_by(conversation)


def grouped(conversations: list[dict], params: ReportParams, metric) -> dict:
    """`total` over every conversation plus, with group_by, one row per group (every day of the range for `day`)."""
    result = {"total": metric(conversations), "groups": []}
    if params.group_by is None:
        return result
    buckets: dict[str, list[dict]] = defaultdict(list)
    for conversation in conversations:
        if params.group_by == "label":      # a conversation counts once under each of its labels
            for label in conversation.get("labels") or ["(no label)"]:
                buckets[label].append(conversation)
        else:
            buckets[group_key(conversation, params.group_by)].append(conversation)
    keys = [d.isoformat() for d in params.days()] if params.group_by == "day" else sorted(buckets)
    result["groups"] = [{"group": key, **metric(buckets.get(key, []))} for key in keys]
    return result


def rolling(conversations: list[dict], params: ReportParams, metric, window_days: int = 7) -> list[dict]:
    """For each day of the range, `metric` over the conversations of that day and the `window_days - 1` before it
    (inside the range): smooth trend lines even when a day has only a few answers."""
    by_day: dict[str, list[dict]] = defaultdict(list)
    for conversation in conversations:
        by_day[day_of(conversation["created_at"])].append(conversation)
    days = [d.isoformat() for d in params.days()]
    rows = []
    for i, day in enumerate(days):
        window = [c for d in days[max(0, i - window_days + 1): i + 1] for c in by_day.get(d, [])]
        rows.append({"group": day, **metric(window)})
    return rows


# -- the reports ----------------------------------------------------------------------------------------------

def satisfaction_figures(conversations: list[dict]) -> dict:
    closed = [c for c in conversations if c["closed_at"] is not None]
    responses = [c for c in closed if is_survey_response(c)]
    csat = [c["csat"] for c in responses if c["csat"] is not None]
    ces = [c["ces"] for c in responses if c["ces"] is not None]
    nps = [c["nps"] for c in responses if c["nps"] is not None]
    promoters = sum(1 for n in nps if n >= 9)
    detractors = sum(1 for n in nps if n <= 6)
    return {
        "closed": len(closed),
        "responses": len(responses),
        "dismissed": sum(1 for c in closed if c["survey_at"] is not None and not is_survey_response(c)),
        "response_rate": percent(len(responses), len(closed)),
        "csat_count": len(csat),
        "csat_satisfied": sum(1 for v in csat if v >= 4),
        "csat_pct": percent(sum(1 for v in csat if v >= 4), len(csat)),
        "csat_mean": mean(csat),
        "ces_count": len(ces),
        "ces_agree": sum(1 for v in ces if v >= 5),
        "ces_agree_pct": percent(sum(1 for v in ces if v >= 5), len(ces)),
        "ces_mean": mean(ces),
        "nps_count": len(nps),
        "promoters": promoters,
        "passives": len(nps) - promoters - detractors,
        "detractors": detractors,
        "nps": round(100.0 * (promoters - detractors) / len(nps), 1) if nps else None,
    }


def satisfaction(conversations: list[dict], params: ReportParams) -> dict:
    return grouped(conversations, params, satisfaction_figures)


def speed_figures(conversations: list[dict], sla_seconds: float, now: float, hours=None) -> dict:
    """First response and the SLA in business time (`hours`; all of it when there is no schedule), with the
    first response in calendar time beside."""
    queue = [v for v in map(queue_seconds, conversations) if v is not None]
    frt = [v for v in (first_response_seconds(c, hours) for c in conversations) if v is not None]
    frt_calendar = [v for v in map(first_response_seconds, conversations) if v is not None]
    after_assignment = [v for v in map(response_after_assignment_seconds, conversations) if v is not None]
    resolution = [v for v in map(resolution_seconds, conversations) if v is not None]
    breaches = sum(1 for c in conversations if sla_breach(c, sla_seconds, now, hours) is not None)
    met = sum(1 for v in frt if v <= sla_seconds)
    return {
        "conversations": len(conversations),
        "with_agent": sum(1 for c in conversations if c["first_assigned_at"] is not None),
        "queue_median": median(queue), "queue_p90": p90(queue),
        "first_response_median": median(frt), "first_response_p90": p90(frt),
        "first_response_calendar_median": median(frt_calendar), "first_response_calendar_p90": p90(frt_calendar),
        "first_response_after_assignment_median": median(after_assignment),
        "first_response_after_assignment_p90": p90(after_assignment),
        "resolution_median": median(resolution), "resolution_p90": p90(resolution),
        "sla_met": met,
        "sla_breaches": breaches,
        "sla_pct": percent(met, met + breaches),
    }


def breach_list(conversations: list[dict], sla_seconds: float, now: float, hours=None) -> list[dict]:
    rows = []
    for c in conversations:
        waited = sla_breach(c, sla_seconds, now, hours)
        if waited is None:
            continue
        calendar = sla_breach(c, -1.0, now)
        rows.append({"conversation_id": c["id"], "date": day_of(c["created_at"]), "agent": c["agent_name"],
                     "department": c["department"], "waited_seconds": round(waited, 1),
                     "waited_calendar_seconds": round(calendar, 1) if calendar is not None else None,
                     "answered": c["first_agent_response_at"] is not None})
    return sorted(rows, key=lambda r: -r["waited_seconds"])


def speed(conversations: list[dict], params: ReportParams, sla_seconds: float, now: float, hours=None) -> dict:
    result = grouped(conversations, params, lambda cs: speed_figures(cs, sla_seconds, now, hours))
    result["sla_seconds"] = sla_seconds
    result["breaches"] = breach_list(conversations, sla_seconds, now, hours)
    return result


def bot_figures(conversations: list[dict]) -> dict:
    reasons = Counter(c["handoff_reason"] for c in conversations if c["handoff_reason"])
    deflected = sum(1 for c in conversations if c["resolution"] == "deflected")
    return {
        "conversations": len(conversations),
        "deflected": deflected,
        "deflection_rate": percent(deflected, len(conversations)),
        "handed_off": sum(reasons.values()),
        "visitor_asked": reasons.get("visitor_asked", 0),
        "not_helpful": reasons.get("not_helpful", 0),
        "no_match": reasons.get("no_match", 0),
        "abandoned": sum(1 for c in conversations if c["resolution"] == "abandoned"),
    }


def bot(conversations: list[dict], params: ReportParams) -> dict:
    return grouped(conversations, params, bot_figures)


def article_funnel(article_events: list[dict], conversations: list[dict]) -> list[dict]:
    """Per article, counted in conversations: suggested -> opened -> helpful / not helpful -> escalated anyway
    (the chat entered the queue after the suggestion), and the CSAT of those chats."""
    by_id = {c["id"]: c for c in conversations}
    stages: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    first_suggested: dict[tuple[str, int], float] = {}
    reasons: dict[str, Counter] = defaultdict(Counter)
    for event in article_events:
        cid = event["conversation_id"]
        if cid not in by_id:
            continue
        stages[event["slug"]][event["type"]].add(cid)
        if event["type"] == "suggested":
            key = (event["slug"], cid)
            first_suggested[key] = min(first_suggested.get(key, event["created_at"]), event["created_at"])
        if event["type"] == "not_helpful" and event["reason"]:
            reasons[event["slug"]][event["reason"].strip()] += 1
    rows = []
    for slug, by_type in stages.items():
        suggested = by_type["suggested"]
        escalated = {cid for cid in suggested if by_id[cid]["queued_at"] is not None
                     and by_id[cid]["queued_at"] >= first_suggested[(slug, cid)]}
        csat = [by_id[cid]["csat"] for cid in suggested if by_id[cid]["csat"] is not None]
        escalated_csat = [by_id[cid]["csat"] for cid in escalated if by_id[cid]["csat"] is not None]
        helpful_rate = len(by_type["helpful"] & suggested) / len(suggested) if suggested else None
        rows.append({
            "slug": slug,
            "suggested": len(suggested),
            "opened": len(by_type["opened"]),
            "helpful": len(by_type["helpful"]),
            "not_helpful": len(by_type["not_helpful"]),
            "escalated": len(escalated),
            "sent_by_agent": len(by_type["sent_by_agent"]),
            "helpful_pct": percent(len(by_type["helpful"] & suggested), len(suggested)),
            "csat_count": len(csat),
            "csat_pct": percent(sum(1 for v in csat if v >= 4), len(csat)),
            "escalated_csat_pct": percent(sum(1 for v in escalated_csat if v >= 4), len(escalated_csat)),
            "not_helpful_reasons": [{"reason": r, "count": n} for r, n in reasons[slug].most_common(5)],
            "flagged": bool(suggested) and len(suggested) >= FLAG_MIN_SUGGESTED
                       and helpful_rate is not None and helpful_rate < FLAG_MAX_HELPFUL_RATE,
        })
    return sorted(rows, key=lambda r: (-r["suggested"], -r["sent_by_agent"], r["slug"]))


def funnel_totals(article_events: list[dict], conversations: list[dict]) -> dict:
    """The same funnel counted in distinct conversations, whatever the article."""
    by_id = {c["id"]: c for c in conversations}
    stages: dict[str, set] = defaultdict(set)
    first_suggested: dict[int, float] = {}
    for event in article_events:
        cid = event["conversation_id"]
        if cid in by_id:
            stages[event["type"]].add(cid)
            if event["type"] == "suggested":
                first_suggested[cid] = min(first_suggested.get(cid, event["created_at"]), event["created_at"])
    escalated = {cid for cid, at in first_suggested.items()
                 if by_id[cid]["queued_at"] is not None and by_id[cid]["queued_at"] >= at}
    return {"suggested": len(stages["suggested"]), "opened": len(stages["opened"]), "helpful": len(stages["helpful"]),
            "not_helpful": len(stages["not_helpful"]), "escalated": len(escalated)}


def _gap_words(text: str) -> str:
    return " ".join(w for w in utils.default_process(text).split() if w not in GAP_STOP_WORDS)


def gap_similarity(a: str, b: str, **_) -> float:
    """Word-order-free similarity of two questions' content words. Subset matching (token set) only when both
    have two words or more, so a one-word question ("order") does not swallow every question containing it."""
    if len(a.split()) >= 2 and len(b.split()) >= 2:
        return max(fuzz.token_set_ratio(a, b), fuzz.token_sort_ratio(a, b))
    return fuzz.token_sort_ratio(a, b)


def _groups_by_words(words: list[str]) -> list[list[int]]:
    """Each question joins the first group whose opening question is similar enough in its content words."""
    groups: list[list[int]] = []
    openers: list[str] = []
    for i, text in enumerate(words):
        found = process.extractOne(text, openers, scorer=gap_similarity, score_cutoff=GAP_SIMILARITY) \
            if openers else None
        if found is None:
            openers.append(text)
            groups.append([i])
        else:
            groups[found[2]].append(i)
    return groups


def _trend(items: list[dict], period: tuple[float, float] | None) -> tuple[str, int, int]:
    """("rising" | "falling" | "steady", times asked in the earlier half of the range, in the later half)."""
    if period is None:
        return "steady", len(items), 0
    middle = (period[0] + period[1]) / 2
    later = sum(q["created_at"] >= middle for q in items)
    earlier = len(items) - later
    if later >= GAP_TREND_RATIO * earlier and later - earlier >= GAP_TREND_MIN:
        return "rising", earlier, later
    if earlier >= GAP_TREND_RATIO * later and earlier - later >= GAP_TREND_MIN:
        return "falling", earlier, later
    return "steady", earlier, later


def gap_list(questions: list[dict], meaning=None, period: tuple[float, float] | None = None) -> list[dict]:
    """Unanswered visitor questions grouped, biggest groups first. With `meaning` (an object with `vectors(texts)`,
    sentence vectors or None, and `closest(text)`, (slug, score) or None: reports/meaning.py) they are grouped by
    meaning (triage.grouping, with the content-word similarity as a second opinion) and each group is labelled with
    its most typical wording; without it, by content words alone, labelled with the most frequent wording."""
    ordered = sorted(questions, key=lambda q: (q["created_at"], q["id"]))
    words = [_gap_words(q["text"]) or utils.default_process(q["text"]) for q in ordered]
    vectors = meaning.vectors([q["text"] for q in ordered]) if meaning is not None and ordered else None
    if vectors is not None:
        groups = group_by_meaning(vectors, also=lambda i, j: gap_similarity(words[i], words[j]) >= GAP_SIMILARITY)
    else:
        groups = _groups_by_words(words)
    rows = []
    for members in groups:
        items = [ordered[i] for i in members]
        texts = Counter(q["text"].strip() for q in items)
        if vectors is not None:
            label = ordered[most_typical(vectors, members)]["text"].strip()
        else:
            label = max(texts.items(), key=lambda kv: kv[1])[0] if texts else ""
        closest = meaning.closest(label) if meaning is not None else None
        if closest is None:
            best = Counter(q["best_slug"] for q in items if q.get("best_slug"))
            slug = best.most_common(1)[0][0] if best else None
            scores = [q["best_score"] for q in items if q.get("best_slug") == slug and q.get("best_score") is not None]
            closest = (slug, max(scores) if scores else None)
        trend, earlier, later = _trend(items, period)
        wordings = [label] + [t for t, _ in texts.most_common() if t != label]
        rows.append({
            "question": label,
            "count": len(items),
            "conversations": len({q["conversation_id"] for q in items}),
            "examples": wordings[1:6],
            "closest_article": closest[0],
            "closest_score": round(closest[1], 3) if closest[1] is not None else None,
            "trend": trend,
            "earlier_half": earlier,
            "later_half": later,
            "grouped_by": "meaning" if vectors is not None else "words",
            "start_article_url": "/admin/kb/new?" + urlencode(
                {"title": label[:200], "questions": "\n".join(w[:300] for w in wordings[:GAP_START_QUESTIONS])}),
            "first_asked": day_of(items[0]["created_at"]),
            "last_asked": day_of(items[-1]["created_at"]),
        })
    return sorted(rows, key=lambda r: (-r["count"], r["question"].lower()))


def _peaks_by_day(intervals: list[tuple[float, float]], params: ReportParams) -> dict[str, int]:
    """Highest number of overlapping intervals at any moment of each day (an end and a start at the same
    instant do not overlap)."""
    days = [d.isoformat() for d in params.days()]
    peaks = dict.fromkeys(days, 0)
    points = sorted([(s, 1) for s, e in intervals if e > s] + [(e, -1) for s, e in intervals if e > s],
                    key=lambda p: (p[0], p[1]))
    level = 0
    day_index = 0
    for ts, delta in points:
        index = int((ts - params.start_ts) // 86400)
        while day_index < min(index, len(days)):   # days passed with the level unchanged
            day_index += 1
            if day_index < len(days):
                peaks[days[day_index]] = max(peaks[days[day_index]], level)
        level += delta
        if 0 <= index < len(days):
            peaks[days[index]] = max(peaks[days[index]], level)
    return peaks


def _online_intervals(presence: list[dict], start: float, end: float) -> list[tuple[float, float, int]]:
    """(from, to, agent_id) spans in which an agent was online, clipped to [start, end)."""
    spans = []
    by_agent: dict[int, list[dict]] = defaultdict(list)
    for row in sorted(presence, key=lambda r: (r["created_at"], r["id"])):
        by_agent[row["agent_id"]].append(row)
    for agent_id, rows in by_agent.items():
        online_since = None
        for row in rows:
            if row["status"] == "online" and online_since is None:
                online_since = row["created_at"]
            elif row["status"] != "online" and online_since is not None:
                spans.append((online_since, row["created_at"], agent_id))
                online_since = None
        if online_since is not None:
            spans.append((online_since, end, agent_id))
    return [(max(s, start), min(e, end), a) for s, e, a in spans if min(e, end) > max(s, start)]


def load(conversations: list[dict], presence: list[dict], params: ReportParams, now: float) -> dict:
    """Conversations per hour of day and weekday (UTC), peak concurrent chats and agents online per day."""
    by_hour = [0] * 24
    by_weekday = [0] * 7
    per_day: Counter = Counter()
    for c in conversations:
        moment = datetime.fromtimestamp(c["created_at"], timezone.utc)
        by_hour[moment.hour] += 1
        by_weekday[moment.weekday()] += 1
        per_day[moment.date().isoformat()] += 1
    end = min(params.end_ts, max(now, params.start_ts))
    chats = [(c["created_at"], c["closed_at"] if c["closed_at"] is not None else end) for c in conversations]
    with_agent = [(c["first_assigned_at"], c["closed_at"] if c["closed_at"] is not None else end)
                  for c in conversations if c["first_assigned_at"] is not None]
    online = _online_intervals(presence, params.start_ts, end)
    chat_peaks = _peaks_by_day(chats, params)
    agent_chat_peaks = _peaks_by_day(with_agent, params)
    online_peaks = _peaks_by_day([(s, e) for s, e, _ in online], params)
    online_seconds: Counter = Counter()
    hour_seconds = [0.0] * 24
    for s, e, _ in online:
        t = s
        while t < e:
            hour_end = (math.floor(t / 3600) + 1) * 3600
            piece = min(e, hour_end) - t
            online_seconds[day_of(t)] += piece
            hour_seconds[datetime.fromtimestamp(t, timezone.utc).hour] += piece
            t = min(e, hour_end)
    n_days = len(params.days())
    by_day = [{"date": d.isoformat(), "conversations": per_day.get(d.isoformat(), 0),
               "peak_concurrent_chats": chat_peaks[d.isoformat()],
               "peak_concurrent_agent_chats": agent_chat_peaks[d.isoformat()],
               "peak_agents_online": online_peaks[d.isoformat()],
               "agent_hours_online": round(online_seconds.get(d.isoformat(), 0) / 3600, 1)}
              for d in params.days()]
    return {
        "timezone": "UTC",
        "by_hour": [{"hour": h, "conversations": by_hour[h], "agents_online_avg": round(hour_seconds[h] / (3600 * n_days), 2)}
                    for h in range(24)],
        "by_weekday": [{"weekday": WEEKDAYS[d], "conversations": by_weekday[d]} for d in range(7)],
        "by_day": by_day,
        "peak_concurrent_chats": max(chat_peaks.values(), default=0),
        "peak_agents_online": max(online_peaks.values(), default=0),
    }


def comment_list(conversations: list[dict], limit: int = 200) -> list[dict]:
    rows = [{"conversation_id": c["id"], "date": day_of(c["survey_at"]), "agent": c["agent_name"],
             "csat": c["csat"], "ces": c["ces"], "nps": c["nps"], "comment": c["comment"]}
            for c in conversations if c["comment"]]
    rows.sort(key=lambda r: (r["date"], r["conversation_id"]), reverse=True)
    return rows[:limit]
