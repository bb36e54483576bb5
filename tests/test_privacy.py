"""Privacy: export one visitor (admin page and API) holds everything of theirs and nothing of another's; erasing
them leaves nothing readable through the pages, the API, or the SQLite file and its WAL (grepped), keeps the
report totals, and is audited without content; the daily retention job anonymises old conversations once."""
from __future__ import annotations

import hashlib
import hmac
import json
import time

import aiohttp
import pytest

from chatserver import keys
from chatserver.desk import privacy, settings as settings_ops, timed_jobs
from support.admin_client import AdminClient
from support.api_tokens import make_token
from support.postgres import on_postgres
from support.webhook_receiver import Receiver

SECRET = "privacy-identity-secret-0123456789"
ANNA = ["zebra-alpha-question", "anna.erase@example.com", "Anna Erasmus", "comment-anna-secret", "cust-anna-77",
        "reply-for-anna-zebra"]
BERT = ["yak-bravo-question", "bert.keep@example.com", "comment-bert-kept"]


async def chat(server, agent, words, email, name, comment, identity=None):
    """A visitor who asks, gets a person, leaves a contact, is answered, closes and comments in the survey."""
    visitor = await server.visitor(identity=identity)
    session = visitor.of("session")[0]
    ack = await visitor.call("message", {"client_id": "m1", "text": f"{words} where is my order?"})
    assert ack["ok"], ack
    cid = ack["conversation_id"]
    assert (await visitor.call("request_agent", {}))["ok"]
    await agent.wait_for("assigned", lambda d: d["conversation"]["id"] == cid)
    assert (await visitor.call("contact", {"email": email, "name": name}))["ok"]
    reply = "reply-for-anna-zebra" if "zebra" in words else "reply for bert"
    assert (await agent.call("message", {"conversation_id": cid, "client_id": "a1", "text": reply}))["ok"]
    assert (await agent.call("close", {"conversation_id": cid}))["ok"]
    answer = await visitor.call("survey", {"conversation_id": cid, "csat": 4, "comment": comment})
    assert answer["ok"], answer
    await visitor.disconnect()
    return session["visitor_id"], session["visitor_token"], cid


async def api(server, token, method, path):
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        async with http.request(method, server.url + "/api/v1" + path) as resp:
            return resp.status, await resp.json()


def database_bytes(server) -> bytes:
    path = server.app[keys.CONFIG].db_path
    found = path.read_bytes()
    wal = path.with_name(path.name + "-wal")
    return found + (wal.read_bytes() if wal.exists() else b"")


@pytest.fixture
async def desk_with_two_visitors(server_factory):
    receiver = await Receiver().start()
    server = await server_factory()
    admin = await AdminClient.login(server)
    await settings_ops.update_settings(server.app[keys.DESK], {"identity_secret": SECRET,
                                                               "webhooks_allow_private": True})
    fields = [("url", receiver.url), ("secret", ""), ("events", "message.created")]
    assert (await admin.post_form("/admin/webhooks", fields))[0] == 200
    await server.create_agent("kim@example.com", "Kim")
    kim = await server.agent("kim@example.com")
    identity = {"id": "cust-anna-77", "name": "Anna Erasmus",
                "signature": hmac.new(SECRET.encode(), b"cust-anna-77", hashlib.sha256).hexdigest()}
    anna = await chat(server, kim, "zebra-alpha-question", "anna.erase@example.com", "Anna Erasmus",
                      "comment-anna-secret", identity)
    bert = await chat(server, kim, "yak-bravo-question", "bert.keep@example.com", "Bert", "comment-bert-kept")
    await receiver.wait_until(lambda: any("zebra" in json.dumps(e) for e in receiver.events()))
    token = await make_token(admin, "privacy", "admin")
    yield server, admin, token, anna, bert
    await admin.close()
    await receiver.stop()


async def test_the_export_holds_everything_of_one_visitor_and_nothing_of_another(desk_with_two_visitors):
    server, admin, token, (anna_id, _, anna_cid), _ = desk_with_two_visitors
    status, page, headers = await admin.get(f"/admin/privacy/{anna_id}/export.json")
    assert status == 200 and "attachment" in headers["Content-Disposition"]
    exported = json.loads(page)
    text = json.dumps(exported)
    for marker in ANNA:
        assert marker in text, marker
    for marker in BERT:
        assert marker not in text, marker
    data = exported["data"]
    assert set(data) >= {"visitor", "identity", "conversations", "surveys", "bot", "webhook_deliveries"}
    assert [c["id"] for c in data["conversations"]] == [anna_cid]
    assert data["identity"]["customer_id"] == "cust-anna-77" and data["identity"]["verified"] is True
    assert data["surveys"][0]["comment"] == "comment-anna-secret"
    status, body = await api(server, token, "GET", f"/visitors/{anna_id}/export")
    assert status == 200 and body["data"]["conversations"][0]["id"] == anna_cid
    _, audit, _ = await admin.get("/admin/audit?action=visitor.exported")
    assert audit.count('data-action="visitor.exported"') == 2
    status, page, _ = await admin.get("/admin/privacy?q=anna.erase@example.com")
    assert f'data-visitor-id="{anna_id}"' in page and "bert" not in page.split('id="visitors-found"')[1]


