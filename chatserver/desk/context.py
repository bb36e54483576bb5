"""`Desk`: what every operation works with (settings, the store, the live state, the notifier, the knowledge
base), built once by the app factory and passed to each operation as its first argument."""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from triage import KnowledgeBase

    from ..config import Config
    from ..files import FileStorage
    from ..site_settings import SiteSettings
    from ..store import Store
    from ..tokens import ServerSecret
    from .events import Notifier
    from .live import LiveState

log = logging.getLogger(__name__)


@dataclass
class Desk:
    config: "Config"
    store: "Store"
    live: "LiveState"
    notifier: "Notifier"
    kb: "KnowledgeBase"
    settings: "SiteSettings"
    secret: "ServerSecret"
    # Hands composed emails to the SMTP server (mail/sender.py SmtpMailer); the outbox worker calls it.
    mailer: object = None
    files: "FileStorage | None" = None          # attachments' bytes (chatserver/files/)
    # chatserver/webhooks.WebhookSender: the HTTP side of webhooks (the domain never imports aiohttp).
    webhook_sender: object = None
    background: set = field(default_factory=set)
    # Named long-running jobs of this node, one each (the outbox's delivery run), cancelled at shutdown.
    jobs: dict = field(default_factory=dict)
    # One article save at a time: validation and the write see the same folder.
    article_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    supervisor_board_at: float = 0.0          # when the timed jobs last published the supervisor board
    # The clock business hours are decided on (desk/hours.py: open now, back when); create_app sets it, a test
    # freezes it there (tests/support/server.py `start_server(clock=...)`).
    clock: Callable[[], float] = time.time

    def run_in_background(self, coroutine, what: str) -> None:
        """Work that must not hold up an ack (the bot's answer): logged if it fails, cancelled at shutdown."""
        async def guarded():
            try:
                await coroutine
            except Exception:
                log.exception("%s failed", what)

        task = asyncio.get_running_loop().create_task(guarded())
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    async def close(self) -> None:
        tasks = [*self.background, *self.jobs.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
