"""Labels (admins keep the list in Admin → Settings, agents tag conversations, reports group by them) and priority
(agents set it; the queue serves higher priorities first). Real server, real sockets, real store."""
from __future__ import annotations

import re

import aiohttp

from chatserver.routing import WaitingChat, plan_assignments, queue_order, AgentState
from chatserver.store import conversations as conv_queries
from chatserver.store import labels as label_queries

from support.admin_client import AdminClient
from support.reports_seed import FROM, TO, seed_known_desk
from support.server import ADMIN_EMAIL, ADMIN_PASSWORD, FIXTURE_KB


def test_queue_order_is_priority_then_first_come_first_served():
    queue = [WaitingChat(1, 100.0), WaitingChat(2, 101.0, priority="high"), WaitingChat(3, 102.0, priority="low"),
             WaitingChat(4, 103.0, priority="urgent"), WaitingChat(5, 99.0), WaitingChat(6, 98.0, priority="high")]
    assert queue_order(queue) == [4, 6, 2, 5, 1, 3]
    one_slot = [AgentState(id=7, name="Ana", status="online", connected=True, max_chats=2)]
    assert [d.conversation_id for d in plan_assignments(queue, one_slot, now=200.0)] == [4, 6]


async def queued(server, n):
    visitor = await server.visitor()
    ack = await visitor.call("message", {"client_id": f"q{n}", "text": f"question number {n}"})
    await visitor.call("request_agent", {})
    return visitor, ack["conversation_id"]


async def test_raising_a_waiting_chats_priority_moves_it_ahead_and_it_is_served_first(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB)
    await server.create_agent("ana@example.com", "Ana", max_chats=1)
    ana = await server.agent("ana@example.com", online=False)       # away: the chats wait
    waiting = [await queued(server, n) for n in range(3)]
    (v1, c1), (v2, c2), (v3, c3) = waiting
    await v3.wait_for("queue", lambda q: q["position"] == 3)
    ack = await ana.call("priority", {"conversation_id": c3, "priority": "urgent"})
    assert ack == {"ok": True, "conversation_id": c3, "priority": "urgent"}
    await v3.wait_for("queue", lambda q: q["position"] == 1)
    await v1.wait_for("queue", lambda q: q["position"] == 2)
    board = await ana.wait_for("queue", lambda q: [c["conversation_id"] for c in q["conversations"]] == [c3, c1, c2])
    assert [c["priority"] for c in board["conversations"]] == ["urgent", "normal", "normal"]
    # Stored, with a line in the routing log.
    conversation = await server.store.read(conv_queries.get_conversation, c3)
    assert conversation["priority"] == "urgent"
    events = await server.store.read(conv_queries.conversation_events, c3)
    assert events[-1]["type"] == "priority" and events[-1]["reason"] == "priority set to urgent by Ana"
    # The first free slot goes to the urgent chat, although it queued last.
    await ana.call("status", {"status": "online"})
    assigned = await ana.wait_for("assigned")
    assert assigned["conversation"]["id"] == c3 and assigned["conversation"]["priority"] == "urgent"
    # Bad input answers documented codes.
    assert (await ana.call("priority", {"conversation_id": c1, "priority": "asap"}))["error"] == "invalid_payload"
    assert (await ana.call("priority", {"conversation_id": "x", "priority": "low"}))["error"] == "invalid_payload"
    assert (await ana.call("priority", {"conversation_id": 99999, "priority": "low"}))["error"] == "not_found"
    await ana.call("close", {"conversation_id": c3})
    closed = await ana.call("priority", {"conversation_id": c3, "priority": "low"})
    assert closed["error"] == "conversation_closed"


