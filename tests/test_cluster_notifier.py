"""The notifier across nodes: two Socket.IO servers built by `create_socket_server` with CHAT_REDIS_URL set (so
python-socketio's AsyncRedisManager on the prefixed channel), each on its own port with its own `SocketNotifier`
and node relay, run by the cluster node's real lifetime. Real Socket.IO clients connect to either node; a tiny
namespace joins them to the notifier's rooms as the real namespaces do. Events published on one node reach the
sockets on both, and signing an agent out ends their sockets on every node."""
from __future__ import annotations

import asyncio
import time
import uuid

import pytest
import redis.asyncio
import socketio
from aiohttp import web

from chatserver.cluster import redis_client
from chatserver.cluster.names import RedisNames
from chatserver.cluster.node import ClusterNode, lifetime
from chatserver.cluster.relay import NodeRelay
from chatserver.config import Config
from chatserver.desk.events import AgentSignedOut, MessageAdded, QueueBoard
from chatserver.desk.live import InProcessLiveState
from chatserver.notifier import SocketNotifier
from chatserver.transport import create_socket_server

from support.redis_service import redis_prefix, redis_url  # noqa: F401 (fixtures)
from support.server import Recorder, free_port


class JoinOnConnect(socketio.AsyncNamespace):
    """Joins each socket to the notifier's rooms from its auth, as chatserver/namespaces do after authenticating."""

    def __init__(self, namespace: str, notifier: SocketNotifier):
        super().__init__(namespace)
        self.notifier = notifier

    async def on_connect(self, sid, environ, auth):
        if self.namespace == "/visitor":
            await self.notifier.join_visitor(sid, auth["visitor_id"])
        else:
            await self.notifier.join_agent(sid, auth["agent_id"], auth.get("session_hash"))


class SocketNode:
    def __init__(self, url: str):
        self.url = url
        self.runner: web.AppRunner | None = None
        self.notifier: SocketNotifier | None = None


@pytest.fixture
async def socket_nodes(redis_url, redis_prefix):
    nodes: list[SocketNode] = []
    clients: list[Recorder] = []

    async def make() -> SocketNode:
        config = Config(redis_url=redis_url, redis_prefix=redis_prefix)
        sio = create_socket_server(config, cors_allowed_origins="*")
        names = RedisNames(redis_prefix)
        client = redis_client.connect(redis_url)
        node_id = uuid.uuid4().hex
        cluster_node = ClusterNode(redis=client, names=names, node_id=node_id,
                                   relay=NodeRelay(client, names.relay_channel, node_id))
        notifier = SocketNotifier(sio, relay=cluster_node.relay)
        for namespace in ("/visitor", "/agent"):
            sio.register_namespace(JoinOnConnect(namespace, notifier))
        app = web.Application()
        sio.attach(app)
        app.cleanup_ctx.append(lifetime(cluster_node, sio, InProcessLiveState({}), notifier))
        port = free_port()
        node = SocketNode(f"http://127.0.0.1:{port}")
        node.notifier = notifier
        node.runner = web.AppRunner(app, handle_signals=False)
        await node.runner.setup()
        await web.TCPSite(node.runner, "127.0.0.1", port).start()
        nodes.append(node)
        return node

    async def connect(node: SocketNode, namespace: str, **auth) -> Recorder:
        recorder = await Recorder(namespace).connect(node.url, auth=auth)
        clients.append(recorder)
        return recorder

    yield make, connect
    for recorder in clients:
        await recorder.disconnect()
    for node in nodes:
        await node.runner.cleanup()


async def until(check, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "not true in time"
        await asyncio.sleep(0.02)


def connected(recorder: Recorder) -> bool:
    return recorder.sio.connected and recorder.namespace in recorder.sio.namespaces


async def test_an_event_published_on_one_node_reaches_the_sockets_on_every_node(socket_nodes):
    make, connect = socket_nodes
    a, b = await make(), await make()
    tab_on_a = await connect(a, "/visitor", visitor_id="v1")
    tab_on_b = await connect(b, "/visitor", visitor_id="v1")
    console_on_a = await connect(a, "/agent", agent_id=7)
    console_on_b = await connect(b, "/agent", agent_id=7)
    message = {"id": 1, "conversation_id": 1, "seq": 1, "author": "visitor", "text": "hello", "private": False}
    # Sent from the tab on b (which has its ack): every other tab and console hears it, on both nodes.
    await a.notifier.publish([MessageAdded(message, "v1", 7, sender_sid=tab_on_b.sio.get_sid("/visitor"))])
    for recorder in (tab_on_a, console_on_a, console_on_b):
        assert (await recorder.wait_for("message"))["text"] == "hello"
    await b.notifier.publish([QueueBoard([], 1)])
    for console in (console_on_a, console_on_b):
        assert (await console.wait_for("queue"))["agents_online"] == 1
    await asyncio.sleep(0.2)                              # anything duplicated or misrouted has arrived by now
    assert tab_on_b.of("message") == []
    assert [len(r.of("message")) for r in (tab_on_a, console_on_a, console_on_b)] == [1, 1, 1]


async def test_signing_an_agent_out_ends_their_sockets_on_every_node(socket_nodes):
    make, connect = socket_nodes
    a, b = await make(), await make()
    first_on_a = await connect(a, "/agent", agent_id=7, session_hash="h1")
    first_on_b = await connect(b, "/agent", agent_id=7, session_hash="h1")
    second_on_b = await connect(b, "/agent", agent_id=7, session_hash="h2")
    third_on_a = await connect(a, "/agent", agent_id=7, session_hash="h3")
    someone_else = await connect(b, "/agent", agent_id=8, session_hash="h9")
    await a.notifier.publish([AgentSignedOut(7, session_hash="h1")])            # logout of one login session
    await until(lambda: not connected(first_on_a) and not connected(first_on_b))
    assert connected(second_on_b) and connected(third_on_a)
    await b.notifier.publish([AgentSignedOut(7, keep_session_hash="h2")])       # a password change made in h2
    await until(lambda: not connected(third_on_a))
    assert connected(second_on_b)
    await a.notifier.publish([AgentSignedOut(7)])                               # disabled
    await until(lambda: not connected(second_on_b))
    await asyncio.sleep(0.1)
    assert connected(someone_else)


async def test_the_nodes_talk_on_channels_under_the_clusters_prefix(socket_nodes, redis_url, redis_prefix):
    make, _ = socket_nodes
    await make()
    await make()
    client = redis.asyncio.Redis.from_url(redis_url, decode_responses=True)
    try:
        channels = set(await client.pubsub_channels(f"{redis_prefix}:*"))
        subscribers = dict(await client.pubsub_numsub(*sorted(channels)))
    finally:
        await client.aclose()
    assert channels == {f"{redis_prefix}:socketio", f"{redis_prefix}:relay"}
    assert subscribers == {f"{redis_prefix}:socketio": 2, f"{redis_prefix}:relay": 2}
