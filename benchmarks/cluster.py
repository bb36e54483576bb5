"""Servers for the several-nodes benchmarks: one or more `run.py` processes on SQLite, or on a PostgreSQL database
and a Redis prefix of their own, made for the run and removed after it.

    with Desk(database="postgres", redis=True, nodes=2, agents=10, max_chats=11) as desk:
        desk.urls, desk.pids, desk.tokens, desk.service_pids()

PostgreSQL and Redis are the machine's (127.0.0.1:5432, trust auth as `postgres`; 127.0.0.1:6379), shared with
other developers: a run creates the database `chat_bench_<random>` and drops it WITH (FORCE) at the end, and
deletes every key under its prefix `bench-<random>`. Nothing else there is touched.
"""
from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import harness

PG_SERVER = os.environ.get("BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
NGINX = "/usr/sbin/nginx"
sys.path.insert(0, str(harness.BENCH.parent / "deploy"))
import private_nginx  # noqa: E402  (deploy/nginx.conf, rendered for a private nginx: the production layout)


def _loopback_only(url: str) -> None:
    if urlsplit(url).hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"benchmarks talk to 127.0.0.1 only, not {url}")


def create_database() -> str:
    import psycopg

    _loopback_only(PG_SERVER)
    name = f"chat_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_SERVER, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(PG_SERVER)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def drop_database(url: str) -> None:
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    assert name.startswith("chat_bench_"), name
    with psycopg.connect(PG_SERVER, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def backend_pids(url: str) -> list[int]:
    """The PostgreSQL server processes serving this database's connections (the nodes' pools), for their CPU."""
    import psycopg

    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(PG_SERVER, autocommit=True, connect_timeout=5) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [name]).fetchall()
    return [row[0] for row in rows]


def redis_pid() -> int | None:
    """redis-server's pid (its CPU is the whole server's: other developers' tests use it too)."""
    import redis

    _loopback_only(REDIS_URL)
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=3)
    try:
        return int(client.info("server")["process_id"])
    finally:
        client.close()


def delete_prefix(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


class Nginx:
    """Our own nginx running the repo's deploy/nginx.conf (ip_hash and all) on a free port in front of the nodes;
    never the system service. ip_hash keeps each client address on one node and reads only the first three octets
    of an IPv4 address, so clients choose their node by connecting from 127.0.N.1 (`sources`)."""

    def __init__(self, node_ports: list[int], workdir: Path, core: str | None):
        self.prefix = workdir / "nginx"
        self.port = harness.free_port()
        self.node_ports, self.core = node_ports, core
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 10.0) -> "Nginx":
        self.prefix.mkdir(parents=True)
        conf = private_nginx.write_config(self.prefix, self.node_ports, self.port, worker_connections=8192)
        self.proc = subprocess.Popen(harness.pinned([NGINX, "-p", str(self.prefix), "-c", str(conf)], self.core),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.proc.stderr.read().decode()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not listen in time")

    def sources(self, per_node: int) -> list[str]:
        """Client addresses, `per_node` landing on each node, interleaved (the i-th on node i % nodes), found by
        asking nginx: GET /healthz from 127.0.N.1 and read which upstream its access log names."""
        by_node: dict[str, list[str]] = {f"127.0.0.1:{port}": [] for port in self.node_ports}
        log = self.prefix / "logs" / "chat-access.log"
        for n in range(1, 255):
            if all(len(found) >= per_node for found in by_node.values()):
                break
            source = f"127.0.{n}.1"
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5, source_address=(source, 0))
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            connection.close()
            time.sleep(0.02)        # the access log line is written as the request ends
            node = private_nginx.upstream_of(log, source)
            if node in by_node and len(by_node[node]) < per_node:
                by_node[node].append(source)
        if not all(len(found) >= per_node for found in by_node.values()):
            raise RuntimeError(f"ip_hash did not spread 127.0.N.1 over every node: {by_node}")
        return [address for group in zip(*by_node.values()) for address in group]

    @property
    def pids(self) -> list[int]:
        """The master and its worker (daemon off: the master is our child)."""
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        return [self.proc.pid, *map(int, children)]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


