"""Admin → Agents: invite with a one-time password, edit role/capacity/departments, disable with immediate effect
(sessions ended, sockets disconnected, chats requeued), and the JSON API's documented errors."""
from __future__ import annotations

import asyncio
import html
import re

import aiohttp

from chatserver import keys
from chatserver.store import agents as agent_queries
from chatserver.store import conversations as conv_queries

from support.admin_client import field_error


async def until_disconnected(client, timeout: float = 5.0) -> None:
    """The server already dropped the socket; give the client's reader a moment to notice."""
    for _ in range(int(timeout / 0.05)):
        if not client.sio.connected:
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the agent socket is still connected")


async def test_inviting_an_agent_shows_a_one_time_password_that_works_once_shown(server, admin):
    status, page, headers = await admin.post_form("/admin/agents", [
        ("name", "Dana Scully"), ("email", "Dana@Example.com"), ("role", "agent"), ("max_chats", "4"),
        ("departments", "billing"), ("departments", "orders"), ("other_departments", "vip, orders ,")])
    assert status == 200, page[:500]
    assert headers["Cache-Control"] == "no-store"
    password = html.unescape(re.search(r'<code class="ad-secret" id="new-password">(.*?)</code>', page).group(1))
    assert len(password) >= 12
    created = await server.store.read(agent_queries.password_hash_for, "dana@example.com")
    agent = await server.store.read(agent_queries.get_agent, created[0])
    assert (agent["name"], agent["role"], agent["max_chats"], agent["departments"]) == (
        "Dana Scully", "agent", 4, ["billing", "orders", "vip"])
    # The generated password signs in; it is not shown again.
    assert await server.login("dana@example.com", password)
    _, listing, _ = await admin.get("/admin/agents")
    assert password not in listing and "Dana Scully" in listing


async def test_invite_form_errors_are_inline_and_nothing_is_created(server, admin):
    status, page, _ = await admin.post_form("/admin/agents", {"name": "", "email": "not-an-email", "role": "owner",
                                                              "max_chats": "0", "password": "short"})
    assert status == 400
    assert field_error(page, "name") and field_error(page, "email") and field_error(page, "role")
    assert "from 1 to 50" in field_error(page, "max_chats")
    assert "10 to 200 characters" in field_error(page, "password")
    assert 'value="not-an-email"' in page                                     # what was typed is kept
    assert await server.store.read(agent_queries.count_agents) == 1
    status, page, _ = await admin.post_form("/admin/agents", {"name": "Twin", "email": "ADMIN@localhost",
                                                              "role": "agent", "max_chats": "2",
                                                              "password": "a-long-password"})
    assert status == 409 and "already exists" in field_error(page, "email")


async def test_editing_role_capacity_and_departments_applies_to_routing_at_once(server, admin):
    dana = await server.create_agent("dana@example.com", "Dana", max_chats=2)
    client = await server.agent("dana@example.com")
    status, _, headers = await admin.post_form(f"/admin/agents/{dana['id']}", [
        ("name", "Dana S."), ("role", "admin"), ("max_chats", "5"), ("departments", "billing")])
    assert status == 303 and headers["Location"] == "/admin/agents?done=saved"
    saved = await server.store.read(agent_queries.get_agent, dana["id"])
    assert (saved["name"], saved["role"], saved["max_chats"], saved["departments"], saved["disabled"]) == (
        "Dana S.", "admin", 5, ["billing"], False)
    state = await server.app[keys.DESK].live.agent(dana["id"])
    assert (state.max_chats, state.departments, state.name) == (5, ["billing"], "Dana S.")
    assert client.sio.connected                                               # an edit does not disconnect
    live = await client.wait_for("status", lambda st: st["max_chats"] == 5)   # the console shows "0 of 5" at once
    assert live["agent_id"] == dana["id"]
    _, page, _ = await admin.get("/admin/agents")
    row = page.split(f'data-agent-id="{dana["id"]}"', 1)[1].split("</tr>", 1)[0]
    assert "online" in row and "0 / 5" in row


