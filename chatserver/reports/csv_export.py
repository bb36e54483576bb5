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
    if name == "quality":
        return quality_table(report)
    return ["conversation_id", "date", "agent", "csat", "ces", "nps", "comment"], report["comments"]


QUALITY_COLUMNS = ["section", "key", "group", "count", "median", "p90", "worst", "worst_conversation_id",
                   "conversations", "csat_count", "csat_pct", "csat_mean", "ces_count", "ces_mean", "ces_agree_pct",
                   "nps_count", "nps", "estimate_median", "wait_median", "median_abs_error", "reasons"]


def quality_table(report: dict) -> tuple[list[str], list[dict]]:
    """`section` = summary, distribution, split, estimate (one per day), degraded (one per conversation)."""
    rows = [{"section": "summary", "key": key, "count": report[key]}
            for key in ("conversations", "measured", "judged", "degraded")]
    rows.append({"section": "summary", "key": "degraded_pct", "count": report["degraded_pct"]})
    rows += [{"section": "summary", "key": f"degraded_{rule}", "count": n} for rule, n in report["degraded_by_rule"].items()]
    rows += [{"section": "distribution", "key": d["measure"], **d} for d in report["distributions"]]
    rows += [{"section": "split", "key": g["split"], **g} for g in report["splits"]]
    accuracy = report["estimate_accuracy"]
    rows.append({"section": "estimate", "key": "total", "count": accuracy["chats"],
                 "median_abs_error": accuracy["median_abs_error"]})
    rows += [{"section": "estimate", "key": d["date"], "count": d["chats"], **d} for d in accuracy["by_day"]]
    rows += [{"section": "degraded", "key": r["conversation_id"], "group": r["path"], "reasons": " ".join(r["reasons"])}
             for r in report["degraded_conversations"]]
    return QUALITY_COLUMNS, rows


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
