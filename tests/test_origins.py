"""Which sites may open visitor chats (chatserver/security/origins.py, origins.origin_checker): by default only this server's
own pages; an admin allows a site on purpose; `*` still works but warns at start; Engine.IO never echoes an origin
it refuses and never allows credentials cross-site."""
from __future__ import annotations

import logging

import aiohttp
import pytest
import socketio

from support.admin_client import AdminClient
from support.server import Recorder
from test_chat_journey import FIXTURE_KB

QUIET = {"kb_dir": FIXTURE_KB, "kb_encoder": False}
HANDSHAKE = "/socket.io/?EIO=4&transport=polling"


async def handshake(url: str, origin: str | None):
    async with aiohttp.ClientSession() as http:
        async with http.get(url + HANDSHAKE, headers={"Origin": origin} if origin else {}) as resp:
            await resp.read()
            return resp.status, resp.headers


async def test_by_default_only_the_servers_own_pages_may_open_visitor_chats(server_factory):
    server = await server_factory(**QUIET)
    status, headers = await handshake(server.url, "https://evil.example")
    assert status == 400 and "Access-Control-Allow-Origin" not in headers
    with pytest.raises(socketio.exceptions.ConnectionError):
        await Recorder("/visitor").connect(server.url, auth={}, headers={"Origin": "https://evil.example"})
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + "/widget/config.json", headers={"Origin": "https://evil.example"}) as resp:
            assert resp.status == 403 and (await resp.json())["error"] == "forbidden_origin"
    # The server's own pages (the demo page) and non-browser clients (no Origin) are fine.
    own = server.url
    status, headers = await handshake(server.url, own)
    assert status == 200 and headers["Access-Control-Allow-Origin"] == own
    assert "Access-Control-Allow-Credentials" not in headers
    assert (await handshake(server.url, None))[0] == 200
    client = Recorder("/visitor")
    await client.connect(server.url, auth={}, headers={"Origin": own})
    server.clients.append(client)
    await client.wait_for("session")


async def test_the_public_url_counts_as_the_servers_own_origin(server_factory):
    server = await server_factory(public_url="https://chat.example.com", **QUIET)
    assert (await handshake(server.url, "https://chat.example.com"))[0] == 200
    assert (await handshake(server.url, "https://chat.example.com.evil.example"))[0] == 400


async def test_an_allowed_site_may_and_its_answers_carry_no_credentials(server_factory):
    server = await server_factory(allowed_origins=["https://shop.example.com"], **QUIET)
    status, headers = await handshake(server.url, "https://shop.example.com")
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "https://shop.example.com"
    assert "Access-Control-Allow-Credentials" not in headers
    assert (await handshake(server.url, "https://evil.example"))[0] == 400


async def test_first_start_says_how_to_allow_a_site(server_factory, capsys):
    await server_factory(**QUIET)
    out = capsys.readouterr().out
    assert "Only this server's own pages may open visitor chats" in out
    assert "CHAT_ALLOWED_ORIGINS=https://shop.example.com" in out and "Admin → Settings" in out


async def test_any_site_still_works_with_a_warning_at_start(server_factory, caplog, capsys):
    with caplog.at_level(logging.WARNING, logger="chatserver.security.origins"):
        server = await server_factory(allowed_origins=["*"], **QUIET)
    assert any("CHAT_ALLOWED_ORIGINS is '*'" in r.getMessage() for r in caplog.records)
    assert "Only this server's own pages" not in capsys.readouterr().out
    assert (await handshake(server.url, "https://anything.example"))[0] == 200


async def test_an_admin_clearing_the_allowed_origins_allows_no_other_site(server_factory):
    server = await server_factory(allowed_origins=["https://shop.example.com"], **QUIET)
    admin = await AdminClient.login(server)
    try:
        status, answer = await admin.call("PATCH", "/api/admin/settings", {"allowed_origins": []})
        assert status == 200, answer
    finally:
        await admin.close()
    assert (await handshake(server.url, "https://shop.example.com"))[0] == 400
    assert (await handshake(server.url, "https://evil.example"))[0] == 400