async def test_disabling_an_agent_ends_sessions_and_sockets_at_once_and_requeues_their_chats(server, admin):
    dana = await server.create_agent("dana@example.com", "Dana")
    token = await server.login("dana@example.com", "agent-password-1")
    agent = await server.agent("dana@example.com")
    visitor = await server.visitor()
    ack = await visitor.call("message", {"client_id": "q1", "text": "I want to talk to a person"})
    await visitor.call("request_agent", {})
    assigned = await agent.wait_for("assigned")
    assert assigned["conversation"]["id"] == ack["conversation_id"]

    status, _, headers = await admin.post_form(f"/admin/agents/{dana['id']}/disabled", {"disabled": "true"})
    assert status == 303 and headers["Location"] == "/admin/agents?done=disabled"

    # Their socket is gone, their chat is back in the queue, their tokens no longer work, they cannot sign in.
    assert dana["id"] not in server.app[keys.DESK].live.agent_sids          # dropped before the answer came
    await until_disconnected(agent)
    conversation = await server.store.read(conv_queries.get_conversation, ack["conversation_id"])
    assert conversation["status"] == "queued" and conversation["agent_id"] is None
    await visitor.wait_for("queue", lambda q: q["conversation_id"] == ack["conversation_id"])
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        async with http.get(server.url + "/api/console/agents") as resp:
            assert resp.status == 401
        async with http.post(server.url + "/login", json={"email": "dana@example.com",
                                                         "password": "agent-password-1"}) as resp:
            assert resp.status == 401
    _, page, _ = await admin.get("/admin/agents")
    assert "disabled" in page.split(f'data-agent-id="{dana["id"]}"', 1)[1].split("</tr>", 1)[0]

    # Enabling lets them sign in again.
    status, _, _ = await admin.post_form(f"/admin/agents/{dana['id']}/disabled", {"disabled": "false"})
    assert status == 303
    assert await server.login("dana@example.com", "agent-password-1")


async def test_admins_cannot_lock_themselves_out(server, admin):
    status, page, _ = await admin.post_form("/admin/agents/1", {"name": "Admin", "role": "agent", "max_chats": "3"})
    assert status == 409 and "own account" in page
    status, answer = await admin.call("PATCH", "/api/admin/agents/1", {"disabled": True})
    assert (status, answer["error"]) == (409, "own_account")
    assert (await server.store.read(agent_queries.get_agent, 1))["role"] == "admin"


async def test_password_reset_shows_a_new_password_and_signs_the_agent_out(server, admin):
    dana = await server.create_agent("dana@example.com", "Dana")
    token = await server.login("dana@example.com", "agent-password-1")
    status, page, _ = await admin.post_form(f"/admin/agents/{dana['id']}/password", {})
    assert status == 200
    password = html.unescape(re.search(r'id="new-password">(.*?)</code>', page).group(1))
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        async with http.get(server.url + "/api/console/agents") as resp:
            assert resp.status == 401
    assert await server.login("dana@example.com", password)


async def test_agents_api_answers_with_documented_codes(server, admin):
    status, answer = await admin.call("POST", "/api/admin/agents", {
        "email": "fox@example.com", "name": "Fox", "role": "agent", "max_chats": 2, "departments": ["shipping"]})
    assert status == 201 and answer["password"] and answer["agent"]["departments"] == ["shipping"]
    fox = answer["agent"]
    status, answer = await admin.call("POST", "/api/admin/agents", {
        "email": "FOX@example.com", "name": "Fox 2", "role": "agent", "max_chats": 2, "departments": []})
    assert (status, answer["error"]) == (409, "agent_exists")
    status, answer = await admin.call("POST", "/api/admin/agents", {
        "email": "x@example.com", "name": "X", "role": "agent", "max_chats": 99, "departments": []})
    assert (status, answer["error"]) == (400, "out_of_range") and set(answer["fields"]) == {"max_chats"}
    status, answer = await admin.call("POST", "/api/admin/agents", ["not", "an", "object"])
    assert (status, answer["error"]) == (400, "invalid_payload")
    status, answer = await admin.call("PATCH", f"/api/admin/agents/{fox['id']}", {"email": "new@example.com"})
    assert (status, answer["error"]) == (400, "invalid_payload")
    status, answer = await admin.call("PATCH", "/api/admin/agents/999", {"max_chats": 4})
    assert (status, answer["error"]) == (404, "agent_not_found")
    status, answer = await admin.call("PATCH", f"/api/admin/agents/{fox['id']}", {"max_chats": 4, "disabled": True})
    assert status == 200 and answer["agent"]["max_chats"] == 4 and answer["agent"]["disabled"] is True
    status, answer = await admin.call("GET", "/api/admin/agents")
    listed = {a["email"]: a for a in answer["agents"]}
    assert listed["fox@example.com"]["status"] == "offline" and "password_hash" not in listed["fox@example.com"]
