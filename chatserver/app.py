"""The application factory: everything is built here and reached through the AppKeys in keys.py."""
from __future__ import annotations

import logging
from pathlib import Path

import socketio
from aiohttp import web

from triage import KnowledgeBase, SentenceEncoder

from . import client_address, connection_cap, cross_site, jsoncodec, keys, origins, templating, transport_security
from .bot import Bot
from .config import Config
from .dispatch import Dispatcher
from .lifetimes import BOOTSTRAP, dispatcher_ctx, first_admin_ctx, kb_ctx, settings_ctx, store_ctx
from .namespaces.agent import AgentNamespace
from .namespaces.visitor import VisitorNamespace
from .private_files import prepare_data_dir
from .secrets import Secrets
from .site_settings import SiteSettings
from .store import Store
from .tuning import InlineSendManager
from .websocket import tune_websocket_transport
from .views import public

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent


def origin_checker(settings: SiteSettings):
    """Engine.IO-level check for every transport request: the server's own pages, plus the sites allowed to
    embed the widget (CHAT_ALLOWED_ORIGINS, changeable in the admin settings; none by default). The agent
    namespace narrows this to same-origin only."""

    def check(origin, environ=None) -> bool:
        if origin is None:
            return True
        allowed = settings.get("allowed_origins")
        if "*" in allowed or origin.rstrip("/") in allowed:
            return True
        return origins.is_own_origin(origin, settings.config, (environ or {}).get("HTTP_HOST"))

    return check


def create_app(config: Config | None = None) -> web.Application:
    config = config or Config()
    data_dir = Path(config.data_dir)
    prepare_data_dir(data_dir)

    app = web.Application(client_max_size=1024 * 1024, middlewares=[public.security_headers])
    app[keys.CONFIG] = config
    client_address.setup(app)
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

    sio = socketio.AsyncServer(
        async_mode="aiohttp",
        cors_allowed_origins=origin_checker(app[keys.SETTINGS]),
        # Visitor sockets authenticate with their token, agent sockets are same-origin: no cross-site cookies.
        cors_credentials=False,
        max_http_buffer_size=config.max_http_buffer_size,
        # Handlers of one client run one after another, so its messages are stored in the order sent.
        async_handlers=False,
        ping_interval=config.ping_interval_seconds,
        ping_timeout=config.ping_timeout_seconds,
        json=jsoncodec,
        client_manager=InlineSendManager(),
        logger=False,
        engineio_logger=False,
    )
    sio.attach(app)
    connection_cap.install(sio, config.max_sockets_per_address)
    # No per-connection deflate contexts (~90 KB of RSS each) and no task per frame (docs/performance.md).
    tune_websocket_transport(sio)
    app[keys.SIO] = sio
    app[keys.DISPATCHER] = Dispatcher(config, app[keys.STORE], sio)
    app[keys.BOT] = Bot(app)
    sio.register_namespace(VisitorNamespace(app))
    sio.register_namespace(AgentNamespace(app))

    public.setup_routes(app)
    transport_security.setup(app)
    cross_site.setup(app)
    origins.setup(app)
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
