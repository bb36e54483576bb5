"""The `quality` socket event over a real server: a good report is stored with its percentiles and replaces the
previous one; bad payloads (wrong types, huge lists, negative or absurd values, another visitor's conversation,
floods) get documented codes and store nothing; switched off, nothing is stored; the visitor namespace's
disconnect handler counts dropped sockets; the first wait estimate shown is kept."""
from __future__ import annotations

import asyncio

import pytest

from chatserver import keys
from chatserver.store import quality as quality_queries

from support.protocol import assert_documented_error
from support.server import FIXTURE_KB

GOOD = {"connect_ms": 120, "reconnects": 2, "offline_seconds": 7.5, "ack_ms": [30, 10, 20, 400, 50],
        "resends": 1, "not_sent": 0, "delivery_ms": [5, 15], "clock_offset_ms": -250.0, "hidden_replies": 1,
        "replies": 2}


@pytest.fixture
async def server(server_factory):
    return await server_factory(kb_dir=FIXTURE_KB)


async def conversation(server):
    visitor = await server.visitor()
    ack = await visitor.call("message", {"client_id": "q1", "text": "Where is my parcel?"})
    assert ack["ok"], ack
    return visitor, ack["conversation_id"]


async def record(server, cid):
    return await server.store.read(quality_queries.get_record, cid)


async def test_a_report_is_stored_with_its_percentiles_and_replaces_the_last(server):
    visitor, cid = await conversation(server)
    ack = await visitor.call("quality", {"conversation_id": cid, **GOOD})
    assert ack == {"ok": True, "conversation_id": cid, "reports": 1}
    stored = await record(server, cid)
    assert (stored["ack_p50_ms"], stored["ack_p95_ms"], stored["ack_max_ms"], stored["acks"]) == (30, 400, 400, 5)
    assert (stored["delivery_p50_ms"], stored["delivery_p95_ms"], stored["delivery_max_ms"]) == (10, 15, 15)
    assert (stored["reconnects"], stored["offline_seconds"], stored["resends"], stored["hidden_replies"]) == (2, 7.5, 1, 1)
    assert stored["clock_offset_ms"] == -250.0 and stored["connect_ms"] == 120

    ack = await visitor.call("quality", {"conversation_id": cid, **GOOD, "reconnects": 3, "ack_ms": [100]})
    assert ack["reports"] == 2
    stored = await record(server, cid)
    assert (stored["reconnects"], stored["ack_p50_ms"], stored["ack_max_ms"], stored["acks"]) == (3, 100, 100, 1)


async def test_bad_reports_get_documented_codes_and_store_nothing(server):
    visitor, cid = await conversation(server)
    other, other_cid = await conversation(server)
    cases = [
        ("not an object", [1, 2], "invalid_payload"),
        ("no conversation", {**GOOD}, "invalid_payload"),
        ("id as text", {**GOOD, "conversation_id": str(cid)}, "invalid_payload"),
        ("count as text", {**GOOD, "conversation_id": cid, "reconnects": "2"}, "invalid_payload"),
        ("count as float", {**GOOD, "conversation_id": cid, "resends": 1.5}, "invalid_payload"),
        ("bool", {**GOOD, "conversation_id": cid, "offline_seconds": True}, "invalid_payload"),
        ("list as number", {**GOOD, "conversation_id": cid, "ack_ms": 5}, "invalid_payload"),
        ("text in list", {**GOOD, "conversation_id": cid, "ack_ms": [1, "2"]}, "invalid_payload"),
        ("unknown field", {**GOOD, "conversation_id": cid, "mouse_moves": 3}, "invalid_payload"),
        ("huge list", {**GOOD, "conversation_id": cid, "ack_ms": [1] * 201}, "out_of_range"),
        ("negative latency", {**GOOD, "conversation_id": cid, "delivery_ms": [-5]}, "out_of_range"),
        ("absurd latency", {**GOOD, "conversation_id": cid, "ack_ms": [1e12]}, "out_of_range"),
        ("negative count", {**GOOD, "conversation_id": cid, "reconnects": -1}, "out_of_range"),
        ("absurd count", {**GOOD, "conversation_id": cid, "replies": 10**9}, "out_of_range"),
        ("absurd offline", {**GOOD, "conversation_id": cid, "offline_seconds": 10**8}, "out_of_range"),
        ("hidden above all", {**GOOD, "conversation_id": cid, "hidden_replies": 3, "replies": 2}, "out_of_range"),
        ("absurd offset", {**GOOD, "conversation_id": cid, "clock_offset_ms": 1e15}, "out_of_range"),
        ("another's conversation", {**GOOD, "conversation_id": other_cid}, "not_found"),
        ("no such conversation", {**GOOD, "conversation_id": 10**9}, "not_found"),
    ]
    for what, payload, code in cases:
        ack = await visitor.call("quality", payload)
        assert_documented_error(ack, what)
        assert ack["error"] == code, (what, ack)
    assert await record(server, cid) is None or (await record(server, cid))["reports"] == 0
    assert await record(server, other_cid) is None


async def test_a_flood_of_reports_is_rate_limited_and_not_stored(server):
    visitor, cid = await conversation(server)
    answers = [await visitor.call("quality", {"conversation_id": cid, **GOOD}) for _ in range(10)]
    assert [a["ok"] for a in answers] == [True] * 6 + [False] * 4
    for ack in answers[6:]:
        assert_documented_error(ack, "flood")
        assert ack["error"] == "rate_limited"
    assert (await record(server, cid))["reports"] == 6


async def test_switched_off_nothing_is_stored(server):
    visitor, cid = await conversation(server)
    await server.app[keys.SETTINGS].update({"quality_enabled": False})
    ack = await visitor.call("quality", {"conversation_id": cid, **GOOD})
    assert_documented_error(ack, "off")
    assert ack["error"] == "quality_disabled"
    await visitor.disconnect()
    await asyncio.sleep(0.3)
    assert await record(server, cid) is None


async def test_the_disconnect_handler_counts_dropped_sockets_of_an_open_chat(server):
    visitor, cid = await conversation(server)
    token = visitor.of("session")[0]["visitor_token"]
    await visitor.disconnect()
    again = await server.visitor(token)
    await again.disconnect()
    for _ in range(50):
        stored = await record(server, cid)
        if stored and stored["server_disconnects"] == 2:
            break
        await asyncio.sleep(0.05)
    assert stored["server_disconnects"] == 2
    newcomer = await server.visitor()          # no conversation: nothing to count on
    await newcomer.disconnect()


async def test_the_first_wait_estimate_shown_is_kept(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB, bot_enabled=False)
    await server.create_agent("dana@example.com", "Dana", max_chats=1)
    agent = await server.agent("dana@example.com")
    first = await server.visitor()
    await first.call("message", {"client_id": "a", "text": "First in line"})
    await agent.wait_for("assigned")
    second = await server.visitor()
    ack = await second.call("message", {"client_id": "b", "text": "Second in line"})
    queue = await second.wait_for("queue", lambda q: q["estimated_wait_seconds"] is not None)
    cid = ack["conversation_id"]
    for _ in range(50):
        stored = await record(server, cid)
        if stored and stored["queue_estimate_seconds"] is not None:
            break
        await asyncio.sleep(0.05)
    assert stored["queue_estimate_seconds"] == queue["estimated_wait_seconds"]
