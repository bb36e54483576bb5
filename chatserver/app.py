"""The application factory: everything is built here, wired explicitly, and reached through the AppKeys in
keys.py. The order below is the layering of docs/architecture.md: store and settings, the knowledge base, the
transport and its notifier, the live state, the desk (domain operations), then the edges (namespaces, views)."""
from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Callable

from aiohttp import web

from triage import KnowledgeBase, SentenceEncoder

from . import keys, templating
from .cluster import node as cluster
from .config import Config
from .desk import Desk, account_emails, agents, assignment, email_in, timed_jobs, webhooks
from .desk.live import InProcessLiveState
from .desk.live_redis import RedisLiveState
from .mail import listener as inbound_smtp
from .mail.sender import SmtpMailer
from .files import LocalFileStorage
from .namespaces.agent import AgentNamespace
from .namespaces.visitor import VisitorNamespace
from .notifier import SocketNotifier
from .security import client_address, cross_site, origins, transport_security
from .security.origins import origin_checker
from .security.private_files import prepare_data_dir
from .site_settings import SiteSettings
from .store import create_store
from .store import server_secret
from .tokens import ServerSecret
from .transport import cap_connections_per_address, create_socket_server
from .views import (admin, admin_email, admin_hours, api_v1, attachments, console, email_inbound, public, reports,
                    supervisor, tickets, widget)
from .views.errors import domain_errors
from .webhooks import WebhookSender

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
WEBHOOK_TICK = 0.25


def create_app(config: Config | None = None, clock: Callable[[], float] = time.time) -> web.Application:
    """`clock`: what the desk's business-hours decisions read as now (a test freezes it; desk/context.py)."""
    config = config or Config()
    node = cluster.join(config)   # None: one process (no CHAT_REDIS_URL); a cluster on SQLite is refused
    data_dir = Path(config.data_dir)
    prepare_data_dir(data_dir)

    app = web.Application(client_max_size=1024 * 1024, middlewares=[public.security_headers, domain_errors])
    app[keys.CONFIG] = config
    client_address.setup(app)
    app[keys.SECRETS] = ServerSecret.for_config(config)
    app[keys.STORE] = create_store(config)
    app[keys.SETTINGS] = SiteSettings(config, app[keys.STORE])
    # The encoder is loaded and the questions embedded by the KB's own thread, started in knowledge_base_lifetime.
    kb = KnowledgeBase.load(config.kb_dir, encoder=SentenceEncoder.load if config.kb_encoder else None,
                            cache_dir=config.vector_cache_dir)
    for error in kb.errors:
        log.warning("article %s not loaded: %s", error.path, error.reason)
    app[keys.KB] = kb
    app[keys.TEMPLATES] = templating.environment(HERE / "templates")

    sio = create_socket_server(config, cors_allowed_origins=origin_checker(app[keys.SETTINGS]))
    sio.attach(app)
    cap_connections_per_address(sio, config.max_sockets_per_address)
    app[keys.SIO] = sio

    limits = {
        "visitor_messages": (config.rate_limit_messages, config.rate_limit_window_seconds),
        "visitor_events": (60, 10.0),   # every other visitor event: typing, sync, feedback...
        "visitor_quality": (6, 60.0),   # `quality` reports (docs/quality.md)
        "new_visitors": (config.new_visitors_per_minute_per_ip, 60.0),
        "api_calls": (config.api_rate_limit_per_minute, 60.0),      # per API token (desk/api_tokens.py)
        **account_emails.LIMITS,        # "Forgot your password?" emails, per account and per client address
    }
    live = (RedisLiveState(node.redis, node.names.key("live"), node.node_id, limits) if node
            else InProcessLiveState(limits))
    notifier = SocketNotifier(sio, relay=node.relay if node else None)
    settings = app[keys.SETTINGS]
    sender = WebhookSender(allow_private=lambda: bool(settings.get("webhooks_allow_private")),
                           timeout_seconds=config.webhook_timeout_seconds)
    app[keys.DESK] = Desk(config=config, store=app[keys.STORE], live=live, notifier=notifier, kb=kb,
                          settings=settings, secret=app[keys.SECRETS], mailer=SmtpMailer(),
                          files=LocalFileStorage(data_dir / "attachments"), webhook_sender=sender, clock=clock)
    sio.register_namespace(VisitorNamespace(app))
    sio.register_namespace(AgentNamespace(app))

    public.setup_routes(app)
    transport_security.setup(app)
    cross_site.setup(app)
    origins.setup(app)
    widget.setup(app)
    console.setup(app)
    tickets.setup(app)
    attachments.setup(app)
    supervisor.setup(app)
    admin.setup(app)
    admin_email.setup(app)
    admin_hours.setup(app)
    email_inbound.setup(app)
    reports.setup(app)
    api_v1.setup(app)

    app.cleanup_ctx.append(store_lifetime)
    if node is not None:
        app.cleanup_ctx.append(cluster.lifetime(node, sio, live, notifier))
    app.cleanup_ctx.append(desk_lifetime)
    if config.smtp_inbound:
        app.cleanup_ctx.append(inbound_smtp_lifetime)
    app.cleanup_ctx.append(webhooks_lifetime)
    app.cleanup_ctx.append(knowledge_base_lifetime)
    return app


