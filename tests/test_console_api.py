"""The console's HTTP side over a real server: the page needs a login and sends strict security headers, the JSON
for canned replies and transfer targets reflects the store and live presence, and the console's scripts never
parse network text as HTML."""
from __future__ import annotations

import re

import aiohttp

from chatserver.store import settings as settings_queries

from support.server import ROOT

STATIC = ROOT / "chatserver" / "static"


async def logged_in(server, email, password="agent-password-1") -> aiohttp.ClientSession:
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))  # unsafe: the server is on an IP
    async with http.post(server.url + "/login", data={"email": email, "password": password},
                         allow_redirects=False) as resp:
        assert resp.status == 302, await resp.text()
    return http


async def test_console_needs_a_login(server):
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + "/console", allow_redirects=False) as resp:
            assert resp.status == 302
            assert resp.headers["Location"] == "/login?next=/console"
        for path in ("/api/console/agents", "/api/console/canned-replies"):
            async with http.get(server.url + path) as resp:
                assert resp.status == 401
                assert (await resp.json())["error"] == "unauthorized"


async def test_console_page_headers_and_markup(server):
    await server.create_agent("dana@example.com", "Dana")
    http = await logged_in(server, "dana@example.com")
    try:
        async with http.get(server.url + "/console", allow_redirects=False) as resp:
            assert resp.status == 200
            html = await resp.text()
            csp = resp.headers["Content-Security-Policy"]
            assert "script-src 'self'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
            assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
            assert resp.headers["X-Frame-Options"] == "DENY"
            assert resp.headers["Cache-Control"] == "no-store"
    finally:
        await http.close()
    # No inline script or style the CSP would block: every script has a src, no style attributes, no handlers.
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)
    assert '<meta name="csrf-token"' in html
    assert 'src="/vendor/socket.io.min.js"' in html


async def test_login_cookie_is_httponly_and_samesite(server):
    await server.create_agent("dana@example.com", "Dana")
    async with aiohttp.ClientSession() as http:
        async with http.post(server.url + "/login", data={"email": "dana@example.com", "password": "agent-password-1"},
                             allow_redirects=False) as resp:
            cookie = resp.headers["Set-Cookie"]
    assert cookie.startswith("chat_session=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/" in cookie


async def test_canned_replies_for_any_agent(server):
    await server.create_agent("dana@example.com", "Dana")
    await server.store.write(settings_queries.add_canned_reply, "thanks", "Thanks for waiting!", 0)
    await server.store.write(settings_queries.add_canned_reply, "bye", "Have a nice day.", 0)
    http = await logged_in(server, "dana@example.com")
    try:
        async with http.get(server.url + "/api/console/canned-replies") as resp:
            body = await resp.json()
    finally:
        await http.close()
    assert body["ok"] is True
    assert [(r["shortcut"], r["text"]) for r in body["canned_replies"]] == [("bye", "Have a nice day."),
                                                                           ("thanks", "Thanks for waiting!")]


async def test_agents_show_live_presence_and_load(server):
    from chatserver.store import agents as agent_queries

    dana = await server.create_agent("dana@example.com", "Dana")
    sam = await server.create_agent("sam@example.com", "Sam", max_chats=1)
    lee = await server.create_agent("lee@example.com", "Lee")
    gone = await server.create_agent("gone@example.com", "Gone")
    await server.store.write(agent_queries.update_agent, gone["id"], disabled=True)
    sam_socket = await server.agent("sam@example.com")                  # online
    await server.agent("lee@example.com", online=False)                # connected but away
    visitor = await server.visitor()
    chat = await visitor.call("request_agent", {})
    await sam_socket.wait_for("assigned", lambda a: a["conversation"]["id"] == chat["conversation_id"])

    http = await logged_in(server, "dana@example.com")
    try:
        async with http.get(server.url + "/api/console/agents") as resp:
            body = await resp.json()
    finally:
        await http.close()
    agents = {a["name"]: a for a in body["agents"]}
    assert "Gone" not in agents
    assert agents["Sam"] == {"id": sam["id"], "name": "Sam", "status": "online", "open_chats": 1, "max_chats": 1,
                             "departments": [], "available": False, "me": False}     # online but full
    assert agents["Lee"]["status"] == "away" and agents["Lee"]["available"] is False
    assert agents["Dana"]["status"] == "offline" and agents["Dana"]["me"] is True and agents["Dana"]["id"] == dana["id"]
    assert agents["Lee"]["id"] == lee["id"]


def test_console_scripts_never_parse_network_text_as_html():
    sources = {p.name: p.read_text() for p in STATIC.glob("console*.js")}
    assert "console.js" in sources and len(sources) >= 3
    for name, source in sources.items():
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
            assert sink not in source, f"{name} uses {sink}"
