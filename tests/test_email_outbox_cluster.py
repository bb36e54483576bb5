"""The outbox runs once across a cluster: two nodes (two `Desk`s with their own `RedisLiveState` on one Redis and
their own store on one database) tick the timed jobs together; every queued email reaches the real SMTP server
(aiosmtpd) exactly once; when a node stops, the other takes over and sends the rest, still once each."""
from __future__ import annotations

import asyncio
import collections
import time
import uuid
from pathlib import Path

import pytest

from chatserver.cluster import redis_client
from chatserver.cluster.names import RedisNames
from chatserver.config import Config
from chatserver.desk import Desk, timed_jobs
from chatserver.desk.events import RecordingNotifier
from chatserver.desk.live_redis import RedisLiveState
from chatserver.mail.sender import SmtpMailer
from chatserver.site_settings import SiteSettings
from chatserver.store import Store
from chatserver.store import outbox as outbox_queries
from chatserver.tokens import ServerSecret
from triage import KnowledgeBase

from support.redis_service import delete_prefixed, redis_prefix, redis_url  # noqa: F401 (fixtures)
from support.smtp_server import SmtpServer

FIXTURE_KB = Path(__file__).parent / "fixtures" / "kb"
LIMITS = {"visitor_messages": (3, 10.0), "visitor_events": (60, 10.0), "new_visitors": (30, 60.0)}


class CountingMailer(SmtpMailer):
    def __init__(self):
        self.sent = 0

    async def send(self, *args, **kwargs):
        answer = await super().send(*args, **kwargs)
        self.sent += 1
        return answer


@pytest.fixture
async def cluster(tmp_path, redis_url, redis_prefix):
    mail = SmtpServer(tmp_path).start()
    made: list[Desk] = []
    kb = KnowledgeBase.load(FIXTURE_KB)

    async def node() -> Desk:
        config = Config(data_dir=tmp_path, kb_dir=FIXTURE_KB, kb_encoder=False, smtp_url=mail.url(),
                        email_from="support@shop.example", smtp_timeout_seconds=2.0)
        store = Store(config.db_path)
        await store.start()
        settings = SiteSettings(config, store)
        await settings.load()
        live = RedisLiveState(redis_client.connect(redis_url), RedisNames(redis_prefix).key("live"),
                              uuid.uuid4().hex, LIMITS, leader_ttl_seconds=1.0)
        await live.start()
        desk = Desk(config=config, store=store, live=live, notifier=RecordingNotifier(), kb=kb, settings=settings,
                    secret=ServerSecret.load_or_create(tmp_path), mailer=CountingMailer())
        made.append(desk)
        return desk

    yield node, mail
    for desk in made:
        await desk.close()
        await desk.live.close()
        await desk.live.redis.aclose()
        await desk.store.close()
    mail.stop()


async def ticking(desk) -> None:
    while True:
        await timed_jobs.tick(desk)
        await asyncio.sleep(0.05)


async def until(condition, timeout: float = 10.0) -> None:
    """The SMTP server counts an email at DATA; the sender's count follows when its SMTP conversation ends."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)


async def queue(desk, count: int, tag: str) -> list[str]:
    ids = []
    for n in range(count):
        message_id = f"<{tag}.{n}.{uuid.uuid4().hex}@shop.example>"
        raw = (f"Message-ID: {message_id}\r\nFrom: support@shop.example\r\nTo: o{n}@shop.example\r\n"
               f"Subject: {tag} {n}\r\n\r\nhello\r\n")
        await desk.store.write(outbox_queries.queue_email, message_id, "test", f"o{n}@shop.example", time.time(),
                               subject=f"{tag} {n}", raw=raw)
        ids.append(message_id)
    return ids


async def test_two_nodes_send_each_email_once_and_the_other_takes_over(cluster):
    node, mail = cluster
    first, second = await node(), await node()
    tasks = [asyncio.create_task(ticking(first)), asyncio.create_task(ticking(second))]
    try:
        ids = await queue(first, 12, "a") + await queue(second, 12, "b")
        await mail.wait_for(24, timeout=30)
        # The leader sends them (leadership may move under load: then the lease still keeps each email once).
        await until(lambda: first.mailer.sent + second.mailer.sent == 24)
        print(f"sent by the two nodes: {first.mailer.sent}, {second.mailer.sent}")

        tasks[0].cancel()                                   # the first node stops; its leader key expires
        await asyncio.gather(tasks[0], return_exceptions=True)
        running = first.jobs.get("outbox")
        if running is not None:
            await asyncio.wait_for(asyncio.shield(running), 10)     # its last run found nothing more
        before = second.mailer.sent
        ids += await queue(first, 6, "c")                   # queued on the stopped node's database all the same
        await mail.wait_for(30, timeout=30)
        await until(lambda: second.mailer.sent - before == 6)   # the other node took over
        await asyncio.sleep(1.5)
        counts = collections.Counter(r.message_id for r in mail.received)
        assert counts == {message_id: 1 for message_id in ids}
        assert await first.store.read(outbox_queries.counts) == {"sent": 30}
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
