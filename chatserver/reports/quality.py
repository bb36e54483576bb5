"""Quality of experience (docs/reports.md, "Quality of experience"): what each conversation's visitor went
through, from its quality record (chatserver/store/quality.py), its messages' times and its events, as pure
functions over the report dataset. Distributions (median, p90, worst), the share of degraded conversations by
documented thresholds, CSAT/CES/NPS split by each experience, and the accuracy of the wait estimate over time."""
from __future__ import annotations

from collections import defaultdict

from . import figures
from .parameters import ReportParams

# A conversation had a degraded experience when any of these holds (docs/reports.md).
DEGRADED_RULES = {
    "reconnected": "the widget reconnected at least once during the chat",
    "slow_ack": "a message took more than 2 s from send to ack",
    "not_sent": "a message ended \"not sent\"",
    "slow_delivery": "95% of replies took more than 5 s to reach the screen",
    "queue_over_estimate": "the queue wait was more than twice the estimate shown",
}
SLOW_ACK_MS = 2000
SLOW_DELIVERY_MS = 5000
ESTIMATE_FACTOR = 2.0
# Agent response bands: the conversation's median agent response time.
RESPONSE_BANDS = ((30, "under 30 s"), (120, "30 s to 2 min"), (None, "over 2 min"))
NO_AGENT = "no agent reply"
PATHS = ("bot_only", "bot_queue", "bot_queue_agent", "straight_to_agent", "queue_only", "email")
# The measures whose distribution the report shows: (name, unit, where the value comes from).
MEASURES = ("connect_ms", "reconnects", "offline_seconds", "ack_p50_ms", "ack_p95_ms", "ack_max_ms",
            "delivery_p95_ms", "resends", "not_sent", "hidden_replies", "bot_first_answer_seconds", "queue_seconds",
            "queue_estimate_seconds", "estimate_error_seconds", "first_response_seconds", "agent_response_seconds",
            "reply_seen_seconds", "agent_read_seconds", "transfers")
POOLED = ("agent_response_seconds", "reply_seen_seconds", "agent_read_seconds")   # one value per message
WIDGET_MEASURES = ("connect_ms", "reconnects", "offline_seconds", "ack_p50_ms", "ack_p95_ms", "ack_max_ms",
                   "delivery_p95_ms", "resends", "not_sent", "hidden_replies")


def agent_response_times(messages: list[dict]) -> list[float]:
    """Each agent reply's wait: from the visitor's first message it answered (sent after the previous reply)."""
    waits, waiting_since = [], None
    for m in messages:
        if m["author"] == "visitor":
            if waiting_since is None:
                waiting_since = m["created_at"]
        elif m["author"] == "agent" and not m["private"] and waiting_since is not None:
            waits.append(max(0.0, m["created_at"] - waiting_since))
            waiting_since = None
    return waits


def seen_after(messages: list[dict], receipts: list[dict], author: str, reader: str) -> list[float]:
    """For each message of `author` (notes aside): how long until the other side's first seen receipt covered it."""
    waits = []
    for m in messages:
        if m["author"] != author or m.get("private"):
            continue
        seen = next((r["created_at"] for r in receipts if r["reader"] == reader and r["seq"] >= m["seq"]
                     and r["created_at"] >= m["created_at"]), None)
        if seen is not None:
            waits.append(seen - m["created_at"])
    return waits


def bot_first_answer_seconds(messages: list[dict]) -> float | None:
    first_visitor = next((m["created_at"] for m in messages if m["author"] == "visitor"), None)
    if first_visitor is None:
        return None
    answer = next((m["created_at"] for m in messages if m["author"] == "bot" and m["created_at"] >= first_visitor), None)
    return None if answer is None else answer - first_visitor


def path_of(conversation: dict, had_bot: bool, left_contact: bool) -> str:
    if conversation["first_assigned_at"] is not None:
        return "bot_queue_agent" if had_bot else "straight_to_agent"
    if left_contact:
        return "email"
    if conversation["queued_at"] is not None:
        return "bot_queue" if had_bot else "queue_only"
    return "bot_only"


def ended_as(conversation: dict) -> str:
    if conversation["closed_at"] is None:
        return "open"
    if conversation["resolution"] == "deflected":
        return "bot"
    return {"agent": "agent", "visitor": "visitor_left", "system": "timeout"}.get(conversation["closed_by"], "timeout")


