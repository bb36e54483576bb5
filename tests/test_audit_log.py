"""The audit log: every admin action through the pages and the APIs gets one entry (who, when, from where, what
changed; never a password or a token's secret), in the action's own transaction; admins read and filter it on
Admin → Audit log and at /api/v1/audit; nobody can change or delete an entry."""
from __future__ import annotations

import json
import re
import time

import aiohttp
import pytest

from chatserver.errors import StorageError
from support.admin_client import AdminClient, copy_kb
from support.api_tokens import make_token, token_id_on_page


async def entries(server) -> list[dict]:
    rows = await server.store.read(lambda db: [dict(r) for r in db.execute(
        "SELECT * FROM audit_log ORDER BY id").fetchall()])
    for row in rows:
        row["changes"] = json.loads(row["changes"]) if row["changes"] else None
    return rows


def actions(rows) -> list[str]:
    return [r["action"] for r in rows]


async def test_every_admin_action_on_the_pages_is_recorded(server_factory, tmp_path):
    server = await server_factory(kb_dir=copy_kb(tmp_path))
    admin = await AdminClient.login(server)
    try:
        rows = await entries(server)
        assert actions(rows) == ["admin.login"]
        assert rows[0]["actor_name"] == "Admin <admin@localhost>" and rows[0]["via"] == "login"
        assert rows[0]["address"] == "127.0.0.1"

        status, page, _ = await admin.post_form("/admin/agents", {"name": "Sam", "email": "sam@example.com",
                                                                  "role": "agent", "max_chats": "2",
                                                                  "password": "sam-password-1"})
        assert status == 200, page[:300]
        sam = (await entries(server))[-1]
        assert sam["action"] == "agent.created" and sam["target_type"] == "agent"
        assert sam["changes"]["email"] == [None, "sam@example.com"] and sam["changes"]["role"] == [None, "agent"]
        assert "sam-password-1" not in json.dumps(await entries(server))
        sam_id = sam["target_id"]

        await admin.post_form(f"/admin/agents/{sam_id}", {"name": "Sam", "role": "admin", "max_chats": "2"})
        await admin.post_form(f"/admin/agents/{sam_id}/disabled", {"disabled": "true"})
        status, page, _ = await admin.post_form(f"/admin/agents/{sam_id}/password", {})
        assert status == 200
        new_password = re.search(r'id="new-password">([^<]+)<', page).group(1)
        await admin.post_form("/admin/settings", {"widget_greeting": "Hello from the audit test",
                                                  "widget_colour": "#2457d6", "allowed_origins": "",
                                                  "business_hours": "always", "survey_enabled": "on"})
        await admin.post_form("/admin/settings/canned-replies", {"shortcut": "hi", "text": "Hello!"})
        token = await make_token(admin, "crm", "read")
        _, tokens_page, _ = await admin.get("/admin/tokens")
        await admin.post_form(f"/admin/tokens/{token_id_on_page(tokens_page, 'crm')}/revoke", {})

        rows = await entries(server)
        assert actions(rows)[2:] == ["agent.role_changed", "agent.disabled", "agent.password_reset",
                                     "settings.updated", "canned_reply.added", "api_token.created",
                                     "api_token.revoked"], actions(rows)
        by_action = {r["action"]: r for r in rows}
        assert by_action["agent.role_changed"]["changes"] == {"role": ["agent", "admin"]}
        assert by_action["agent.disabled"]["changes"] == {"disabled": [False, True]}
        assert by_action["agent.password_reset"]["changes"] is None
        assert by_action["settings.updated"]["changes"]["widget_greeting"][1] == "Hello from the audit test"
        assert "widget_colour" not in by_action["settings.updated"]["changes"]      # unchanged: not listed
        assert by_action["api_token.created"]["changes"] == {"name": [None, "crm"], "scope": [None, "read"]}
        everything = json.dumps(rows)
        assert token not in everything and new_password not in everything
        assert all(r["via"] == "page" and r["address"] == "127.0.0.1" for r in rows[1:])
        assert all(r["created_at"] <= time.time() for r in rows)
    finally:
        await admin.close()


async def test_articles_saved_and_deleted_on_the_editor_are_recorded(kb_desk):
    server, admin, folder = kb_desk
    article = {"title": "Audit me", "slug": "audit-me", "department": "", "tags": "", "questions": "How?",
               "body": "Like this.", "published": "on"}
    status, _, _ = await admin.post_form("/admin/kb/new", article)
    assert status == 303
    await admin.post_form("/admin/kb/audit-me", {**article, "title": "Audit me again"})
    await admin.post_form("/admin/kb/audit-me/delete", {})
    rows = [r for r in await entries(server) if r["action"].startswith("article.")]
    assert actions(rows) == ["article.created", "article.saved", "article.deleted"]
    assert rows[1]["changes"] == {"title": ["Audit me", "Audit me again"]}
    assert all(r["target_id"] == "audit-me" for r in rows)
    assert "Like this." not in json.dumps(rows)          # the text stays in the article's history, not here


async def test_api_calls_are_recorded_with_their_token(server, admin):
    token = await make_token(admin, "hr-sync", "admin")
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        async with http.post(server.url + "/api/v1/agents", json={"email": "kai@example.com", "name": "Kai",
                                                                  "role": "agent", "max_chats": 1,
                                                                  "departments": []}) as resp:
            assert resp.status == 201
        async with http.get(server.url + "/api/v1/audit?action=agent.") as resp:
            body = await resp.json()
    created = [r for r in await entries(server) if r["action"] == "agent.created"][0]
    token_row = [r for r in await entries(server) if r["action"] == "api_token.created"][0]
    assert created["via"] == "api" and created["token_id"] == int(token_row["target_id"])
    assert [e["action"] for e in body["entries"]] == ["agent.created"]


