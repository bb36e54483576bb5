"""Reports for admins: the /admin/reports page (server-side SVG charts, no script), the same figures as JSON at
GET /api/reports/<name> and as CSV at GET /api/reports/<name>.csv. Definitions in docs/reports.md."""
from __future__ import annotations

import csv
import io
import time
from datetime import date, datetime, timedelta, timezone

from aiohttp import web

from .. import keys, report_charts, reports
from ..auth import require_agent
from ..store import reports as report_queries
from .public import render

PAGE_GROUP_DEFAULT = "handled_by"
# Spreadsheet programs run cells that start with these as formulas; survey comments are untrusted.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _today() -> date:
    return datetime.now(timezone.utc).date()


async def _dataset(request: web.Request, params: reports.ReportParams) -> dict:
    return await request.app[keys.STORE].read(report_queries.report_dataset, params.start_ts, params.end_ts)


def _error(exc: reports.ReportError) -> web.Response:
    return web.json_response(exc.ack(), status=404 if exc.code == "unknown_report" else exc.http_status)


async def report_api(request: web.Request) -> web.Response:
    await require_agent(request, admin=True)
    name = request.match_info["name"]
    as_csv = name.endswith(".csv")
    name = name[:-4] if as_csv else name
    try:
        if name not in reports.REPORTS:
            raise reports.ReportError(f"no report named '{name[:50]}'; reports: {', '.join(reports.REPORTS)}",
                                      code="unknown_report")
        params = reports.parse_params(request.query, _today())
    except reports.ReportError as exc:
        return _error(exc)
    config = request.app[keys.CONFIG]
    report = reports.build(name, await _dataset(request, params), params, config.sla_seconds, time.time())
    if not as_csv:
        return web.json_response(report)
    columns, rows = reports.csv_table(report)
    filename = f"{name}-{params.start.isoformat()}-{params.end.isoformat()}.csv"
    return web.Response(text=_csv(columns, rows), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _csv(columns: list[str], rows: list[dict]) -> str:
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


# -- the page -------------------------------------------------------------------------------------------------

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


async def reports_page(request: web.Request) -> web.Response:
    await require_agent(request, admin=True)
    today = _today()
    try:
        params = reports.parse_params(request.query, today)
    except reports.ReportError as exc:
        params = reports.parse_params({}, today)
        error = exc.message
    else:
        error = None
    config = request.app[keys.CONFIG]
    now = time.time()
    dataset = await _dataset(request, params)
    table_params = reports.ReportParams(params.start, params.end, params.group_by or PAGE_GROUP_DEFAULT)
    daily = reports.ReportParams(params.start, params.end, "day")

    def build(name, p=table_params):
        return reports.build(name, dataset, p, config.sla_seconds, now)

    satisfaction, speed, bot = build("satisfaction"), build("speed"), build("bot")
    satisfaction_daily = reports.rolling(dataset["conversations"], daily, reports.satisfaction_figures)
    speed_daily = reports.rolling(dataset["conversations"], daily,
                                  lambda cs: reports.speed_figures(cs, config.sla_seconds, now))
    articles, gaps, load, comments = build("articles"), build("gaps"), build("load"), build("comments")
    days = [g["group"][5:] for g in satisfaction_daily]
    charts = {
        "satisfaction": report_charts.line_chart(
            "Satisfaction, 7-day rolling", days,
            [("CSAT % satisfied", [g["csat_pct"] for g in satisfaction_daily]),
             ("CES % agreeing", [g["ces_agree_pct"] for g in satisfaction_daily]),
             ("NPS", [g["nps"] for g in satisfaction_daily])], y_max=100),
        "speed": report_charts.line_chart(
            "Waits, 7-day rolling", days,
            [("Time in queue", [g["queue_median"] for g in speed_daily]),
             ("First response", [g["first_response_median"] for g in speed_daily]),
             ("First response p90", [g["first_response_p90"] for g in speed_daily])], unit=" s"),
        "funnel": report_charts.funnel_chart("Article funnel (conversations)", [
            ("Suggested", articles["totals"]["suggested"]), ("Opened", articles["totals"]["opened"]),
            ("Helpful", articles["totals"]["helpful"]), ("Not helpful", articles["totals"]["not_helpful"]),
            ("Escalated anyway", articles["totals"]["escalated"])]),
        "hours": report_charts.bar_chart(
            "Conversations by hour of day (UTC)", [f"{h:02d}" for h in range(24)],
            [r["conversations"] for r in load["by_hour"]], "conversations",
            overlay=("agents online (avg)", [r["agents_online_avg"] for r in load["by_hour"]]), label_every=3),
        "weekdays": report_charts.bar_chart(
            "Conversations by weekday", [r["weekday"] for r in load["by_weekday"]],
            [r["conversations"] for r in load["by_weekday"]], "conversations"),
        "concurrency": report_charts.line_chart(
            "Peak concurrency by day", days,
            [("Chats open at once", [r["peak_concurrent_chats"] for r in load["by_day"]]),
             ("Agents online at once", [r["peak_agents_online"] for r in load["by_day"]])], y_min=0),
    }
    query = {"from": params.start.isoformat(), "to": params.end.isoformat()}
    if params.group_by:
        query["group_by"] = params.group_by
    ranges = [(label, (today - timedelta(days=n - 1)).isoformat(), today.isoformat())
              for label, n in (("Last 7 days", 7), ("Last 30 days", 30), ("Last 90 days", 90))]
    return render(request, "reports.html", status=400 if error else 200, error=error, params=params,
                  group_by=table_params.group_by, group_options=reports.GROUP_BY, query=query, ranges=ranges,
                  satisfaction=satisfaction, speed=speed, bot=bot, articles=articles, gaps=gaps, load=load,
                  comments=comments, charts=charts, sla_seconds=config.sla_seconds, report_names=reports.REPORTS,
                  fmt_seconds=fmt_seconds, fmt_pct=fmt_pct, fmt_num=fmt_num)


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/reports", reports_page)
    app.router.add_get("/api/reports/{name}", report_api)
