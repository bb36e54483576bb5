"""The REST API /api/v1 with tokens made on the admin page: scopes, revocation, rate limits, the error shape,
cross-site refusal, the operations (the same ones as the console and the admin pages), the OpenAPI document and
docs/api.md agreeing, and the token never in a log line."""
from __future__ import annotations

import json
import logging

import aiohttp
from openapi_spec_validator import validate

from chatserver.views import api_v1, api_v1_spec
from support.admin_client import AdminClient, copy_kb
from support.api_tokens import make_token, token_id_on_page
from support.server import ROOT

API = "/api/v1"


async def call(server, token, method, path, body=None, headers=None):
    hdrs = {"Authorization": f"Bearer {token}"} if token else {}
    hdrs.update(headers or {})
    async with aiohttp.ClientSession() as http:
        async with http.request(method, server.url + API + path, json=body, headers=hdrs) as resp:
            return resp.status, await resp.json(content_type=None)


def assert_error(status, body, expected_status, code):
    assert status == expected_status, body
    assert body["ok"] is False and body["error"] == code and isinstance(body["message"], str), body


async def chat_waiting(server, text="where is my order 123?"):
    """A visitor who asked for a person: their conversation waits in the queue."""
    visitor = await server.visitor()
    ack = await visitor.call("request_agent", {})
    assert ack["ok"], ack
    ack = await visitor.call("message", {"client_id": "m1", "text": text})
    assert ack["ok"], ack
    return visitor, ack["conversation_id"]


async def test_the_openapi_document_validates_and_names_every_api_route(server):
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + API + "/openapi.json") as resp:
            assert resp.status == 200
            document = await resp.json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    documented = {(m.upper(), API + p) for p, ms in document["paths"].items() for m in ms}
    routed = {(r.method, r.resource.canonical) for r in server.app.router.routes()
              if r.resource is not None and r.resource.canonical.startswith(API + "/") and r.method != "HEAD"}
    assert routed - {("GET", API + "/openapi.json")} == documented


def test_docs_api_md_is_the_rendering_of_the_document():
    text = (ROOT / "docs" / "api.md").read_text()
    reference = api_v1_spec.markdown(api_v1_spec.document(api_v1.OPERATIONS))
    assert reference in text, "docs/api.md is stale: python -m chatserver.views.api_docs"
    assert text.index("## Reference") == text.index(reference)


async def test_no_token_a_wrong_one_and_a_cookie_are_all_refused(server, admin):
    assert_error(*await call(server, None, "GET", "/agents"), 401, "token_required")
    assert_error(*await call(server, "cst_not-a-real-token", "GET", "/agents"), 401, "invalid_token")
    assert_error(*await call(server, "not even the prefix", "GET", "/agents"), 401, "invalid_token")
    # The admin's own login cookie opens no API call: tokens travel in a header only.
    async with admin.http.get(server.url + API + "/agents") as resp:
        assert_error(resp.status, await resp.json(), 401, "token_required")


async def test_scopes_are_enforced(server, admin):
    read = await make_token(admin, "reader", "read")
    write = await make_token(admin, "writer", "write")
    root = await make_token(admin, "root", "admin")
    new_agent = {"email": "sam@example.com", "name": "Sam", "role": "agent", "max_chats": 2, "departments": []}
    status, body = await call(server, read, "GET", "/agents")
    assert status == 200 and [a["email"] for a in body["agents"]] == ["admin@localhost"]
    assert_error(*await call(server, read, "POST", "/agents", new_agent), 403, "insufficient_scope")
    assert_error(*await call(server, write, "POST", "/agents", new_agent), 403, "insufficient_scope")
    assert_error(*await call(server, read, "POST", "/conversations/1/close"), 403, "insufficient_scope")
    status, body = await call(server, root, "POST", "/agents", new_agent)
    assert status == 201 and body["agent"]["email"] == "sam@example.com" and len(body["password"]) >= 10
    # The same operation as the admin page: the same refusal for a duplicate.
    assert_error(*await call(server, root, "POST", "/agents", new_agent), 409, "agent_exists")


