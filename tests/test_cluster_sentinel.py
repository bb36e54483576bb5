"""A `redis+sentinel://` CHAT_REDIS_URL against a real Redis Sentinel (a private redis-server and a sentinel
monitoring it, both started here): the live state and python-socketio's Redis manager both find the primary
through the sentinel."""
from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
import uuid

import orjson
import pytest
import redis

from chatserver.cluster import redis_client
from chatserver.config import Config
from chatserver.desk.live_redis import RedisLiveState
from chatserver.transport import create_socket_server
from chatserver.transport.redis_manager import start_cluster_messaging, stop_cluster_messaging

from support.server import free_port
from support.services import unavailable

REDIS_SERVER = shutil.which("redis-server")


def _wait(check, what: str) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            if check():
                return
        except redis.RedisError:
            pass
        assert time.monotonic() < deadline, f"{what} did not start"
        time.sleep(0.05)


@pytest.fixture
def sentinel_url(tmp_path):
    if REDIS_SERVER is None:
        reason = "redis-server is not installed (apt-get install redis-server), so no Sentinel can be started"
        unavailable(reason)
    primary_port, sentinel_port = free_port(), free_port()
    conf = tmp_path / "sentinel.conf"
    conf.write_text(f"port {sentinel_port}\nbind 127.0.0.1\ndir {tmp_path}\n"
                    f"sentinel monitor chat 127.0.0.1 {primary_port} 1\n")
    processes = [subprocess.Popen([REDIS_SERVER, "--port", str(primary_port), "--bind", "127.0.0.1", "--save", "",
                                   "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        _wait(lambda: redis.Redis(port=primary_port, socket_connect_timeout=0.2).ping(), "redis-server")
        processes.append(subprocess.Popen([REDIS_SERVER, str(conf), "--sentinel"], stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
        _wait(lambda: redis.Redis(port=sentinel_port, socket_connect_timeout=0.2).execute_command(
            "SENTINEL", "get-master-addr-by-name", "chat"), "redis sentinel")
        yield f"redis+sentinel://127.0.0.1:{sentinel_port}/0/chat"
    finally:
        for process in processes:
            process.kill()
            process.wait(10)


async def test_a_sentinel_url_serves_the_live_state_and_the_emits(sentinel_url):
    live = RedisLiveState(redis_client.connect(sentinel_url), "sentinel:live", uuid.uuid4().hex,
                          {"visitor_messages": (1, 10.0)})
    await live.start()
    await live.load([], [], [], 0.0)
    await live.agent_connected({"id": 1, "name": "Dana", "role": "agent", "max_chats": 2, "departments": []},
                               "sid-1", 1.0)
    assert (await live.agent(1)).connected
    assert await live.allow("visitor_messages", "v1", 1.0) and not await live.allow("visitor_messages", "v1", 2.0)
    async with live.routing():
        pass
    await live.close()
    await live.redis.aclose()

    sio = create_socket_server(Config(redis_url=sentinel_url, redis_prefix="sentinel"), cors_allowed_origins="*")
    listener = redis_client.connect(sentinel_url)
    pubsub = listener.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe("sentinel:socketio")
    try:
        await start_cluster_messaging(sio)
        assert sio.manager.listening.is_set()                 # its listener found the primary through the sentinel
        await sio.emit("queue", {"conversations": [], "agents_online": 1}, to="agents", namespace="/agent")
        deadline = time.monotonic() + 5
        while True:                                           # and so did its publisher
            message = await pubsub.get_message(timeout=0.5)
            if message is not None:
                break
            assert time.monotonic() < deadline, "the emit was never published"
        published = orjson.loads(message["data"])
        assert published["event"] == "queue" and published["room"] == "agents"
    finally:
        await stop_cluster_messaging(sio)
        await pubsub.aclose()
        await listener.aclose()
        await asyncio.sleep(0)
