"""Redis restarted under two cluster nodes (the whole app, as in tests/test_cluster_journey.py, on a private
redis-server of its own so the machine's Redis is never touched): while it is down, a visitor's message gets an
error ack and is not stored; when it comes back empty (no persistence), the nodes recover by themselves: the
timed jobs' leader rebuilds the live state from the database, the Socket.IO managers and node relays subscribe
again, and the retried message is stored once and reaches the agent on the other node."""
from __future__ import annotations

import asyncio
import shutil
import subprocess
import time

import pytest
import redis

from chatserver.cluster import node as cluster_node

from support.server import free_port
from support.services import unavailable

REDIS_SERVER = shutil.which("redis-server")


class PrivateRedis:
    def __init__(self, directory):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.directory = directory
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen([REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no", "--dir", str(self.directory)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.2).ping()
                return
            except redis.RedisError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.05)

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(10)


@pytest.fixture
def private_redis(tmp_path):
    if REDIS_SERVER is None:
        reason = "redis-server is not installed (apt-get install redis-server), so Redis cannot be restarted"
        unavailable(reason)
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    if server.process.poll() is None:
        server.stop()


async def test_the_nodes_recover_by_themselves_when_redis_restarts_empty(private_redis, server_factory, monkeypatch):
    # private_redis first: it is torn down after the servers, which leave it cleanly
    monkeypatch.setattr(cluster_node, "uses_sqlite", lambda config: False)      # see tests/test_cluster_journey.py
    cluster = {"redis_url": private_redis.url, "redis_prefix": "restart", "bot_enabled": False, "kb_encoder": False}
    a = await server_factory(**cluster)
    b = await server_factory(**cluster)
    await a.create_agent("dana@example.com", "Dana")
    console = await b.agent("dana@example.com")                       # online, on node b
    visitor = await a.visitor()                                       # on node a
    first = await visitor.call("message", {"client_id": "c1", "text": "where is my parcel"})
    cid = first["conversation_id"]
    await console.wait_for("assigned")

    private_redis.stop()
    refused = await visitor.call("message", {"client_id": "c2", "text": "are you there?"})
    assert refused == {"ok": False, "error": "storage_error", "message": refused["message"]}, refused
    private_redis.start()                                             # empty: no persistence
    started = time.monotonic()
    while True:                                                       # the widget's outbox retries, same client_id
        ack = await visitor.call("message", {"client_id": "c2", "text": "are you there?"})
        if ack["ok"]:
            break
        assert ack["error"] == "storage_error", ack
        assert time.monotonic() - started < 20, "the nodes did not recover"
        await asyncio.sleep(0.2)
    accepted = time.monotonic() - started
    # The next seq after the first message and the stored "Dana joined" line between them: none lost, none doubled.
    assert ack["seq"] == first["seq"] + 2 and ack["duplicate"] is False
    # Emits cross nodes again once both nodes subscribed again (one published meanwhile is lost, not the message).
    for attempt in range(100):
        text = f"ping {attempt}"
        assert (await visitor.call("message", {"client_id": f"p{attempt}", "text": text}))["ok"]
        try:
            await console.wait_for("message", lambda m, text=text: m["text"] == text, timeout=0.3)
            break
        except AssertionError:
            assert time.monotonic() - started < 20, "emits never crossed nodes again"
    print(f"after Redis came back empty: messages accepted again in {accepted:.1f} s, emits crossing nodes again in "
          f"{time.monotonic() - started:.1f} s")
    # Every acked message is stored once and in order; the refused one was never stored.
    synced = await console.call("sync", {"conversation_id": cid, "after_seq": 0})
    texts = [m["text"] for m in synced["messages"] if m["author"] == "visitor"]
    assert texts[:2] == ["where is my parcel", "are you there?"] and texts.count("are you there?") == 1
    assert [m["seq"] for m in synced["messages"]] == sorted({m["seq"] for m in synced["messages"]})
    # Her status was lost with Redis (she is away, as after a restart); her chat was not.
    assert (await console.wait_for("status", lambda s: s["status"] == "away"))["open_chats"] == 1
    reply = await console.call("message", {"conversation_id": cid, "client_id": "r1", "text": "yes, still here"})
    assert reply["ok"], reply
    await visitor.wait_for("message", lambda m: m["text"] == "yes, still here", timeout=5)