def experience(conversation: dict, record: dict | None, messages: list[dict], events: dict,
               receipts: list[dict] | None = None) -> dict:
    """One conversation's experience: the widget's figures (None without a report), the server's measures, its
    path, how it ended, and which degraded rules it broke."""
    record = record or {}
    measured = bool(record.get("reports"))
    row = {"conversation_id": conversation["id"], "date": figures.day_of(conversation["created_at"]),
           "agent": conversation["agent_name"], "measured": measured}
    for name in WIDGET_MEASURES:
        row[name] = record.get(name) if measured else None
    responses = agent_response_times(messages)
    queue = figures.queue_seconds(conversation)
    estimate = record.get("queue_estimate_seconds")
    row.update({
        "server_disconnects": record.get("server_disconnects", 0),
        "bot_first_answer_seconds": bot_first_answer_seconds(messages),
        "queue_seconds": queue,
        "queue_estimate_seconds": estimate,
        "estimate_error_seconds": abs(queue - estimate) if queue is not None and estimate is not None else None,
        "within_estimate": (queue <= estimate) if queue is not None and estimate is not None else None,
        "first_response_seconds": figures.first_response_seconds(conversation),
        "agent_response_seconds": responses,
        "agent_response_median": figures.median(responses),
        "reply_seen_seconds": seen_after(messages, receipts or [], "agent", "visitor"),
        "agent_read_seconds": seen_after(messages, receipts or [], "visitor", "agent"),
        "transfers": events.get("transferred", 0),
        "ended": ended_as(conversation),
        "path": path_of(conversation, any(m["author"] == "bot" for m in messages), events.get("contact", 0) > 0),
    })
    degraded = []
    if measured and row["reconnects"]:
        degraded.append("reconnected")
    if measured and (row["ack_max_ms"] or 0) > SLOW_ACK_MS:
        degraded.append("slow_ack")
    if measured and row["not_sent"]:
        degraded.append("not_sent")
    if measured and (row["delivery_p95_ms"] or 0) > SLOW_DELIVERY_MS:
        degraded.append("slow_delivery")
    if queue is not None and estimate and queue > ESTIMATE_FACTOR * estimate:
        degraded.append("queue_over_estimate")
    row["degraded"] = degraded
    row["judged"] = measured or row["estimate_error_seconds"] is not None
    return row


def experiences(dataset: dict) -> list[tuple[dict, dict]]:
    """(conversation, experience) for every conversation of the dataset."""
    records = {r["conversation_id"]: r for r in dataset.get("quality", [])}
    messages: dict[int, list[dict]] = defaultdict(list)
    for m in dataset.get("message_times", []):
        messages[m["conversation_id"]].append(m)
    events: dict[int, dict] = defaultdict(dict)
    for e in dataset.get("event_counts", []):
        events[e["conversation_id"]][e["type"]] = e["count"]
    receipts: dict[int, list[dict]] = defaultdict(list)
    for r in dataset.get("seen_receipts", []):
        receipts[r["conversation_id"]].append(r)
    return [(c, experience(c, records.get(c["id"]), messages.get(c["id"], []), events.get(c["id"], {}),
                           receipts.get(c["id"], [])))
            for c in dataset["conversations"]]


def distribution(rows: list[dict], name: str) -> dict:
    """median, p90 (nearest rank) and worst (the largest) of one measure, with the conversation that had it."""
    if name in POOLED:
        pairs = [(v, r["conversation_id"]) for r in rows for v in r[name]]
    else:
        pairs = [(r[name], r["conversation_id"]) for r in rows if r[name] is not None]
    values = [v for v, _ in pairs]
    worst = max(pairs, key=lambda p: (p[0], -p[1]), default=(None, None))
    return {"measure": name, "count": len(values), "median": figures.median(values), "p90": figures.p90(values),
            "worst": None if worst[0] is None else round(worst[0], 1), "worst_conversation_id": worst[1]}


def _band(row: dict) -> str:
    value = row["agent_response_median"]
    if value is None:
        return NO_AGENT
    return next(label for limit, label in RESPONSE_BANDS if limit is None or value < limit)


SPLITS = {
    "reconnects": (lambda r: None if not r["measured"] else ("reconnected" if r["reconnects"] else "no reconnects"),
                   ("no reconnects", "reconnected")),
    "queue_estimate": (lambda r: None if r["within_estimate"] is None else
                       ("within estimate" if r["within_estimate"] else "beyond estimate"),
                       ("within estimate", "beyond estimate")),
    "path": (lambda r: r["path"], PATHS),
    "agent_response": (_band, (*[label for _, label in RESPONSE_BANDS], NO_AGENT)),
    "degraded": (lambda r: None if not r["judged"] else ("degraded" if r["degraded"] else "not degraded"),
                 ("not degraded", "degraded")),
}