async def test_reads_through_the_api_are_recorded_too(server, admin):
    token = await make_token(admin, "bi-reader", "read")
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        async with http.get(server.url + "/api/v1/conversations?status=closed") as resp:
            assert resp.status == 200
    token_row = [r for r in await entries(server) if r["action"] == "api_token.created"][-1]
    [read] = [r for r in await entries(server) if r["action"] == "api.read"]
    assert (read["via"], read["token_id"], read["target_id"]) == ("api", int(token_row["target_id"]),
                                                                 "/api/v1/conversations")
    assert read["changes"] == {"query": [None, ["status"]]} and token not in json.dumps(read)


async def test_the_log_is_kept_per_its_retention_setting(server, admin):
    from chatserver import keys
    from chatserver.desk import audit, privacy, settings as settings_ops
    from chatserver.store import audit as audit_queries
    desk = server.app[keys.DESK]
    entry = audit.entry(audit.SYSTEM, "test.old_entry", None, None, None)
    await server.store.write(audit_queries.append, {**entry, "created_at": time.time() - 40 * 86400})
    recent = [r["id"] for r in await entries(server) if r["action"] != "test.old_entry"]
    assert recent
    await settings_ops.update_settings(desk, {"audit_retention_days": 30})
    done = await privacy.apply_retention(desk)
    assert done["audit_entries"] == 1, done
    left = await entries(server)
    assert "test.old_entry" not in actions(left)
    assert [r["id"] for r in left][:len(recent)] == recent           # the newer ones all stay
    assert actions(left)[-1] == "retention.applied"
    with pytest.raises(StorageError):       # only entries older than the retention job's cutoff may go
        await server.store.write(lambda db: db.execute("DELETE FROM audit_log"))
    assert len(await entries(server)) == len(left)


async def test_a_refused_action_leaves_no_entry(server, admin):
    await server.create_agent("dup@example.com", "Dup")
    before = await entries(server)
    status, _, _ = await admin.post_form("/admin/agents", {"name": "Dup", "email": "dup@example.com",
                                                           "role": "agent", "max_chats": "2"})
    assert status == 409
    assert await entries(server) == before


async def test_nobody_can_change_or_delete_an_entry(server, admin):
    assert await entries(server)
    for sql in ("UPDATE audit_log SET actor_name = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(StorageError):
            await server.store.write(lambda db, sql=sql: db.execute(sql))
    assert (await entries(server))[0]["actor_name"] == "Admin <admin@localhost>"


async def test_admins_read_and_filter_the_log_and_agents_may_not(server, admin):
    await server.create_agent("bo@example.com", "Bo")
    for n in range(3):
        await admin.post_form("/admin/settings/canned-replies", {"shortcut": f"r{n}", "text": "Hi"})
    status, page, _ = await admin.get("/admin/audit?action=canned_reply.added")
    assert status == 200
    assert page.count('data-action="canned_reply.added"') == 3 and 'data-action="admin.login"' not in page
    status, page, _ = await admin.get("/admin/audit?actor=99999")
    assert status == 200 and "No entries." in page
    status, page, _ = await admin.get("/admin/audit?from=not-a-date")
    assert status == 400 and "2025-01-31" in page
    bo = await AdminClient.login(server, "bo@example.com", "agent-password-1")
    try:
        status, _, _ = await bo.get("/admin/audit")
        assert status == 403
    finally:
        await bo.close()
    assert "bo@example.com" not in json.dumps(await entries(server))       # an agent's login is not an admin's


async def test_the_log_pages_back_in_time(server, admin, monkeypatch):
    import chatserver.desk.audit as audit_module
    monkeypatch.setattr(audit_module, "PAGE", 2)
    for n in range(3):
        await admin.post_form("/admin/settings/canned-replies", {"shortcut": f"p{n}", "text": "Hi"})
    _, page, _ = await admin.get("/admin/audit")
    first = re.findall(r'data-audit-id="(\d+)"', page)
    older = re.search(r'id="audit-older" href="([^"]+)"', page).group(1).replace("&amp;", "&")
    _, page, _ = await admin.get(older)
    second = re.findall(r'data-audit-id="(\d+)"', page)
    assert len(first) == 2 and len(second) == 2 and not set(first) & set(second)
    assert [int(i) for i in first + second] == sorted((int(i) for i in first + second), reverse=True)


async def test_an_agents_action_through_the_api_is_recorded_with_its_token(server, admin):
    token = await make_token(admin, "closer", "write")
    visitor = await server.visitor()
    ack = await visitor.call("message", {"client_id": "m1", "text": "hello"})
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        async with http.post(server.url + "/api/v1/conversations/999999/close") as resp:
            assert resp.status == 404
        async with http.post(server.url + f"/api/v1/conversations/{ack['conversation_id']}/close") as resp:
            assert resp.status == 200
    closed = [r for r in await entries(server) if r["action"] == "api.conversation_closed"]
    assert len(closed) == 1 and closed[0]["target_id"] == str(ack["conversation_id"])
    assert closed[0]["via"] == "api" and closed[0]["token_id"] is not None
