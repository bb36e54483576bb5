"""A report as a CSV download: one table per report, cells safe to open in a spreadsheet program."""
from __future__ import annotations

import csv
import io

from .catalogue import GROUPED_REPORTS

# Spreadsheet programs run cells that start with these as formulas; survey comments are untrusted.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def report_csv(report: dict) -> str:
    """The CSV text of a report body from catalogue.build."""
    return csv_text(*csv_table(report))


def csv_table(report: dict) -> tuple[list[str], list[dict]]:
    """The rows a report's CSV download holds (one table per report)."""
    name = report["report"]
    if name in GROUPED_REPORTS:
        rows = [*report["groups"], {"group": "total", **report["total"]}]
        return ["group", *report["total"].keys()], rows
    if name == "breaches":
        return ["conversation_id", "date", "agent", "department", "waited_seconds", "answered"], report["breaches"]
    if name == "articles":
        rows = [{**r, "not_helpful_reasons": "; ".join(f"{x['reason']} ({x['count']})" for x in r["not_helpful_reasons"])}
                for r in report["articles"]]
        columns = ["slug", "suggested", "opened", "helpful", "not_helpful", "escalated", "sent_by_agent", "helpful_pct",
                   "csat_count", "csat_pct", "escalated_csat_pct", "not_helpful_reasons", "flagged"]
        return columns, rows
    if name == "gaps":
        rows = [{**r, "examples": " | ".join(r["examples"])} for r in report["gaps"]]
        return ["question", "count", "conversations", "examples", "closest_article", "closest_score", "trend",
                "earlier_half", "later_half", "first_asked", "last_asked"], rows
    if name == "load":
        rows = ([{"section": "hour", "key": r["hour"], **{k: v for k, v in r.items() if k != "hour"}}
                 for r in report["by_hour"]]
                + [{"section": "weekday", "key": r["weekday"], "conversations": r["conversations"]}
                   for r in report["by_weekday"]]
                + [{"section": "day", "key": r["date"], **{k: v for k, v in r.items() if k != "date"}}
                   for r in report["by_day"]])
        return ["section", "key", "conversations", "agents_online_avg", "peak_concurrent_chats",
                "peak_concurrent_agent_chats", "peak_agents_online", "agent_hours_online"], rows
    return ["conversation_id", "date", "agent", "csat", "ces", "nps", "comment"], report["comments"]


def csv_text(columns: list[str], rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(column)) for column in columns])
    return out.getvalue()


def _cell(value) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value
