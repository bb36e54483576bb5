"""What the /admin/reports page shows, from one dataset: the report bodies (tables grouped by `handled_by` unless
the query says otherwise), 7-day rolling trend lines, the six charts, and the formatters its template uses."""
from __future__ import annotations

from . import charts, figures
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
    return {"group_by": table_params.group_by, "satisfaction": satisfaction, "speed": speed, "bot": bot,
            "articles": articles, "gaps": gaps, "load": load, "comments": comments, "charts": page_charts}


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


FORMATTERS = {"fmt_seconds": fmt_seconds, "fmt_pct": fmt_pct, "fmt_num": fmt_num}