async def store_lifetime(app: web.Application):
    """The database (writer thread, readers), then the settings saved in it."""
    store = app[keys.STORE]
    await store.start()
    if not app[keys.SECRETS].loaded:  # PostgreSQL: the cluster's key is kept in the database
        app[keys.SECRETS].load(await store.read(server_secret.hmac_key))
    await app[keys.SETTINGS].load()
    yield
    await store.close()


async def desk_lifetime(app: web.Application):
    """The first admin on a new database, live state rebuilt from the store, and the grace-period sweeper; at
    shutdown, the bot's answers still running are cancelled."""
    desk = app[keys.DESK]
    await agents.ensure_first_admin(desk.store, desk.config)
    await assignment.load(desk)

    async def sweep():
        while True:
            await asyncio.sleep(1.0)
            try:
                await timed_jobs.tick(desk)    # on one node of a cluster only
            except Exception:
                log.exception("routing sweep failed")

    task = asyncio.get_running_loop().create_task(sweep())
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await desk.close()


async def inbound_smtp_lifetime(app: web.Application):
    """The inbound SMTP listener (CHAT_SMTP_INBOUND): replies by email into their conversations (docs/email.md)."""
    desk = app[keys.DESK]
    host, _, port = app[keys.CONFIG].smtp_inbound.rpartition(":")
    handler = inbound_smtp.InboundHandler(
        check_recipient=lambda address: email_in.check_recipient(desk, address),
        receive=lambda raw, sender, recipients: email_in.receive_email(desk, raw, sender, recipients))
    server = await inbound_smtp.listen(host.strip("[]"), int(port), handler)
    log.info("inbound SMTP listening on %s", app[keys.CONFIG].smtp_inbound)
    yield
    server.close()
    await server.wait_closed()


async def webhooks_lifetime(app: web.Application):
    """The webhook sender's HTTP client, and the delivery loop: every WEBHOOK_TICK seconds, the node leading the timed
    jobs (one across a cluster) sends what the outbox has due (desk/webhooks.py)."""
    desk = app[keys.DESK]
    await desk.webhook_sender.start()

    async def deliver():
        while True:
            await asyncio.sleep(WEBHOOK_TICK)
            try:
                if await desk.live.leads_timed_jobs(time.time()):
                    while await webhooks.deliver_due(desk) == webhooks.BATCH:
                        pass            # a backlog: keep going without waiting a tick
            except Exception:
                log.exception("webhook delivery failed")

    task = asyncio.get_running_loop().create_task(deliver())
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await desk.webhook_sender.close()


async def knowledge_base_lifetime(app: web.Application):
    """Poll the article folder so edits on disk reach the bot without a restart (only changed files re-index);
    the KB's embedding thread adds sentence meaning in the background (the matcher answers lexically until then),
    and its calibration thread chooses the threshold after every change, unless an admin fixed it."""
    config = app[keys.CONFIG]
    loop = asyncio.get_running_loop()
    kb = app[keys.KB]
    kb.threshold_override = app[keys.SETTINGS].get("kb_threshold")     # None: calibrated
    kb.start_embedding()
    kb.start_calibration()

    async def poll():
        while True:
            await asyncio.sleep(config.kb_poll_seconds)
            try:
                if await loop.run_in_executor(None, kb.refresh):
                    log.info("knowledge base reloaded changed articles")
            except Exception:
                log.exception("knowledge base refresh failed")

    task = loop.create_task(poll())
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await loop.run_in_executor(None, kb.close)      # waits for the embedding thread's current step
