"""Reports for admins: the /admin/reports page (server-side SVG charts, no script), the same figures as JSON at
GET /api/reports/<name> and as CSV at GET /api/reports/<name>.csv. Definitions in docs/reports.md; the figures,
charts and CSV are in chatserver/reports/, this module only translates HTTP."""
from __future__ import annotations

import asyncio
from datetime import date, datetime, timezone

from aiohttp import web

from .. import keys
from ..auth import require_agent
from ..desk import hours
from ..errors import NotFound
from ..reports import catalogue, csv_export, page, parameters
from ..reports.meaning import KnowledgeBaseMeaning
from ..store import reports as report_queries
from .public import render


def _today() -> date:
    return datetime.now(timezone.utc).date()


async def _dataset(request: web.Request, params: parameters.ReportParams) -> dict:
    return await request.app[keys.STORE].read(report_queries.report_dataset, params.start_ts, params.end_ts)


async def build_report(app: web.Application, name: str, params: parameters.ReportParams) -> dict:
    """Report `name` as the reports API and /api/v1 answer it: first response and SLA in business time up to the
    desk's clock, the gap list grouped by meaning (off the event loop: it may use the sentence encoder)."""
    desk = app[keys.DESK]
    dataset = await app[keys.STORE].read(report_queries.report_dataset, params.start_ts, params.end_ts)
    return await asyncio.get_running_loop().run_in_executor(
        None, catalogue.build, name, dataset, params, app[keys.CONFIG].sla_seconds, desk.clock(),
        KnowledgeBaseMeaning(app[keys.KB]), hours.current(desk))


async def report_api(request: web.Request) -> web.Response:
    await require_agent(request, admin=True)
    name = request.match_info["name"]
    as_csv = name.endswith(".csv")
    name = name[:-4] if as_csv else name
    catalogue.require_report(name)            # domain errors become the JSON error answer (views/errors.py)
    params = parameters.parse_params(request.query, _today())
    report = await build_report(request.app, name, params)
    if not as_csv:
        return web.json_response(report)
    filename = f"{name}-{params.start.isoformat()}-{params.end.isoformat()}.csv"
    return web.Response(text=csv_export.report_csv(report), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}"'})


async def reports_page(request: web.Request) -> web.Response:
    await require_agent(request, admin=True)
    today = _today()
    try:
        params = parameters.parse_params(request.query, today)
    except parameters.ReportError as exc:
        params = parameters.parse_params({}, today)
        error = exc.message
    else:
        error = None
    config = request.app[keys.CONFIG]
    now = request.app[keys.DESK].clock()        # business hours' now: the desk's clock
    dataset = await _dataset(request, params)
    contents = await asyncio.get_running_loop().run_in_executor(
        None, page.page_contents, dataset, params, config.sla_seconds, now, KnowledgeBaseMeaning(request.app[keys.KB]),
        hours.current(request.app[keys.DESK]))
    # The page's links ask for exactly what the page shows, its default grouping included.
    shown = parameters.ReportParams(params.start, params.end, contents["group_by"])
    # A refused range keeps what was typed in the form, with the error next to it; the figures are the default's.
    typed = {"from": request.query.get("from", params.start.isoformat()),
             "to": request.query.get("to", params.end.isoformat())} if error else {
        "from": params.start.isoformat(), "to": params.end.isoformat()}
    return render(request, "reports.html", status=400 if error else 200, error=error, params=params, typed=typed,
                  group_options=parameters.GROUP_BY, query=shown.query(), ranges=parameters.preset_ranges(today),
                  sla_seconds=config.sla_seconds, report_names=catalogue.REPORTS,
                  article_titles={a.slug: a.title for a in request.app[keys.KB].articles.values()},
                  **contents, **page.FORMATTERS)


async def conversation_page(request: web.Request) -> web.Response:
    """One conversation's experience and timeline, one click from the quality figures (and the supervisor view)."""
    await require_agent(request, supervisor=True)
    try:
        conversation_id = int(request.match_info["id"])
    except ValueError:
        raise NotFound("no such conversation") from None
    record = await request.app[keys.STORE].read(report_queries.conversation_record, conversation_id)
    if record is None:
        raise NotFound("no such conversation")
    return render(request, "conversation_quality.html", **page.conversation_page(record), **page.FORMATTERS)


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/reports", reports_page)
    app.router.add_get("/admin/conversations/{id:[0-9]{1,15}}", conversation_page)
    app.router.add_get("/api/reports/{name}", report_api)
