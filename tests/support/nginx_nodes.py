"""K real node processes (`python run.py`) on one fresh PostgreSQL database and one fresh Redis prefix, behind a
real nginx running the repo's deploy/nginx.conf.

The config is the deployed file itself: only the upstream's `server` lines, the `listen` line and the log paths
are replaced (deploy/private_nginx.py), and it is wrapped in the few main-context lines a private nginx needs (its own
pid file and temp dirs under tmp_path), exactly as Debian's nginx.conf wraps conf.d/*.conf.

Choosing a node: nginx's ip_hash sends a client address to one node, so a client picks its node by the address it
connects from. Every 127.x.y.z address is this machine, and ip_hash reads the first three octets of an IPv4
address, so `127.0.N.1` for N = 1, 2, ... are distinct clients to nginx; `source_for(node)` probes them once
(GET /healthz from each, reading nginx's access log for the node that answered) and returns one that lands on
that node. Every client of these tests goes through nginx.

Without nginx, PostgreSQL or Redis the tests skip with a reason; under CI=true that is a failure (.ci/run installs
nginx)."""
from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import aiohttp
import pytest

from chatserver.auth import hash_password
from chatserver.store import agents as agent_queries

from .postgres import create_database, require_server
from .process import ServerProcess
from .redis_service import REDIS_URL, _unreachable, delete_prefixed
from .server import ROOT, Recorder, free_port
from .services import unavailable

sys.path.insert(0, str(ROOT / "deploy"))
import private_nginx  # noqa: E402  (deploy/private_nginx.py: the deployed config, rendered for a private nginx)

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
AGENT_PASSWORD = "agent-password-1"


def _require(problem: str | None) -> None:
    if problem:
        unavailable(problem)