async def test_a_revoked_token_is_refused_at_once_and_last_use_is_shown(server, admin):
    token = await make_token(admin, "crm", "read")
    _, page, _ = await admin.get("/admin/tokens")
    assert token not in page                      # shown once, never again
    assert "never" in page
    assert (await call(server, token, "GET", "/agents"))[0] == 200
    _, page, _ = await admin.get("/admin/tokens")
    token_id = token_id_on_page(page, "crm")
    row = page[page.index(f'data-token-id="{token_id}"'):]
    assert '<td class="token-last-used"><span class="ad-muted">never' not in row[:1500]
    status, _, headers = await admin.post_form(f"/admin/tokens/{token_id}/revoke", {})
    assert status == 303
    assert_error(*await call(server, token, "GET", "/agents"), 401, "invalid_token")


async def test_a_revoke_without_the_csrf_token_changes_nothing(server, admin):
    token = await make_token(admin, "crm", "read")
    _, page, _ = await admin.get("/admin/tokens")
    status, _, _ = await admin.post_form(f"/admin/tokens/{token_id_on_page(page, 'crm')}/revoke", {}, with_csrf=False)
    assert status == 403
    assert (await call(server, token, "GET", "/agents"))[0] == 200


async def test_the_token_form_validates(server, admin):
    status, page, _ = await admin.post_form("/admin/tokens", {"name": "", "scope": "root"})
    assert status == 400 and 'id="new-token"' not in page
    assert 'id="name-error"' in page and 'id="scope-error"' in page


async def test_tokens_are_only_stored_hashed(server, admin):
    token = await make_token(admin, "crm", "read")
    rows = await server.store.read(lambda db: [tuple(r) for r in db.execute("SELECT * FROM api_tokens").fetchall()])
    assert rows and token not in json.dumps(rows)


async def test_a_token_stops_when_its_admin_is_no_longer_admin(server, admin):
    other = await server.create_agent("ada@example.com", "Ada", role="admin", password="ada-password-1")
    ada = await AdminClient.login(server, "ada@example.com", "ada-password-1")
    try:
        token = await make_token(ada, "ada's", "read")
        assert (await call(server, token, "GET", "/agents"))[0] == 200
        status, body = await admin.call("PATCH", f"/api/admin/agents/{other['id']}", {"role": "agent"})
        assert status == 200, body
        assert_error(*await call(server, token, "GET", "/agents"), 401, "invalid_token")
    finally:
        await ada.close()


async def test_each_token_has_its_own_rate_limit(server_factory):
    server = await server_factory(api_rate_limit_per_minute=5)
    admin = await AdminClient.login(server)
    try:
        busy, quiet = await make_token(admin, "busy"), await make_token(admin, "quiet")
        for _ in range(5):
            assert (await call(server, busy, "GET", "/agents"))[0] == 200
        assert_error(*await call(server, busy, "GET", "/agents"), 429, "rate_limited")
        assert (await call(server, quiet, "GET", "/agents"))[0] == 200
    finally:
        await admin.close()


