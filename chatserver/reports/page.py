"""What the /admin/reports page shows, from one dataset: the report bodies (tables grouped by `handled_by` unless
the query says otherwise), 7-day rolling trend lines, the six charts, and the formatters its template uses."""
from __future__ import annotations

from . import charts, figures, quality
from .catalogue import build
from .parameters import ReportParams

PAGE_GROUP_DEFAULT = "handled_by"


def page_contents(dataset: dict, params: ReportParams, sla_seconds: float, now: float, meaning=None,
                  hours=None) -> dict:
    """The template's figures and charts for the range and grouping of `params` (first response and SLA in the
    business time of `hours`)."""
    table_params = ReportParams(params.start, params.end, params.group_by or PAGE_GROUP_DEFAULT)
    daily = ReportParams(params.start, params.end, "day")

    def report(name, p=table_params):
        return build(name, dataset, p, sla_seconds, now, meaning if name == "gaps" else None, hours)

    satisfaction, speed, bot = report("satisfaction"), report("speed"), report("bot")
    satisfaction_daily = figures.rolling(dataset["conversations"], daily, figures.satisfaction_figures)
    speed_daily = figures.rolling(dataset["conversations"], daily,
                                  lambda cs: figures.speed_figures(cs, sla_seconds, now, hours))
    articles, gaps, load, comments = report("articles"), report("gaps"), report("load"), report("comments")
    days = [g["group"][5:] for g in satisfaction_daily]
    page_charts = {
        "satisfaction": charts.line_chart(
            "Satisfaction, 7-day rolling", days,
            [("CSAT % satisfied", [g["csat_pct"] for g in satisfaction_daily]),
             ("CES % agreeing", [g["ces_agree_pct"] for g in satisfaction_daily]),
             ("NPS", [g["nps"] for g in satisfaction_daily])], y_max=100),
        "speed": charts.line_chart(
            "Waits, 7-day rolling", days,
            [("Time in queue", [g["queue_median"] for g in speed_daily]),
             ("First response", [g["first_response_median"] for g in speed_daily]),
             ("First response p90", [g["first_response_p90"] for g in speed_daily])], unit=" s"),
        "funnel": charts.funnel_chart("Article funnel (conversations)", [
            ("Suggested", articles["totals"]["suggested"]), ("Opened", articles["totals"]["opened"]),
            ("Helpful", articles["totals"]["helpful"]), ("Not helpful", articles["totals"]["not_helpful"]),
            ("Escalated anyway", articles["totals"]["escalated"])]),
        "hours": charts.bar_chart(
            "Conversations by hour of day (UTC)", [f"{h:02d}" for h in range(24)],
            [r["conversations"] for r in load["by_hour"]], "conversations",
            overlay=("agents online (avg)", [r["agents_online_avg"] for r in load["by_hour"]]), label_every=3),
        "weekdays": charts.bar_chart(
            "Conversations by weekday", [r["weekday"] for r in load["by_weekday"]],
            [r["conversations"] for r in load["by_weekday"]], "conversations"),
        "concurrency": charts.line_chart(
            "Peak concurrency by day", days,
            [("Chats open at once", [r["peak_concurrent_chats"] for r in load["by_day"]]),
             ("Agents online at once", [r["peak_agents_online"] for r in load["by_day"]])], y_min=0),
    }
    experience = report("quality")
    page_charts.update(quality_charts(experience, days))
    return {"group_by": table_params.group_by, "satisfaction": satisfaction, "speed": speed, "bot": bot,
            "articles": articles, "gaps": gaps, "load": load, "comments": comments, "quality": experience,
            "charts": page_charts}


SPLIT_TITLES = {"reconnects": "Reconnects", "queue_estimate": "Queue wait vs estimate", "path": "Touch points",
                "agent_response": "Agent response time", "degraded": "Experience"}
MEASURE_LABELS = {
    "connect_ms": ("Time to connect", "ms"), "reconnects": ("Reconnects", ""), "offline_seconds": ("Offline", "s"),
    "ack_p50_ms": ("Send to ack, median per chat", "ms"), "ack_p95_ms": ("Send to ack, p95 per chat", "ms"),
    "ack_max_ms": ("Send to ack, slowest per chat", "ms"), "delivery_p95_ms": ("Reply to screen, p95 per chat", "ms"),
    "resends": ("Messages resent", ""), "not_sent": ("Messages not sent", ""),
    "hidden_replies": ("Replies while the tab was hidden", ""), "bot_first_answer_seconds": ("Bot's first answer", "s"),
    "queue_seconds": ("Time in queue", "s"), "queue_estimate_seconds": ("Wait estimate shown", "s"),
    "estimate_error_seconds": ("Estimate error |wait − estimate|", "s"),
    "first_response_seconds": ("First human response", "s"), "agent_response_seconds": ("Each agent response", "s"),
    "reply_seen_seconds": ("Agent reply to seen by the visitor", "s"),
    "agent_read_seconds": ("Visitor message to read by the agent", "s"),
    "transfers": ("Transfers", ""),
}


