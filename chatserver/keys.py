"""Typed keys for everything shared through the aiohttp application."""
from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    import jinja2
    import socketio

    from triage import KnowledgeBase

    from .bot import Bot
    from .config import Config
    from .dispatch import Dispatcher
    from .secrets import Secrets
    from .site_settings import SiteSettings
    from .store import Store

CONFIG = web.AppKey("config", "Config")
STORE = web.AppKey("store", "Store")
SIO = web.AppKey("sio", "socketio.AsyncServer")
KB = web.AppKey("kb", "KnowledgeBase")
DISPATCHER = web.AppKey("dispatcher", "Dispatcher")
BOT = web.AppKey("bot", "Bot")
SECRETS = web.AppKey("secrets", "Secrets")
TEMPLATES = web.AppKey("templates", "jinja2.Environment")
SETTINGS = web.AppKey("settings", "SiteSettings")
# Coroutines (app, visitor_id, open_conversation) -> dict merged into the visitor `session` event (e.g. a pending survey).
SESSION_EXTRAS = web.AppKey("session_extras", list)


class AppServices:
    """Shortcuts to the shared objects, for classes that hold the app (namespaces, the bot)."""

    app: web.Application

    @property
    def store(self) -> "Store":
        return self.app[STORE]

    @property
    def dispatcher(self) -> "Dispatcher":
        return self.app[DISPATCHER]

    @property
    def kb(self) -> "KnowledgeBase":
        return self.app[KB]
