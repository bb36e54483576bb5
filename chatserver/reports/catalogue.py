"""Which reports exist and what each one's JSON body holds, built from the figures over one dataset
(chatserver/store/reports.py `report_dataset`)."""
from __future__ import annotations

from ..errors import NotFound
from . import figures, quality
from .parameters import ReportParams

REPORTS = ("satisfaction", "speed", "breaches", "bot", "articles", "gaps", "load", "comments", "quality")
GROUPED_REPORTS = ("satisfaction", "speed", "bot")


class UnknownReport(NotFound):
    """No report of that name."""
    code = "unknown_report"


def require_report(name: str) -> None:
    """Raise UnknownReport unless `name` is one of REPORTS."""
    if name not in REPORTS:
        raise UnknownReport(f"no report named '{name[:50]}'; reports: {', '.join(REPORTS)}")


def build(name: str, dataset: dict, params: ReportParams, sla_seconds: float, now: float, meaning=None,
          hours=None) -> dict:
    """The JSON body of report `name` (one of REPORTS) over a dataset from store.reports.report_dataset. `meaning`
    (reports/meaning.py) lets the gap list group questions by meaning; blocking: call it off the event loop.
    `hours` (business_hours.BusinessHours) makes the first-response and SLA figures count business time."""
    require_report(name)
    conversations = dataset["conversations"]
    if name == "satisfaction":
        body = figures.satisfaction(conversations, params)
    elif name == "speed":
        body = figures.speed(conversations, params, sla_seconds, now, hours)
    elif name == "breaches":
        body = {"sla_seconds": sla_seconds, "breaches": figures.breach_list(conversations, sla_seconds, now, hours)}
    elif name == "bot":
        body = figures.bot(conversations, params)
    elif name == "articles":
        body = {"articles": figures.article_funnel(dataset["article_events"], conversations),
                "totals": figures.funnel_totals(dataset["article_events"], conversations),
                "flag_rule": {"min_suggested": figures.FLAG_MIN_SUGGESTED,
                              "max_helpful_pct": figures.FLAG_MAX_HELPFUL_RATE * 100}}
    elif name == "gaps":
        body = {"gaps": figures.gap_list(dataset["unanswered"], meaning, (params.start_ts, params.end_ts))}
    elif name == "load":
        body = figures.load(conversations, dataset["presence"], params, now)
    elif name == "quality":
        body = quality.quality_report(dataset, params)
    else:
        body = {"comments": figures.comment_list(conversations)}
    grouped_by = params.group_by if name in GROUPED_REPORTS else None
    return {"ok": True, "report": name, "from": params.start.isoformat(), "to": params.end.isoformat(),
            "group_by": grouped_by, "timezone": "UTC", **body}
