"""Surveys have no pages of their own: this hooks the survey offer into chat closing and the visitor session
(app.py loads every chatserver.views.<feature>.setup). Results are shown by views/reports.py."""
from __future__ import annotations

from aiohttp import web

from .. import surveys


def setup(app: web.Application) -> None:
    surveys.setup(app)
