"""Fixtures: a real server on a free port (own temp data dir and SQLite file), real Socket.IO clients, Chromium.
The helpers they use live in tests/support/."""
from __future__ import annotations

from pathlib import Path

import pytest

from support import postgres
from support.admin_client import admin, kb_desk  # noqa: F401 (fixtures, registered for every test)
from support.browser import CHROMIUM, CHROMIUM_ARGS
from support.server import RunningServer, start_server
from support.widget_host import host_site  # noqa: F401 (a fixture)

# Tests written before tests/support/ existed import these names from here; new tests import them from support.
from support.browser import record_page_problems, screenshot_path, sign_in  # noqa: F401
from support.server import ADMIN_EMAIL, ADMIN_PASSWORD, FIXTURE_KB, ROOT, Recorder, free_port  # noqa: F401


@pytest.fixture(autouse=True)
def drop_test_databases():
    """On PostgreSQL (CHAT_TEST_DATABASE_URL): the databases a test made are dropped when it ends."""
    yield
    postgres.drop_created()


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