class Nginx:
    """A private nginx (not Debian's service) on its own port and prefix, running deploy/nginx.conf."""

    def __init__(self, prefix: Path, node_ports: list[int]):
        self.prefix = prefix
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.access_log = prefix / "logs" / "chat-access.log"
        private_nginx.write_config(prefix, node_ports, self.port)
        self.proc: subprocess.Popen | None = None

    async def start(self) -> "Nginx":
        conf = str(self.prefix / "nginx.conf")
        check = subprocess.run([NGINX, "-t", "-q", "-p", str(self.prefix), "-c", conf], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        self.proc = subprocess.Popen([NGINX, "-p", str(self.prefix), "-c", conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, (self.prefix / "logs" / "error.log").read_text()
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
                writer.close()
                return self
            except OSError:
                await asyncio.sleep(0.05)
        raise AssertionError("nginx did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)   # graceful: the master waits for its worker
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def upstream_of(self, source: str) -> str | None:
        """The node (127.0.0.1:port) that served the last logged request from this client address."""
        return private_nginx.upstream_of(self.access_log, source)


class NodeCluster:
    """K nodes on one database and one Redis prefix behind one nginx; agents created straight in the database."""

    def __init__(self, tmp_path: Path, database_url: str, redis_url: str, redis_prefix: str, env: dict):
        self.tmp_path = tmp_path
        self.database_url = database_url
        self.redis_url = redis_url
        self.redis_prefix = redis_prefix
        self.env = {"CHAT_DATABASE_URL": database_url, "CHAT_REDIS_URL": redis_url, "CHAT_REDIS_PREFIX": redis_prefix,
                    "CHAT_TRUSTED_PROXIES": "127.0.0.1", "CHAT_KB_ENCODER": "false", **env}
        self.nodes: list[ServerProcess] = []
        self.nginx: Nginx | None = None
        self.clients: list[Recorder] = []
        self._sources: dict[str, str] = {}      # client address -> node it lands on
        self._store = None

    async def start(self, count: int) -> "NodeCluster":
        self.nodes = [ServerProcess(self.tmp_path / f"node{i}" / "data", free_port(), env=self.env)
                      for i in range(count)]
        await asyncio.gather(*(node.start() for node in self.nodes))   # all at once, on an empty database
        self.nginx = await Nginx(self.tmp_path / "nginx", [node.port for node in self.nodes]).start()
        return self

    def address(self, node: ServerProcess) -> str:
        return f"127.0.0.1:{node.port}"

    async def source_for(self, node: ServerProcess) -> str:
        """A client address that nginx's ip_hash sends to this node (while it is up)."""
        wanted = self.address(node)
        for source, served_by in self._sources.items():
            if served_by == wanted:
                return source
        for n in range(1, 255):
            source = f"127.0.{n}.1"
            if source in self._sources:
                continue
            connector = aiohttp.TCPConnector(local_addr=(source, 0), force_close=True)
            async with aiohttp.ClientSession(connector=connector) as http:
                async with http.get(self.nginx.url + "/healthz") as resp:
                    assert resp.status == 200
            await asyncio.sleep(0.02)    # the access log line is written as the request ends
            self._sources[source] = self.nginx.upstream_of(source)
            if self._sources[source] == wanted:
                return source
        raise AssertionError(f"no client address lands on {wanted}: {self._sources}")

    def node_of(self, source: str) -> str | None:
        """The node that served this client address's latest request through nginx."""
        return self.nginx.upstream_of(source)

    async def store(self):
        if self._store is None:
            from chatserver.store.postgres import PostgresStore

            self._store = PostgresStore(self.database_url, pool_size=2)
            await self._store.start()
        return self._store

    async def create_agent(self, email: str, name: str, max_chats: int = 3) -> dict:
        store = await self.store()
        return await store.write(agent_queries.create_agent, email, name, hash_password(AGENT_PASSWORD), "agent",
                                 max_chats, [], time.time())

    async def _client(self, namespace: str, source: str, auth: dict) -> Recorder:
        http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(source, 0)))
        client = Recorder(namespace, http_session=http)
        client.http = http
        self.clients.append(client)
        await client.connect(self.nginx.url, auth=auth)
        await client.wait_for("session", timeout=10)
        return client

    async def visitor(self, source: str, token: str | None = None, last_seq: int | None = None) -> Recorder:
        return await self._client("/visitor", source, {"visitor_token": token, "last_seq": last_seq})

    async def agent(self, source: str, email: str, online: bool = True) -> Recorder:
        connector = aiohttp.TCPConnector(local_addr=(source, 0), force_close=True)
        async with aiohttp.ClientSession(connector=connector) as http:
            async with http.post(self.nginx.url + "/login", json={"email": email, "password": AGENT_PASSWORD}) as resp:
                body = await resp.json()
                assert resp.status == 200, body
        client = await self._client("/agent", source, {"token": body["token"]})
        if online:
            ack = await client.call("status", {"status": "online"})
            assert ack["ok"], ack
        return client

    async def close(self) -> None:
        for client in self.clients:
            try:
                await client.disconnect()
            finally:
                await client.http.close()
        if self._store is not None:
            await self._store.close()
        for node in self.nodes:
            node.stop()
        if self.nginx is not None:
            self.nginx.stop()
        await delete_prefixed(self.redis_url, self.redis_prefix)


@pytest.fixture
async def node_cluster(tmp_path):
    """A factory: `await node_cluster(3, CHAT_AGENT_GRACE_SECONDS="5")` -> a started NodeCluster (`redis_url=`: a
    private Redis instead of the machine's). Teardown stops
    the clients, nodes and nginx, deletes the prefix's Redis keys; the database is dropped by conftest's
    drop_test_databases (it was made with create_database)."""
    _require(None if NGINX else "nginx is not installed (apt-get install nginx; the Debian service need not run)")
    redis_problem = _unreachable(REDIS_URL)
    _require(f"Redis is not reachable at {REDIS_URL} ({redis_problem}): start redis-server or set TEST_REDIS_URL"
             if redis_problem else None)
    server = require_server()
    clusters: list[NodeCluster] = []

    async def make(count: int, redis_url: str = REDIS_URL, **env) -> NodeCluster:
        cluster = NodeCluster(tmp_path / f"cluster{len(clusters)}", create_database(server), redis_url,
                              f"test-{uuid.uuid4().hex[:12]}", {k: str(v) for k, v in env.items()})
        clusters.append(cluster)
        return await cluster.start(count)

    yield make
    for cluster in clusters:
        await cluster.close()