class Desk:
    """`nodes` product servers sharing one desk; a context manager that stops them and removes what it made."""

    def __init__(self, database: str = "sqlite", redis: bool = False, nodes: int = 1, agents: int = 10,
                 max_chats: int = 11, env: dict | None = None, cores: list[str | None] | None = None,
                 nginx: bool = False):
        if nodes > 1 and not redis:
            raise ValueError("several nodes need Redis")
        self.database, self.redis, self.node_count = database, redis, nodes
        self.agents, self.max_chats = agents, max_chats
        self.env = dict(env or {})
        # Every node on the server core by default: the same CPU budget as one node, the load generator on the other.
        self.cores = cores or [harness.SERVER_CORE] * nodes
        self.database_url = ""
        self.prefix = ""
        self.workdir: Path | None = None
        self.servers: list[harness.ServerProcess] = []
        self.tokens: list[str] = []
        self.nginx: Nginx | None = None
        self.with_nginx = nginx

    def __enter__(self) -> "Desk":
        try:
            self.start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def start(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="bench-desk-"))
        env = dict(self.env)
        if self.database == "postgres":
            self.database_url = create_database()
            env["CHAT_DATABASE_URL"] = self.database_url
        if self.redis:
            self.prefix = f"bench-{uuid.uuid4().hex[:10]}"
            env.update(CHAT_REDIS_URL=REDIS_URL, CHAT_REDIS_PREFIX=self.prefix)
        emails = harness.create_agents(self.workdir / "node0", self.agents, self.max_chats,
                                       database_url=self.database_url) if self.agents else []
        if self.with_nginx:     # as deployed: the nodes believe nginx's X-Forwarded-For (docs/scaling.md)
            env.setdefault("CHAT_TRUSTED_PROXIES", "127.0.0.1")
        for n in range(self.node_count):
            data_dir = self.workdir / f"node{n}"
            data_dir.mkdir(exist_ok=True)
            server = harness.ServerProcess("product", harness.free_port(), data_dir, env=env)
            self.servers.append(server)
            server.start(core=self.cores[n])
        if self.with_nginx:
            self.nginx = Nginx([s.port for s in self.servers], self.workdir, harness.SERVER_CORE).start()
        self.tokens = harness.login_agents(self.servers[0].url, emails)

    def source_addresses(self, per_node: int = 8) -> list[str]:
        """Behind nginx: client addresses spread evenly over the nodes by ip_hash, the i-th landing on node
        i % nodes (as the direct setups split clients); without nginx, none (every client from 127.0.0.1)."""
        return self.nginx.sources(per_node) if self.nginx else []

    @property
    def urls(self) -> list[str]:
        """Where clients connect: nginx when it is in front, else the nodes themselves (clients split across them)."""
        return [self.nginx.url] if self.nginx else [s.url for s in self.servers]

    @property
    def pids(self) -> list[int]:
        return [s.pid for s in self.servers if s.proc is not None and s.proc.poll() is None]

    def service_pids(self) -> list[int]:
        pids = backend_pids(self.database_url) if self.database_url else []
        if self.redis:
            pids.append(redis_pid())
        if self.nginx:
            pids.extend(self.nginx.pids)
        return pids

    def close(self) -> None:
        if self.nginx is not None:
            self.nginx.stop()
        for server in self.servers:
            server.stop()
            server.remove_files()
        if self.database_url:
            drop_database(self.database_url)
        if self.prefix:
            delete_prefix(self.prefix)
        if self.workdir is not None:
            harness.shutil_rmtree(self.workdir)

    def label(self) -> str:
        store = "SQLite" if self.database == "sqlite" else "PostgreSQL"
        return (f"{self.node_count} node{'s' if self.node_count > 1 else ''}, {store}{' + Redis' if self.redis else ''}"
                f"{' behind nginx' if self.nginx else ''}")