async def test_another_sites_page_is_refused_whatever_the_method(server, admin):
    token = await make_token(admin, "crm", "write")
    for method, path in (("GET", "/agents"), ("POST", "/conversations/1/close")):
        assert_error(*await call(server, token, method, path, headers={"Sec-Fetch-Site": "cross-site"}), 403,
                     "cross_site_request")
        assert_error(*await call(server, token, method, path, headers={"Origin": "https://evil.example"}), 403,
                     "cross_site_request")
    # CORS is never answered: a browser's preflight gets no permission.
    async with aiohttp.ClientSession() as http:
        async with http.options(server.url + API + "/agents", headers={
                "Origin": "https://evil.example", "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "authorization"}) as resp:
            assert "Access-Control-Allow-Origin" not in resp.headers


async def test_unknown_paths_and_methods_answer_in_the_error_shape(server, admin):
    token = await make_token(admin)
    assert_error(*await call(server, token, "GET", "/nothing-here"), 404, "not_found")
    async with aiohttp.ClientSession() as http:
        async with http.delete(server.url + API + "/agents", headers={"Authorization": f"Bearer {token}"}) as resp:
            assert_error(resp.status, await resp.json(), 405, "method_not_allowed")
            assert "GET" in resp.headers["Allow"]
    assert_error(*await call(server, token, "GET", "/conversations/99999999"), 404, "not_found")
    assert_error(*await call(server, token, "GET", "/conversations/abc"), 404, "not_found")
    assert_error(*await call(server, token, "GET", "/conversations?limit=0"), 400, "out_of_range")
    assert_error(*await call(server, token, "GET", "/conversations?cursor=x1"), 400, "invalid_cursor")


async def test_conversations_list_filter_page_read_reply_assign_close(server, admin):
    token = await make_token(admin, "desk", "write")
    agent = await server.create_agent("kim@example.com", "Kim")
    kim = await server.agent("kim@example.com")
    for n in range(3):
        visitor, conversation_id = await chat_waiting(server, f"question number {n}")
        await kim.wait_for("assigned", lambda d, c=conversation_id: d["conversation"]["id"] == c)
    status, first = await call(server, token, "GET", "/conversations?limit=2")
    assert status == 200 and len(first["conversations"]) == 2 and first["next_cursor"]
    status, second = await call(server, token, "GET", f"/conversations?limit=2&cursor={first['next_cursor']}")
    ids = [c["id"] for c in first["conversations"] + second["conversations"]]
    assert status == 200 and ids == sorted(ids, reverse=True) and len(set(ids)) == 3
    assert second["next_cursor"] is None
    status, mine = await call(server, token, "GET", f"/conversations?agent_id={agent['id']}&status=assigned")
    assert {c["id"] for c in mine["conversations"]} == set(ids)
    assert (await call(server, token, "GET", "/conversations?status=closed"))[1]["conversations"] == []

    newest = ids[0]
    status, body = await call(server, token, "GET", f"/conversations/{newest}")
    assert status == 200 and body["conversation"]["id"] == newest
    assert [m["text"] for m in body["messages"] if m["author"] == "visitor"] == ["question number 2"]
    assert any(e["type"] == "assigned" for e in body["events"])

    # A reply needs the chat to be the token admin's (the console's rule); a private note does not.
    assert_error(*await call(server, token, "POST", f"/conversations/{newest}/messages", {"text": "hi"}), 403,
                 "not_assigned")
    status, note = await call(server, token, "POST", f"/conversations/{newest}/messages",
                              {"text": "VIP customer", "private": True, "client_id": "n1"})
    assert status == 201 and note["duplicate"] is False
    heard = await kim.wait_for("message", lambda m: m.get("text") == "VIP customer")
    assert heard["private"] is True
    again = await call(server, token, "POST", f"/conversations/{newest}/messages",
                       {"text": "VIP customer", "private": True, "client_id": "n1"})
    assert again[1]["duplicate"] is True and again[1]["id"] == note["id"]

    # Assign to an agent who is not online: refused as a transfer would be.
    assert_error(*await call(server, token, "POST", f"/conversations/{newest}/assign", {"agent_id": 1}), 409,
                 "agent_unavailable")
    status, closed = await call(server, token, "POST", f"/conversations/{newest}/close")
    assert status == 200 and closed["conversation_id"] == newest
    await kim.wait_for("conversation_closed", lambda d: d["conversation_id"] == newest)
    status, body = await call(server, token, "GET", f"/conversations/{newest}")
    assert body["conversation"]["status"] == "closed"


async def test_assign_a_waiting_chat_to_an_online_agent(server_factory):
    server = await server_factory()
    admin = await AdminClient.login(server)
    try:
        token = await make_token(admin, "router", "write")
        agent = await server.create_agent("lee@example.com", "Lee", max_chats=1)
        lee = await server.agent("lee@example.com")
        first, first_id = await chat_waiting(server, "first")
        await lee.wait_for("assigned")                  # Lee's only slot is taken
        second, second_id = await chat_waiting(server, "second")
        assert_error(*await call(server, token, "POST", f"/conversations/{second_id}/assign",
                                 {"agent_id": agent["id"]}), 409, "agent_at_capacity")
        status, _ = await call(server, token, "POST", f"/conversations/{first_id}/close")
        assert status == 200
        await lee.wait_for("assigned", lambda d: d["conversation"]["id"] == second_id)
    finally:
        await admin.close()


async def test_visitors_surveys_reports_agents_through_the_api(server, admin):
    token = await make_token(admin, "bi", "admin")
    visitor, conversation_id = await chat_waiting(server, "hello there")
    visitor_id = (await visitor.wait_for("session"))["visitor_id"]
    status, body = await call(server, token, "GET", f"/visitors/{visitor_id}")
    assert status == 200 and body["visitor"]["id"] == visitor_id
    assert "ip_network" not in body["visitor"]
    assert_error(*await call(server, token, "GET", "/visitors/nobody"), 404, "visitor_not_found")
    assert (await call(server, token, "GET", "/surveys"))[1]["surveys"] == []
    status, body = await call(server, token, "GET", "/reports/speed")
    assert status == 200 and body["report"] == "speed"
    assert_error(*await call(server, token, "GET", "/reports/speed?from=yesterday"), 400, "invalid_date")
    assert_error(*await call(server, token, "GET", "/reports/nope"), 404, "unknown_report")
    status, body = await call(server, token, "GET", "/agents")
    me = body["agents"][0]
    assert_error(*await call(server, token, "PATCH", f"/agents/{me['id']}", {"disabled": True}), 409, "own_account")
    assert_error(*await call(server, token, "PATCH", f"/agents/{me['id']}", {"colour": "red"}), 400,
                 "invalid_payload")


async def test_articles_go_through_the_editors_path(server_factory, tmp_path):
    folder = copy_kb(tmp_path)
    server = await server_factory(kb_dir=folder)
    admin = await AdminClient.login(server)
    try:
        token = await make_token(admin, "cms", "write")
        article = {"title": "Gift cards", "slug": "store-vouchers", "department": "", "tags": ["billing"],
                   "questions": ["Can I buy a gift card?"], "published": True, "body": "Yes, in any amount."}
        status, body = await call(server, token, "POST", "/articles", article)
        assert status == 201, body
        assert (folder / "store-vouchers.md").exists()
        status, body = await call(server, token, "GET", "/articles/store-vouchers")
        assert body["article"]["questions"] == ["Can I buy a gift card?"]
        status, body = await call(server, token, "PUT", "/articles/store-vouchers", {**article, "title": "Gift cards!"})
        assert status == 200 and body["article"]["title"] == "Gift cards!"
        # The editor's history records the API's saves.
        _, page, _ = await admin.get("/admin/kb/store-vouchers")
        assert "admin@localhost" in page
        status, body = await call(server, token, "POST", "/articles", {**article, "slug": "Bad Slug"})
        assert_error(status, body, 400, "invalid_payload")
        assert "slug" in body["fields"]
        status, _ = await call(server, token, "DELETE", "/articles/store-vouchers")
        assert status == 200 and not (folder / "store-vouchers.md").exists()
        assert_error(*await call(server, token, "GET", "/articles/store-vouchers"), 404, "article_not_found")
    finally:
        await admin.close()


async def test_the_token_is_never_logged(server, admin, caplog):
    caplog.set_level(logging.DEBUG)
    token = await make_token(admin, "crm", "admin")
    await call(server, token, "GET", "/agents")
    await call(server, token, "GET", "/conversations/123456")
    await call(server, token, "POST", "/agents", {"email": "x"})
    await call(server, token + "x", "GET", "/agents")
    assert caplog.records
    assert not [r for r in caplog.records if token in r.getMessage()]
