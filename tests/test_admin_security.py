"""Admin pages are for admins only, refuse forms without the CSRF token, send strict security headers, and show
untrusted text (article titles, agent names) escaped."""
from __future__ import annotations

import re

import aiohttp
import pytest

from chatserver import keys
from chatserver.store import agents as agent_queries
from chatserver.store import settings as settings_queries

from support.admin_client import AdminClient, copy_kb

ADMIN_PAGES = ["/admin/agents", "/admin/agents/1", "/admin/kb", "/admin/kb/new", "/admin/kb/cancel-order",
               "/admin/settings"]
HOSTILE = "<script>alert('pwned')</script><img src=x onerror=\"alert('pwned')\">"


@pytest.fixture
async def desk(server_factory, tmp_path):
    server = await server_factory(kb_dir=copy_kb(tmp_path))
    await server.create_agent("dana@example.com", "Dana")
    admin = await AdminClient.login(server)
    agent = await AdminClient.login(server, "dana@example.com", "agent-password-1")
    yield server, admin, agent
    await admin.close()
    await agent.close()


async def test_admin_pages_send_a_strict_csp_and_no_inline_script_or_style(desk):
    server, admin, _ = desk
    for path in ADMIN_PAGES:
        status, page, headers = await admin.get(path)
        assert status == 200, (path, page[:300])
        csp = headers["Content-Security-Policy"]
        directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
        assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'", csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert directives["frame-ancestors"] == "'none'"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Cache-Control"] == "no-store"
        # The CSP would block these, so the pages must not rely on them.
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), path
        assert not re.search(r"\sstyle=", page), path
        assert not re.search(r"\son[a-z]+=", page), path


