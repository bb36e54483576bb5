"""A real server on a free port (own temp data dir and SQLite file, or its own PostgreSQL database when the suite
runs on PostgreSQL: support/postgres.py) and real Socket.IO clients."""
from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import replace
from pathlib import Path

import aiohttp
import socketio
from aiohttp import web

from chatserver import Config, create_app
from chatserver import keys
from chatserver.auth import hash_password
from chatserver.store import agents as agent_queries

from .postgres import database_for, on_postgres

ROOT = Path(__file__).resolve().parent.parent.parent
# The small article set the socket journeys are written against.
FIXTURE_KB = ROOT / "tests" / "fixtures" / "kb"
ADMIN_EMAIL = "admin@localhost"
ADMIN_PASSWORD = "admin-password-1"


def on_test_database(config: Config) -> Config:
    """The config as the suite runs it: unchanged on SQLite; with its data dir's own database on PostgreSQL."""
    if on_postgres() and not config.database_url:
        return replace(config, database_url=database_for(config.data_dir))
    return config


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    """A socketio.AsyncClient on one namespace that keeps every event it receives, in order."""

    def __init__(self, namespace: str, serializer="default", **client_options):
        self.namespace = namespace
        self.sio = socketio.AsyncClient(reconnection=False, serializer=serializer, **client_options)
        self.events: list[tuple[str, object]] = []
        self._changed = asyncio.Event()

        @self.sio.on("*", namespace=namespace)
        async def any_event(event, data=None):
            self.events.append((event, data))
            self._changed.set()

    async def connect(self, url: str, auth: dict | None = None, headers: dict | None = None):
        await self.sio.connect(url, namespaces=[self.namespace], auth=auth, transports=["websocket"],
                               headers=headers or {}, wait_timeout=5)
        return self

    async def call(self, event: str, data=None, timeout: float = 5):
        return await self.sio.call(event, data, namespace=self.namespace, timeout=timeout)

    async def emit(self, event: str, data=None):
        await self.sio.emit(event, data, namespace=self.namespace)

    def of(self, event: str) -> list:
        return [data for name, data in self.events if name == event]

    async def wait_for(self, event: str, predicate=lambda data: True, timeout: float = 5.0):
        """The first event of that name (received at any time) matching predicate; waits for it if needed."""
        deadline = time.monotonic() + timeout
        checked = 0  # events before this index were already tested against predicate: only newer ones are
        while True:
            for name, data in self.events[checked:]:
                if name == event and predicate(data):
                    return data
            checked = len(self.events)  # no await since the scan, so nothing arrived unchecked meanwhile
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no {event!r} event matching on {self.namespace}; got "
                                     f"{[n for n, _ in self.events]}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except asyncio.TimeoutError:
                pass

    async def disconnect(self):
        if self.sio.connected:
            await self.sio.disconnect()


class RunningServer:
    def __init__(self, app: web.Application, url: str, runner: web.AppRunner):
        self.app = app
        self.url = url
        self.runner = runner
        self.clients: list[Recorder] = []

    @property
    def store(self):
        return self.app[keys.STORE]

    async def create_agent(self, email: str, name: str, password: str = "agent-password-1", role: str = "agent",
                           max_chats: int = 3, departments: list[str] | None = None) -> dict:
        return await self.store.write(agent_queries.create_agent, email, name, hash_password(password), role,
                                      max_chats, departments or [], time.time())

    async def login(self, email: str, password: str) -> str:
        async with aiohttp.ClientSession() as http:
            async with http.post(self.url + "/login", json={"email": email, "password": password}) as resp:
                body = await resp.json()
                assert resp.status == 200, body
                return body["token"]

    async def visitor(self, token: str | None = None, last_seq: int | None = None, **auth) -> Recorder:
        client = Recorder("/visitor")
        await client.connect(self.url, auth={"visitor_token": token, "last_seq": last_seq, **auth})
        self.clients.append(client)
        await client.wait_for("session")
        return client

    async def agent(self, email: str, password: str = "agent-password-1", online: bool = True) -> Recorder:
        token = await self.login(email, password)
        client = Recorder("/agent")
        await client.connect(self.url, auth={"token": token})
        self.clients.append(client)
        await client.wait_for("session")
        if online:
            ack = await client.call("status", {"status": "online"})
            assert ack["ok"], ack
        return client


async def start_server(tmp_path: Path, clock=time.time, **overrides) -> RunningServer:
    """`clock`: what the desk's business hours read as now (create_app's seam; a frozen one in hours tests)."""
    port = free_port()
    config = Config(host="127.0.0.1", port=port, data_dir=tmp_path / "data", admin_password=ADMIN_PASSWORD,
                    kb_poll_seconds=0.3)
    config = replace(config, **overrides)
    if "database_url" not in overrides:     # a test that names its database (even "" for SQLite) gets that one
        config = on_test_database(config)
    app = create_app(config, clock=clock)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    return RunningServer(app, f"http://127.0.0.1:{port}", runner)