async def test_admin_keeps_labels_and_agents_tag_conversations(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB)
    admin = await AdminClient.login(server)
    try:
        status, _, headers = await admin.post_form("/admin/settings/labels", {"name": "Billing", "colour": "#c00"})
        assert status == 303 and headers["Location"].endswith("#labels")
        await admin.post_form("/admin/settings/labels", {"name": "refund  request", "colour": ""})
        status, page, _ = await admin.post_form("/admin/settings/labels", {"name": "billing", "colour": "#123456"})
        assert status == 409 and "A label with that name exists already" in page
        status, page, _ = await admin.post_form("/admin/settings/labels", {"name": "ok", "colour": "red"})
        assert status == 400 and "Pick a colour like #4856d6" in page
        status, page, _ = await admin.post_form("/admin/settings/labels", {"name": " ", "colour": ""})
        assert status == 400 and "Give the label a name" in page
        status, _, _ = await admin.post_form("/admin/settings/labels", {"name": "x"}, with_csrf=False)
        assert status == 403
        labels = {label["name"]: label for label in await server.store.read(label_queries.all_labels)}
        assert sorted(labels) == ["Billing", "refund request"] and labels["Billing"]["colour"] == "#c00"

        await server.create_agent("ana@example.com", "Ana")
        await server.create_agent("ben@example.com", "Ben")
        ana = await server.agent("ana@example.com")
        ana_other_tab = await server.agent("ana@example.com")
        visitor, cid = await queued(server, 1)
        await ana.wait_for("assigned")
        token = await server.login("ana@example.com", "agent-password-1")
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
            async with http.get(server.url + "/api/console/labels") as resp:
                listed = (await resp.json())["labels"]
        assert [label["name"] for label in listed] == ["Billing", "refund request"]
        ids = [labels["Billing"]["id"], labels["refund request"]["id"]]
        ack = await ana.call("labels", {"conversation_id": cid, "label_ids": ids})
        assert ack["ok"] and [label["name"] for label in ack["labels"]] == ["Billing", "refund request"], ack
        updated = await ana_other_tab.wait_for("conversation_updated", lambda u: u["conversation_id"] == cid)
        assert [label["name"] for label in updated["labels"]] == ["Billing", "refund request"]
        snapshot = await ana.call("conversation", {"conversation_id": cid})
        assert [label["name"] for label in snapshot["labels"]] == ["Billing", "refund request"]
        # Refusals: an unknown label, a payload of the wrong shape, someone else's chat.
        assert (await ana.call("labels", {"conversation_id": cid, "label_ids": [999]}))["error"] == "label_not_found"
        assert (await ana.call("labels", {"conversation_id": cid, "label_ids": "1"}))["error"] == "invalid_payload"
        assert (await ana.call("labels", {"conversation_id": cid, "label_ids": [True]}))["error"] == "invalid_payload"
        ben = await server.agent("ben@example.com")
        assert (await ben.call("labels", {"conversation_id": cid, "label_ids": []}))["error"] == "not_assigned"
        # The admin page counts them; deleting a label takes it off the conversation.
        _, page, _ = await admin.get("/admin/settings")
        assert re.search(r"Billing</span>\s*<p class=\"ad-reply-text\">1 conversation</p>", page)
        status, _, _ = await admin.post_form(f"/admin/settings/labels/{ids[0]}/delete", {})
        assert status == 303
        assert [label["name"] for label in await server.store.read(label_queries.labels_of, cid)] == ["refund request"]
        status, _, _ = await admin.post_form(f"/admin/settings/labels/{ids[0]}/delete", {})
        assert status == 404
        # Closed conversations can still be labelled (tagging after the fact).
        await ana.call("close", {"conversation_id": cid})
        assert (await ana.call("labels", {"conversation_id": cid, "label_ids": []}))["labels"] == []
    finally:
        await admin.close()


async def test_reports_group_by_label(server):
    ana = await server.create_agent("ana@example.com", "Ana", departments=["billing"])
    ben = await server.create_agent("ben@example.com", "Ben")
    ids = await server.store.write(seed_known_desk, ana["id"], ben["id"])
    billing = await server.store.write(label_queries.add_label, "billing", "#123", 0.0)
    urgent = await server.store.write(label_queries.add_label, "vip", "#456", 0.0)
    await server.store.write(label_queries.set_labels, ids[0], [billing["id"], urgent["id"]], ana["id"], 0.0)
    await server.store.write(label_queries.set_labels, ids[1], [billing["id"]], ana["id"], 0.0)
    token = await server.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        async with http.get(f"{server.url}/api/reports/speed",
                            params={"from": FROM, "to": TO, "group_by": "label"}) as resp:
            report = await resp.json()
            assert resp.status == 200, report
        async with http.get(f"{server.url}/api/reports/speed.csv",
                            params={"from": FROM, "to": TO, "group_by": "label"}) as resp:
            assert resp.status == 200 and "billing" in await resp.text()
    groups = {g["group"]: g for g in report["groups"]}
    assert sorted(groups) == ["(no label)", "billing", "vip"]
    total = report["total"]["conversations"]
    assert (groups["billing"]["conversations"], groups["vip"]["conversations"], groups["(no label)"]["conversations"]) == (2, 1, total - 2)


async def test_the_admin_json_api_keeps_labels_too(server, admin):
    status, body = await admin.call("POST", "/api/admin/labels", {"name": "Returns", "colour": "#0a0"})
    assert status == 201 and body["label"]["name"] == "Returns", body
    label_id = body["label"]["id"]
    for payload, code, wanted in [({"name": "returns"}, "label_exists", 409), ({"name": ""}, "empty_text", 400),
                                  ({"name": "x" * 41}, "text_too_long", 400), ({"name": "ok", "colour": 5}, "invalid_colour", 400)]:
        status, body = await admin.call("POST", "/api/admin/labels", payload)
        assert (status, body["error"]) == (wanted, code), payload
    status, body = await admin.call("POST", "/api/admin/labels", {"name": "csrf"}, with_csrf=False)
    assert status == 403
    status, body = await admin.call("GET", "/api/admin/labels")
    assert [label["name"] for label in body["labels"]] == ["Returns"]
    assert (await admin.call("DELETE", f"/api/admin/labels/{label_id}"))[0] == 200
    status, body = await admin.call("DELETE", f"/api/admin/labels/{label_id}")
    assert (status, body["error"]) == (404, "label_not_found")
