"""Reports for admins: the /admin/reports page (server-side SVG charts, no script), the same figures as JSON at
GET /api/reports/<name> and as CSV at GET /api/reports/<name>.csv. Definitions in docs/reports.md; the figures,
charts and CSV are in chatserver/reports/, this module only translates HTTP."""
from __future__ import annotations

import time
from datetime import date, datetime, timezone

from aiohttp import web

from .. import keys
from ..auth import require_agent
from ..reports import catalogue, csv_export, page, parameters
from ..store import reports as report_queries
from .public import render


def _today() -> date:
    return datetime.now(timezone.utc).date()


async def _dataset(request: web.Request, params: parameters.ReportParams) -> dict:
    return await request.app[keys.STORE].read(report_queries.report_dataset, params.start_ts, params.end_ts)


async def report_api(request: web.Request) -> web.Response:
    await require_agent(request, admin=True)
    name = request.match_info["name"]
    as_csv = name.endswith(".csv")
    name = name[:-4] if as_csv else name
    catalogue.require_report(name)            # domain errors become the JSON error answer (views/errors.py)
    params = parameters.parse_params(request.query, _today())
    config = request.app[keys.CONFIG]
    report = catalogue.build(name, await _dataset(request, params), params, config.sla_seconds, time.time())
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
    now = time.time()
    contents = page.page_contents(await _dataset(request, params), params, config.sla_seconds, now)
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


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/reports", reports_page)
    app.router.add_get("/api/reports/{name}", report_api)
