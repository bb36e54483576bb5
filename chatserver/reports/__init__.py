"""Reports for admins, definitions in docs/reports.md. Everything here is pure (no HTTP, no SQL, no clock):
`parameters` reads and checks the query, `figures` computes over the rows of chatserver/store/reports.py,
`catalogue` names the reports and builds each one's body, `csv_export` turns a body into a CSV download, `charts`
draws server-side SVG, and `page` assembles the reports page. chatserver/views/reports.py only translates HTTP."""
from __future__ import annotations

from .catalogue import GROUPED_REPORTS, REPORTS, UnknownReport, build, require_report
from .csv_export import csv_table, report_csv
from .figures import rolling, satisfaction_figures, speed_figures
from .parameters import GROUP_BY, ReportError, ReportParams, parse_params

__all__ = ["GROUPED_REPORTS", "GROUP_BY", "REPORTS", "ReportError", "ReportParams", "UnknownReport", "build",
           "csv_table", "parse_params", "report_csv", "require_report", "rolling", "satisfaction_figures",
           "speed_figures"]
