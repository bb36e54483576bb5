"""Who may read what, and sockets that end with their login session (docs/protocol.md, "Who may read what"):
through a real server on a port, real Socket.IO clients and real HTTP requests."""
from __future__ import annotations

import asyncio

import aiohttp

from support.server import ADMIN_EMAIL, ADMIN_PASSWORD, Recorder


async def _chat_with(server, agent_client):
    visitor = await server.visitor()
    ack = await visitor.call("message", {"client_id": "m1", "text": "I need a person"})
    await visitor.call("request_agent", {})
    await agent_client.wait_for("assigned", lambda s: s["conversation"]["id"] == ack["conversation_id"])
    await visitor.call("contact", {"email": "private@example.com"})
    return ack["conversation_id"]


async def _socket(server, token):
    client = Recorder("/agent")
    await client.connect(server.url, auth={"token": token})
    server.clients.append(client)
    await client.wait_for("session")
    return client


async def _gone(client, timeout=5.0):
    for _ in range(int(timeout / 0.05)):
        if not client.sio.connected:
            return True
        await asyncio.sleep(0.05)
    return False


async def test_another_agent_cannot_read_a_chat_assigned_to_someone_else(server):
    await server.create_agent("ana@example.com", "Ana")
    await server.create_agent("ben@example.com", "Ben")
    ana = await server.agent("ana@example.com")
    ben = await server.agent("ben@example.com", online=False)
    cid = await _chat_with(server, ana)
    await ana.call("note", {"conversation_id": cid, "text": "secret note"})
    for event, payload in (("sync", {"conversation_id": cid, "after_seq": 0}),
                           ("conversation", {"conversation_id": cid})):
        ack = await ben.call(event, payload)
        assert ack["ok"] is False and ack["error"] == "not_assigned", (event, ack)
        assert "secret note" not in str(ack) and "private@example.com" not in str(ack)
    # The agent holding it and an admin read it all.
    assert any(m.get("private") for m in (await ana.call("sync", {"conversation_id": cid, "after_seq": 0}))["messages"])
    admin = await server.agent(ADMIN_EMAIL, ADMIN_PASSWORD, online=False)
    snapshot = await admin.call("conversation", {"conversation_id": cid})
    assert snapshot["ok"] and snapshot["visitor"]["email"] == "private@example.com"


async def test_logout_ends_the_sockets_opened_with_that_session_only(server):
    await server.create_agent("ana@example.com", "Ana")
    first, second = await server.login("ana@example.com", "agent-password-1"), \
        await server.login("ana@example.com", "agent-password-1")
    on_first, on_second = await _socket(server, first), await _socket(server, second)
    async with aiohttp.ClientSession() as http:
        async with http.post(server.url + "/logout", headers={"Authorization": f"Bearer {first}"},
                             allow_redirects=False) as resp:
            assert resp.status == 302
    assert await _gone(on_first), "the socket of the ended session still answers"
    assert on_second.sio.connected
    assert (await on_second.call("status", {"status": "away"}))["ok"]


async def test_a_password_change_ends_the_other_sessions_sockets(server):
    await server.create_agent("ana@example.com", "Ana")
    here, elsewhere = await server.login("ana@example.com", "agent-password-1"), \
        await server.login("ana@example.com", "agent-password-1")
    on_here, on_elsewhere = await _socket(server, here), await _socket(server, elsewhere)
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {here}"}) as http:
        async with http.post(server.url + "/account/password", data={
                "current_password": "agent-password-1", "new_password": "a-brand-new-password",
                "repeat_password": "a-brand-new-password"}) as resp:
            assert resp.status == 200, await resp.text()
    assert await _gone(on_elsewhere), "a socket of a signed-out session still answers"
    assert on_here.sio.connected


async def test_an_admin_password_reset_ends_every_socket_of_that_agent(server, admin):
    dana = await server.create_agent("dana@example.com", "Dana")
    socket = await _socket(server, await server.login("dana@example.com", "agent-password-1"))
    status, _, _ = await admin.post_form(f"/admin/agents/{dana['id']}/password", {})
    assert status == 200
    assert await _gone(socket), "the socket outlived the password reset"


async def test_a_demoted_admin_loses_admin_powers_on_open_sockets(server):
    await server.create_agent("ana@example.com", "Ana")
    boss = await server.create_agent("boss@example.com", "Boss", role="admin")
    ana = await server.agent("ana@example.com")
    boss_socket = await _socket(server, await server.login("boss@example.com", "agent-password-1"))
    cid = await _chat_with(server, ana)
    assert (await boss_socket.call("conversation", {"conversation_id": cid}))["ok"]
    token = await server.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        async with http.patch(f"{server.url}/api/admin/agents/{boss['id']}", json={"role": "agent"}) as resp:
            assert resp.status == 200, await resp.text()
    ack = await boss_socket.call("conversation", {"conversation_id": cid})
    assert ack["ok"] is False and ack["error"] == "not_assigned", ack
    ack = await boss_socket.call("close", {"conversation_id": cid})
    assert ack["ok"] is False and ack["error"] == "not_assigned", ack


async def test_the_console_behind_a_proxy_connects_from_the_public_url(server_factory):
    """Behind a TLS proxy the browser's Origin is CHAT_PUBLIC_URL, not the host the server was asked for."""
    server = await server_factory(public_url="https://chat.example.com")
    token = await server.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    console = Recorder("/agent")
    await console.connect(server.url, auth={"token": token}, headers={"Origin": "https://chat.example.com"})
    server.clients.append(console)
    assert (await console.wait_for("session"))["agent"]["role"] == "admin"
