"""Shared fixtures: a real server on a free port (own temp data dir and SQLite file) and real Socket.IO clients."""
from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest
import socketio
from aiohttp import web

from chatserver import Config, create_app
from chatserver import keys
from chatserver.auth import hash_password
from chatserver.store import agents as agent_queries

ROOT = Path(__file__).resolve().parent.parent
ADMIN_EMAIL = "admin@localhost"
ADMIN_PASSWORD = "admin-password-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    """A socketio.AsyncClient on one namespace that keeps every event it receives, in order."""

    def __init__(self, namespace: str):
        self.namespace = namespace
        self.sio = socketio.AsyncClient(reconnection=False)
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
        seen = 0
        while True:
            for name, data in self.events[seen:]:
                if name == event and predicate(data):
                    return data
            seen = 0
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


async def start_server(tmp_path: Path, **overrides) -> RunningServer:
    port = free_port()
    config = Config(host="127.0.0.1", port=port, data_dir=tmp_path / "data", admin_password=ADMIN_PASSWORD,
                    kb_poll_seconds=0.3)
    config = replace(config, **overrides)
    app = create_app(config)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    return RunningServer(app, f"http://127.0.0.1:{port}", runner)


@pytest.fixture(scope="session")
def sentence_vector_cache(tmp_path_factory) -> Path:
    """One sentence-vector cache for the in-process servers of a test run: the model is prepared and the sample
    articles embedded once, not once per server (each server still loads its own encoder)."""
    return tmp_path_factory.mktemp("sentence-vectors")


@pytest.fixture
async def server_factory(tmp_path, sentence_vector_cache):
    servers: list[RunningServer] = []

    async def make(**overrides) -> RunningServer:
        server = await start_server(tmp_path, **{"kb_vector_cache_dir": sentence_vector_cache, **overrides})
        servers.append(server)
        return server

    yield make
    for server in servers:
        for client in server.clients:
            await client.disconnect()
        await server.runner.cleanup()


@pytest.fixture
async def server(server_factory) -> RunningServer:
    return await server_factory()


# -- browsers ---------------------------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
SCREENSHOTS = ROOT / "screenshots"


@pytest.fixture
async def browser():
    """Debian's Chromium driven by Playwright (async API, same event loop as the server under test)."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            await chromium.close()


def screenshot_path(name: str) -> str:
    """Where tests save screenshots of the main states (see README: screenshots/)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    return str(SCREENSHOTS / f"{name}.png")


def record_page_problems(page) -> list[str]:
    """Collect a page's script errors and console errors, so a test can assert the page had none."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    return problems


async def sign_in(page, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> None:
    """Fill and send the login form the page is on."""
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")
