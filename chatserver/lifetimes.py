"""Each long-lived resource gets one cleanup context: set up, yield, tear down."""
from __future__ import annotations

import asyncio
import logging
import secrets
import time

from aiohttp import web

from . import keys
from .auth import hash_password
from .first_admin import record_generated_password
from .store import agents as agent_queries

log = logging.getLogger(__name__)
BOOTSTRAP = web.AppKey("bootstrap", dict)


async def store_ctx(app: web.Application):
    store = app[keys.STORE]
    await store.start()
    yield
    await store.close()


async def settings_ctx(app: web.Application):
    await app[keys.SETTINGS].load()
    yield


async def first_admin_ctx(app: web.Application):
    """On first start, create the admin account; a generated password is written once to a private file in the
    data dir (the database stores only its hash)."""
    config = app[keys.CONFIG]
    store = app[keys.STORE]
    if await store.read(agent_queries.count_agents) == 0:
        password = config.admin_password or secrets.token_urlsafe(12)
        await store.write(agent_queries.create_agent, config.admin_email, "Admin", hash_password(password), "admin",
                          config.default_max_chats, [], time.time())
        app[BOOTSTRAP]["admin_created"] = True
        if not config.admin_password:
            record_generated_password(config.data_dir, config.admin_email, password)
        else:
            print(f"Created admin account {config.admin_email} (password from CHAT_ADMIN_PASSWORD)", flush=True)
    yield


async def kb_ctx(app: web.Application):
    """Poll the article folder so edits on disk reach the bot without a restart (only changed files re-index);
    the KB's embedding thread adds sentence meaning in the background (the matcher answers lexically until then)."""
    config = app[keys.CONFIG]
    loop = asyncio.get_running_loop()
    kb = app[keys.KB]
    kb.start_embedding()

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


async def dispatcher_ctx(app: web.Application):
    dispatcher = app[keys.DISPATCHER]
    await dispatcher.load()

    async def sweep():
        while True:
            await asyncio.sleep(1.0)
            try:
                await dispatcher.sweep()
            except Exception:
                log.exception("routing sweep failed")

    task = asyncio.get_running_loop().create_task(sweep())
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await app[keys.BOT].close()
