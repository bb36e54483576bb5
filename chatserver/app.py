"""The application factory: everything is built here and reached through the AppKeys in keys.py."""
from __future__ import annotations

import logging
from pathlib import Path

from aiohttp import web

from triage import KnowledgeBase, SentenceEncoder

from . import keys, templating
from .bot import Bot
from .config import Config
from .dispatch import Dispatcher
from .lifetimes import BOOTSTRAP, dispatcher_ctx, first_admin_ctx, kb_ctx, settings_ctx, store_ctx
from .namespaces.agent import AgentNamespace
from .namespaces.visitor import VisitorNamespace
from .secrets import Secrets
from .site_settings import SiteSettings
from .store import Store
from .transport import create_socket_server
from .views import public

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent


def origin_checker(settings: SiteSettings):
    """Engine.IO-level check for every transport request: the server's own pages, plus the sites allowed to
    embed the widget (CHAT_ALLOWED_ORIGINS, changeable in the admin settings). The agent namespace narrows this
    to same-origin only."""

    def check(origin, environ=None) -> bool:
        if origin is None:
            return True
        allowed = settings.get("allowed_origins")
        if "*" in allowed or origin.rstrip("/") in allowed:
            return True
        host = (environ or {}).get("HTTP_HOST")
        return bool(host) and origin in (f"http://{host}", f"https://{host}")

    return check


def create_app(config: Config | None = None) -> web.Application:
    config = config or Config()
    data_dir = Path(config.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)

    app = web.Application(client_max_size=1024 * 1024, middlewares=[public.security_headers])
    app[keys.CONFIG] = config
    app[keys.SECRETS] = Secrets.load_or_create(data_dir)
    app[keys.STORE] = Store(config.db_path)
    app[keys.SETTINGS] = SiteSettings(config, app[keys.STORE])
    app[BOOTSTRAP] = {}
    app[keys.SESSION_EXTRAS] = []
    # The encoder is loaded and the questions embedded by the KB's own thread, started in kb_ctx.
    kb = KnowledgeBase.load(config.kb_dir, encoder=SentenceEncoder.load if config.kb_encoder else None,
                            cache_dir=config.vector_cache_dir)
    for error in kb.errors:
        log.warning("article %s not loaded: %s", error.path, error.reason)
    app[keys.KB] = kb
    app[keys.TEMPLATES] = templating.environment(HERE / "templates")

    sio = create_socket_server(config, cors_allowed_origins=origin_checker(app[keys.SETTINGS]))
    sio.attach(app)
    app[keys.SIO] = sio
    app[keys.DISPATCHER] = Dispatcher(config, app[keys.STORE], sio)
    app[keys.BOT] = Bot(app)
    sio.register_namespace(VisitorNamespace(app))
    sio.register_namespace(AgentNamespace(app))

    public.setup_routes(app)
    for setup in _feature_setups():
        setup(app)

    app.cleanup_ctx.append(store_ctx)
    app.cleanup_ctx.append(settings_ctx)
    app.cleanup_ctx.append(first_admin_ctx)
    app.cleanup_ctx.append(dispatcher_ctx)
    app.cleanup_ctx.append(kb_ctx)
    return app


def _feature_setups():
    """Route setups of the feature modules (widget, console, admin, surveys, reports) that exist."""
    import importlib

    setups = []
    for name in ("widget", "console", "admin", "surveys", "reports"):
        try:
            module = importlib.import_module(f"chatserver.views.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"chatserver.views.{name}":
                raise
            continue
        setups.append(module.setup)
    return setups
