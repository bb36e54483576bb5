"""Typed keys for what the app factory shares with the edges (HTTP views, Socket.IO namespaces) through the
aiohttp application. The domain layer (chatserver/desk) never reads them: it gets a `Desk`."""
from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    import jinja2
    import socketio

    from triage import KnowledgeBase

    from .config import Config
    from .desk import Desk
    from .site_settings import SiteSettings
    from .store import Store
    from .tokens import ServerSecret

CONFIG = web.AppKey("config", "Config")
STORE = web.AppKey("store", "Store")
SIO = web.AppKey("sio", "socketio.AsyncServer")
KB = web.AppKey("kb", "KnowledgeBase")
DESK = web.AppKey("desk", "Desk")
SECRETS = web.AppKey("secrets", "ServerSecret")
TEMPLATES = web.AppKey("templates", "jinja2.Environment")
SETTINGS = web.AppKey("settings", "SiteSettings")