async def test_session_cookie_is_httponly_and_samesite(server):
    async with aiohttp.ClientSession() as http:
        async with http.post(server.url + "/login", data={"email": "admin@localhost", "password": "admin-password-1"},
                             allow_redirects=False) as resp:
            cookie = resp.cookies["chat_session"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == "/"


async def test_logged_out_visitors_are_sent_to_login_and_api_callers_get_401(server):
    async with aiohttp.ClientSession() as http:
        for path in ("/admin", "/admin/agents", "/admin/kb/cancel-order", "/admin/settings"):
            async with http.get(server.url + path, allow_redirects=False) as resp:
                assert resp.status == 302 and resp.headers["Location"] == f"/login?next={path}"
        async with http.get(server.url + "/api/admin/agents") as resp:
            assert resp.status == 401 and (await resp.json())["error"] == "unauthorized"
        async with http.post(server.url + "/admin/kb/try", json={"question": "refund"},
                             headers={"Accept": "application/json"}) as resp:
            assert resp.status == 401


async def test_agents_who_are_not_admins_cannot_reach_admin_pages_or_endpoints(desk):
    server, _, agent = desk
    for path in ["/admin", *ADMIN_PAGES]:
        status, page, headers = await agent.get(path)
        assert status == 403, path
        assert "Admins only" in page and headers["Content-Type"].startswith("text/html")
        assert headers["Content-Security-Policy"]
    for method, path, body in [("GET", "/api/admin/agents", None), ("GET", "/api/admin/settings", None),
                               ("PATCH", "/api/admin/settings", {"widget_greeting": "hijacked"}),
                               ("POST", "/api/admin/agents", {"email": "eve@example.com", "name": "Eve",
                                                              "role": "admin", "max_chats": 3, "departments": []}),
                               ("PATCH", "/api/admin/agents/1", {"disabled": True}),
                               ("POST", "/api/admin/canned-replies", {"shortcut": "x", "text": "y"}),
                               ("POST", "/admin/kb/preview", {"body": "**hi**"}),
                               ("POST", "/admin/kb/try", {"question": "refund"})]:
        status, answer = await agent.call(method, path, body)     # with a valid CSRF token: refused for the role
        assert (status, answer["error"]) == (403, "forbidden"), (method, path, answer)
    # Forms posted by a non-admin change nothing either.
    status, _, _ = await agent.post_form("/admin/agents", {"name": "Eve", "email": "eve@example.com", "role": "admin",
                                                           "max_chats": "3"})
    assert status == 403
    status, _, _ = await agent.post_form("/admin/settings", {"widget_greeting": "hijacked", "widget_colour": "#000000",
                                                             "allowed_origins": "*", "business_hours": "x"})
    assert status == 403
    assert [a["email"] for a in await server.store.read(agent_queries.list_agents)] == ["admin@localhost",
                                                                                       "dana@example.com"]
    assert server.app[keys.SETTINGS].get("widget_greeting") != "hijacked"
    assert (await server.store.read(agent_queries.get_agent, 1))["disabled"] is False


async def test_forms_and_fetches_without_the_csrf_token_are_refused(desk, tmp_path):
    server, admin, _ = desk
    article_file = tmp_path / "kb" / "cancel-order.md"
    before = article_file.read_bytes()
    attempts = [
        ("/admin/agents", {"name": "Eve", "email": "eve@example.com", "role": "admin", "max_chats": "3"}),
        ("/admin/agents/2", {"name": "Dana", "role": "agent", "max_chats": "3", "disabled": "on"}),
        ("/admin/settings", {"widget_greeting": "hijacked", "widget_colour": "#000000", "allowed_origins": "*",
                             "business_hours": "x"}),
        ("/admin/settings/canned-replies", {"shortcut": "x", "text": "y"}),
        ("/admin/kb/cancel-order", {"title": "Hijacked", "slug": "cancel-order", "body": "gone"}),
    ]
    for path, fields in attempts:
        status, page, _ = await admin.post_form(path, fields, with_csrf=False)
        assert status == 403 and "This form has expired" in page, path
        status, page, _ = await admin.post_form(path, {**fields, "csrf_token": "forged"}, with_csrf=False)
        assert status == 403, path
    status, answer = await admin.call("PATCH", "/api/admin/settings", {"widget_greeting": "hijacked"},
                                      with_csrf=False)
    assert (status, answer["error"]) == (403, "csrf_failed")
    status, answer = await admin.call("POST", "/admin/kb/preview", {"body": "x"}, with_csrf=False)
    assert (status, answer["error"]) == (403, "csrf_failed")

    assert article_file.read_bytes() == before
    assert len(await server.store.read(agent_queries.list_agents)) == 2
    assert (await server.store.read(agent_queries.get_agent, 2))["disabled"] is False
    assert server.app[keys.SETTINGS].get("widget_greeting") != "hijacked"
    assert await server.store.read(settings_queries.canned_replies) == []


async def test_bearer_token_clients_use_the_api_without_csrf(desk):
    server, _, _ = desk
    token = await server.login("admin@localhost", "admin-password-1")
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        async with http.patch(server.url + "/api/admin/settings", json={"business_hours": "24/7"}) as resp:
            assert resp.status == 200, await resp.text()
    assert server.app[keys.SETTINGS].get("business_hours") == "24/7"


async def test_untrusted_titles_and_names_are_escaped_in_admin_pages(desk, tmp_path):
    server, admin, _ = desk
    status, _, headers = await admin.post_form("/admin/kb/new", {"title": HOSTILE, "slug": "hostile", "body": HOSTILE,
                                                                 "questions": HOSTILE, "published": "on"})
    assert status == 303, headers
    await admin.post_form("/admin/agents", {"name": HOSTILE, "email": "mallory@example.com", "role": "agent",
                                            "max_chats": "2", "other_departments": "x"})
    for path in ("/admin/kb", "/admin/kb/hostile", "/admin/kb?q=pwned", "/admin/agents", "/admin/agents/3"):
        status, page, _ = await admin.get(path)
        assert status == 200
        assert "<script>alert" not in page and "<img src=x" not in page, path
        assert "&lt;script&gt;alert(" in page, path
    # The preview of the body is the sanitised article HTML: the markup is shown as text.
    _, page, _ = await admin.get("/admin/kb/hostile")
    preview = page.split('id="preview-body">', 1)[1].split("</article>", 1)[0]
    assert "&lt;script&gt;" in preview and "<img" not in preview