def split(pairs: list[tuple[dict, dict]], name: str) -> list[dict]:
    """CSAT/CES/NPS of the conversations in each group of one split (every group listed, empty ones too, so
    small groups show as small). Conversations the split cannot place (not measured) are left out."""
    key, groups = SPLITS[name]
    buckets: dict[str, list[dict]] = defaultdict(list)
    for conversation, row in pairs:
        group = key(row)
        if group is not None:
            buckets[group].append(conversation)
    return [{"split": name, "group": group, "conversations": len(buckets.get(group, [])),
             **figures.satisfaction_figures(buckets.get(group, []))} for group in groups]


def estimate_accuracy(rows: list[dict], params: ReportParams) -> list[dict]:
    """Per day of the range: chats with an estimate and a queue wait, median estimate, median wait, and the
    median absolute error |wait - estimate|."""
    by_day: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        if r["estimate_error_seconds"] is not None:
            by_day[r["date"]].append(r)
    out = []
    for day in (d.isoformat() for d in params.days()):
        chats = by_day.get(day, [])
        out.append({"date": day, "chats": len(chats),
                    "estimate_median": figures.median(r["queue_estimate_seconds"] for r in chats),
                    "wait_median": figures.median(r["queue_seconds"] for r in chats),
                    "median_abs_error": figures.median(r["estimate_error_seconds"] for r in chats)})
    return out


def quality_report(dataset: dict, params: ReportParams) -> dict:
    pairs = experiences(dataset)
    rows = [row for _, row in pairs]
    judged = [r for r in rows if r["judged"]]
    degraded = [r for r in judged if r["degraded"]]
    errors = [r["estimate_error_seconds"] for r in rows if r["estimate_error_seconds"] is not None]
    worst_first = sorted(degraded, key=lambda r: (-len(r["degraded"]), -(r["ack_max_ms"] or 0), r["conversation_id"]))
    return {
        "conversations": len(rows),
        "measured": sum(1 for r in rows if r["measured"]),
        "judged": len(judged),
        "degraded": len(degraded),
        "degraded_pct": figures.percent(len(degraded), len(judged)),
        "degraded_by_rule": {rule: sum(1 for r in degraded if rule in r["degraded"]) for rule in DEGRADED_RULES},
        "thresholds": {"rules": DEGRADED_RULES, "slow_ack_ms": SLOW_ACK_MS, "slow_delivery_ms": SLOW_DELIVERY_MS,
                       "queue_estimate_factor": ESTIMATE_FACTOR,
                       "agent_response_bands_seconds": [limit for limit, _ in RESPONSE_BANDS if limit]},
        "distributions": [distribution(rows, name) for name in MEASURES],
        "paths": {path: sum(1 for r in rows if r["path"] == path) for path in PATHS},
        "endings": {end: sum(1 for r in rows if r["ended"] == end)
                    for end in ("bot", "agent", "visitor_left", "timeout", "open")},
        "splits": [g for name in SPLITS for g in split(pairs, name)],
        "estimate_accuracy": {"chats": len(errors), "median_abs_error": figures.median(errors),
                              "by_day": estimate_accuracy(rows, params)},
        "degraded_conversations": [
            {k: r[k] for k in ("conversation_id", "date", "agent", "path", "ended", "reconnects", "offline_seconds",
                               "ack_max_ms", "not_sent", "queue_seconds", "queue_estimate_seconds")}
            | {"reasons": r["degraded"]} for r in worst_first[:100]],
    }


def timeline(conversation: dict, messages: list[dict], events: list[dict], receipts: list[dict],
             record: dict | None, survey: dict | None) -> list[dict]:
    """One conversation's story in time order: messages, routing events, receipts, the survey."""
    items = [{"at": m["created_at"], "kind": "message", "who": m["author"] + (" (note)" if m.get("private") else ""),
              "what": m["text"], "seq": m["seq"]} for m in messages]
    items += [{"at": e["created_at"], "kind": "event", "who": e["actor_type"], "what": f"{e['type']}: {e['reason'] or ''}".strip(": "),
               "seq": None} for e in events]
    items += [{"at": r["created_at"], "kind": "receipt", "who": r["reader"],
               "what": f"{r['kind']} up to #{r['seq']}", "seq": r["seq"]} for r in receipts]
    if survey is not None:
        answers = ", ".join(f"{k.upper()} {survey[k]}" for k in ("csat", "ces", "nps") if survey.get(k) is not None)
        items.append({"at": survey["created_at"], "kind": "survey", "who": "visitor",
                      "what": answers + (f" · “{survey['comment']}”" if survey.get("comment") else "") or "dismissed",
                      "seq": None})
    if record and record.get("reports"):
        items.append({"at": record["updated_at"], "kind": "quality", "who": "widget",
                      "what": f"{record['reconnects']} reconnects, {record['offline_seconds']:g} s offline",
                      "seq": None})
    return sorted(items, key=lambda i: (i["at"], {"message": 0, "event": 1, "receipt": 2}.get(i["kind"], 3)))