async def test_after_erasure_nothing_of_the_visitor_is_readable_anywhere(desk_with_two_visitors):
    server, admin, token, (anna_id, anna_token, anna_cid), (bert_id, _, bert_cid) = desk_with_two_visitors
    _, satisfaction_before = await api(server, token, "GET", "/reports/satisfaction")
    _, listed_before = await api(server, token, "GET", "/conversations")
    status, _, _ = await admin.post_form(f"/admin/privacy/{anna_id}/erase", {})
    assert status == 303

    # The API and the pages.
    status, body = await api(server, token, "GET", f"/visitors/{anna_id}")
    assert status == 200 and body["visitor"]["email"] is None and body["visitor"]["identity"] is None
    status, body = await api(server, token, "GET", f"/conversations/{anna_cid}")
    assert body["messages"] == [] and body["conversation"]["status"] == "closed"
    readable = json.dumps([await api(server, token, "GET", path) for path in (
        f"/visitors/{anna_id}", f"/conversations/{anna_cid}", f"/visitors/{anna_id}/export", "/surveys",
        "/reports/comments", "/reports/gaps", "/conversations", "/audit")])
    for path in ("/admin/audit", f"/admin/privacy?q={anna_id}", "/admin/webhooks/1", "/admin/reports"):
        readable += (await admin.get(path))[1]
    for marker in ANNA:
        assert marker not in readable, marker
    assert "comment-bert-kept" in readable                 # the other visitor is untouched

    # Her old token opens a new, empty visitor.
    again = await server.visitor(anna_token)
    assert again.of("session")[0]["visitor_id"] != anna_id

    # The reports keep their counts.
    assert (await api(server, token, "GET", "/reports/satisfaction"))[1] == satisfaction_before
    listed = (await api(server, token, "GET", "/conversations"))[1]["conversations"]
    assert [c["id"] for c in listed] == [c["id"] for c in listed_before["conversations"]]

    # Audited, without the content.
    _, audit, _ = await admin.get("/admin/audit?action=visitor.erased")
    assert 'data-action="visitor.erased"' in audit

    # Nor in the database file and its WAL (SQLite; PostgreSQL reclaims dead rows at VACUUM: docs/privacy.md).
    if not on_postgres():
        stored = database_bytes(server)
        for marker in ANNA:
            assert marker.encode() not in stored, marker
        assert b"yak-bravo-question" in stored and b"bert.keep@example.com" in stored


async def test_erasing_a_visitor_with_an_open_chat_closes_it_first(server_factory):
    server = await server_factory(bot_enabled=False)
    admin = await AdminClient.login(server)
    try:
        await server.create_agent("kim@example.com", "Kim")
        kim = await server.agent("kim@example.com")
        visitor = await server.visitor()
        visitor_id = visitor.of("session")[0]["visitor_id"]
        ack = await visitor.call("message", {"client_id": "m1", "text": "open-chat-marker"})
        await kim.wait_for("assigned")
        assert (await admin.post_form(f"/admin/privacy/{visitor_id}/erase", {}))[0] == 303
        closed = await kim.wait_for("conversation_closed", lambda d: d["conversation_id"] == ack["conversation_id"])
        assert closed["resolution"] == "erased"
        status, _, _ = await admin.post_form("/admin/privacy/nobody/erase", {})
        assert status == 404
    finally:
        await admin.close()


async def test_retention_anonymises_old_conversations_once_a_day(server_factory):
    server = await server_factory(bot_enabled=False)
    desk = server.app[keys.DESK]
    await server.create_agent("kim@example.com", "Kim")
    kim = await server.agent("kim@example.com")
    cids = []
    for words in ("old-chat-marker", "new-chat-marker"):
        visitor = await server.visitor()
        ack = await visitor.call("message", {"client_id": "m1", "text": words})
        await kim.wait_for("assigned", lambda d: d["conversation"]["id"] == ack["conversation_id"])
        assert (await kim.call("close", {"conversation_id": ack["conversation_id"]}))["ok"]
        cids.append(ack["conversation_id"])
    old, new = cids
    forty_days = time.time() - 40 * 86400
    await server.store.write(lambda db: db.execute("UPDATE conversations SET closed_at = ? WHERE id = ?",
                                                   [forty_days, old]))
    assert await privacy.apply_retention(desk) is None                  # retention off: nothing happens
    await settings_ops.update_settings(desk, {"retention_days": 30})
    assert await timed_jobs.tick(desk)                                  # the leader's tick runs it
    texts = await server.store.read(lambda db: [r[0] for r in db.execute(
        "SELECT text FROM messages WHERE author <> 'system' ORDER BY id").fetchall()])
    assert texts == ["new-chat-marker"]                               # (besides the new chat's joined/ended lines)
    old_left = await server.store.read(lambda db: db.execute(
        "SELECT count(*) FROM messages WHERE conversation_id = ?", [old]).fetchone()[0])
    assert old_left == 0
    assert await privacy.apply_retention(desk) is None                  # once a day, not at every tick
    nothing = {"conversations": 0, "attachments": 0, "audit_entries": 0}
    assert await privacy.apply_retention(desk, time.time() + 86401) == nothing     # the next day: nothing to do
    count = await server.store.read(lambda db: db.execute("SELECT count(*) FROM conversations").fetchone()[0])
    assert count == 2                                                   # the reports keep counting both