def quality_charts(report: dict, days: list[str]) -> dict:
    """The quality section's charts: degraded reasons, CSAT by experience, latency and wait distributions, and the
    wait estimate's error over the range."""
    by = {d["measure"]: d for d in report["distributions"]}
    csat_groups = [g for g in report["splits"] if g["split"] in ("reconnects", "queue_estimate", "degraded")]
    bands = [g for g in report["splits"] if g["split"] == "agent_response"]
    return {
        "quality_reasons": charts.bar_chart(
            "Degraded conversations by reason", [r.replace("_", " ") for r in report["degraded_by_rule"]],
            list(report["degraded_by_rule"].values()), "conversations"),
        "quality_csat": charts.bar_chart(
            "CSAT % satisfied by experience (answers)", [f"{g['group']} ({g['csat_count']})" for g in csat_groups],
            [g["csat_pct"] or 0 for g in csat_groups], "CSAT %", unit="%"),
        "quality_bands": charts.bar_chart(
            "CSAT % satisfied by agent response time (answers)", [f"{g['group']} ({g['csat_count']})" for g in bands],
            [g["csat_pct"] or 0 for g in bands], "CSAT %", unit="%"),
        "quality_paths": charts.bar_chart(
            "CSAT % satisfied by touch points (answers)",
            [f"{g['group'].replace('_', ' ')} ({g['csat_count']})" for g in report["splits"] if g["split"] == "path"],
            [g["csat_pct"] or 0 for g in report["splits"] if g["split"] == "path"], "CSAT %", unit="%"),
        "quality_latency": charts.bar_chart(
            "Send to ack, slowest per chat: median · p90 · worst (ms)", ["median", "p90", "worst"],
            [by["ack_max_ms"][k] or 0 for k in ("median", "p90", "worst")], "ms"),
        "quality_waits": charts.bar_chart(
            "Waits: median · p90 (s)", ["queue", "queue p90", "first reply", "first reply p90", "each reply",
                                         "each reply p90"],
            [by[m][k] or 0 for m in ("queue_seconds", "first_response_seconds", "agent_response_seconds")
             for k in ("median", "p90")], "seconds"),
        "quality_estimate": charts.line_chart(
            "Wait estimate vs actual wait, by day", days,
            [("Median estimate", [d["estimate_median"] for d in report["estimate_accuracy"]["by_day"]]),
             ("Median wait", [d["wait_median"] for d in report["estimate_accuracy"]["by_day"]]),
             ("Median abs. error", [d["median_abs_error"] for d in report["estimate_accuracy"]["by_day"]])],
            unit=" s", y_min=0),
    }


def conversation_page(record: dict) -> dict:
    """The contents of one conversation's quality page: its experience and its timeline."""
    conversation = record["conversation"]
    messages = record["messages"]
    events = {}
    for e in record["events"]:
        events[e["type"]] = events.get(e["type"], 0) + 1
    seen = [r for r in record["receipts"] if r["kind"] == "seen"]
    experience = quality.experience(conversation, record["quality"], messages, events, seen)
    return {"conversation": conversation, "experience": experience, "record": record["quality"],
            "timeline": quality.timeline(conversation, messages, record["events"], record["receipts"],
                                         record["quality"], record["survey"]),
            "rules": quality.DEGRADED_RULES, "labels": MEASURE_LABELS}


# -- formatters for the template ------------------------------------------------------------------------------

def fmt_seconds(value: float | None) -> str:
    if value is None:
        return "–"
    value = round(value)
    if value < 60:
        return f"{value} s"
    if value < 3600:
        return f"{value // 60} min {value % 60:02d} s"
    return f"{value // 3600} h {value % 3600 // 60:02d} min"


def fmt_pct(value: float | None) -> str:
    return "–" if value is None else f"{value:g}%"


def fmt_num(value: float | None) -> str:
    return "–" if value is None else f"{value:g}"


def fmt_measure(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "s":
        return fmt_seconds(value)
    return f"{value:g} {unit}".strip()


def fmt_time(ts: float | None) -> str:
    from datetime import datetime, timezone
    return "–" if ts is None else datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


FORMATTERS = {"fmt_seconds": fmt_seconds, "fmt_pct": fmt_pct, "fmt_num": fmt_num, "fmt_measure": fmt_measure,
              "fmt_time": fmt_time, "measure_labels": MEASURE_LABELS, "split_titles": SPLIT_TITLES}
