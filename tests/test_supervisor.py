"""The supervisor role and the live supervisor view over a real server: the migration that widens agents.role's
CHECK keeps every row (SQLite rebuild, PostgreSQL constraint), what a supervisor may read and do, who may open the
page, and the `supervisor` events: the queue against the SLA, breaches, agents' load, disconnected visitors and
unsent messages, never a visitor token."""
from __future__ import annotations

import asyncio
import json
import sqlite3
import time

import aiohttp
import psycopg
import pytest
import sqlite_utils

from chatserver.store.pg_schema import migrations as pg_migrations
from chatserver.store.portable import CONNECTION_KWARGS, Dialect, PostgresDatabase
from chatserver.store.schema import migrations

from support import postgres
from support.admin_client import AdminClient
from support.protocol import assert_documented_error
from support.server import ADMIN_EMAIL, ADMIN_PASSWORD, FIXTURE_KB


def test_the_sqlite_migration_rebuilds_agents_with_the_new_role_and_keeps_every_row(tmp_path):
    db = sqlite_utils.Database(sqlite3.connect(tmp_path / "chat.db", isolation_level=None))
    db.execute("PRAGMA foreign_keys = ON")
    migrations.apply(db, stop_before="m15c_supervisor_role")
    db.execute("INSERT INTO agents (id, email, name, password_hash, role, created_at) VALUES "
               "(1, 'a@example.com', 'A', 'x', 'admin', 0), (2, 'b@example.com', 'B', 'x', 'agent', 0)")
    db.execute("INSERT INTO agent_sessions (token_hash, agent_id, created_at, expires_at) VALUES ('h', 2, 0, 1)")
    db.execute("INSERT INTO visitors (id, created_at, last_seen_at) VALUES ('v', 0, 0)")
    db.execute("INSERT INTO conversations (id, visitor_id, status, agent_id, created_at) VALUES (7, 'v', 'assigned', 2, 0)")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("UPDATE agents SET role = 'supervisor' WHERE id = 2")
    migrations.apply(db)
    db.execute("UPDATE agents SET role = 'supervisor' WHERE id = 2")
    with pytest.raises(sqlite3.IntegrityError):
        db.execute("UPDATE agents SET role = 'boss' WHERE id = 2")
    assert db.execute("SELECT id, email, role FROM agents ORDER BY id").fetchall() == [
        (1, "a@example.com", "admin"), (2, "b@example.com", "supervisor")]
    assert db.execute("SELECT agent_id FROM conversations WHERE id = 7").fetchone()[0] == 2
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    with pytest.raises(sqlite3.IntegrityError):          # references to agents still hold
        db.execute("INSERT INTO agent_sessions (token_hash, agent_id, created_at, expires_at) VALUES ('g', 99, 0, 1)")
    with pytest.raises(sqlite3.IntegrityError):          # the email stays unique, case-insensitively
        db.execute("INSERT INTO agents (email, name, password_hash, created_at) VALUES ('A@example.com', 'C', 'x', 0)")


def test_the_postgres_migration_widens_the_constraint():
    url = postgres.create_database(postgres.require_server())
    with psycopg.connect(url, autocommit=True, **CONNECTION_KWARGS) as conn:
        dialect = Dialect(frozenset({"agents", "conversations", "messages"}))
        pg_migrations.apply(conn, lambda c: PostgresDatabase(c, dialect, False), stop_before="m15c_supervisor_role")
        conn.execute("INSERT INTO agents (email, name, password_hash, role, created_at) VALUES ('s@example.com', 'S', "
                     "'x', 'agent', 0)")
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("UPDATE agents SET role = 'supervisor'")
        pg_migrations.apply(conn, lambda c: PostgresDatabase(c, dialect, False))
        conn.execute("UPDATE agents SET role = 'supervisor'")
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("UPDATE agents SET role = 'boss'")


@pytest.fixture
async def desk(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB, bot_enabled=False, sla_seconds=1)
    await server.create_agent("dana@example.com", "Dana")
    await server.create_agent("sue@example.com", "Sue", role="supervisor")
    return server


async def test_a_supervisor_reads_every_chat_and_adds_notes_but_cannot_take_admin_actions(desk):
    server = desk
    dana = await server.agent("dana@example.com")
    sue = await server.agent("sue@example.com", online=False)
    visitor = await server.visitor()
    ack = await visitor.call("message", {"client_id": "v1", "text": "Hello there"})
    cid = ack["conversation_id"]
    await dana.wait_for("assigned")
    snapshot = await sue.call("conversation", {"conversation_id": cid})
    assert snapshot["ok"] and snapshot["conversation"]["id"] == cid
    note = await sue.call("note", {"conversation_id": cid, "text": "Watch the tone here"})
    assert note["ok"], note
    heard = await dana.wait_for("message", lambda m: m.get("private"))
    assert heard["text"] == "Watch the tone here"
    for event, payload in (("close", {"conversation_id": cid}), ("transfer", {"conversation_id": cid, "agent_id": 1}),
                           ("message", {"conversation_id": cid, "client_id": "s1", "text": "hi"}),
                           ("receipt", {"conversation_id": cid, "seen_seq": 1})):
        answer = await sue.call(event, payload)
        assert_documented_error(answer, event)
        assert answer["error"] == "not_assigned", (event, answer)
    assert "Watch the tone" not in json.dumps(visitor.events)


async def test_the_page_is_for_admins_and_supervisors_only(desk):
    server = desk
    async def status_of(email, password, path):
        token = await server.login(email, password)
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
            async with http.get(server.url + path, allow_redirects=False) as resp:
                return resp.status
    assert await status_of("sue@example.com", "agent-password-1", "/supervisor") == 200
    assert await status_of(ADMIN_EMAIL, ADMIN_PASSWORD, "/supervisor") == 200
    assert await status_of("dana@example.com", "agent-password-1", "/supervisor") == 403
    assert await status_of("sue@example.com", "agent-password-1", "/admin/agents") == 403
    assert await status_of("sue@example.com", "agent-password-1", "/api/reports/speed") == 403


async def test_the_board_shows_the_queue_breaches_load_and_visitors_to_watch(desk):
    server = desk
    sue = await server.agent("sue@example.com", online=False)
    first = await sue.wait_for("supervisor", timeout=1.5)     # right after the session, not the 2 s tick
    assert first["queue"] == [] and first["sla_seconds"] == 1
    dana = await server.agent("dana@example.com", online=False)

    # Nobody online: a visitor waits in the queue and crosses the 1 s target.
    waiting = await server.visitor()
    ack = await waiting.call("message", {"client_id": "w1", "text": "Is anyone there?"})
    cid = ack["conversation_id"]
    board = await sue.wait_for("supervisor", lambda b: any(x["conversation_id"] == cid for x in b["breaches"]),
                               timeout=10)
    queued = next(q for q in board["queue"] if q["conversation_id"] == cid)
    assert queued["first_question"] == "Is anyone there?" and queued["sla_remaining_seconds"] < 0
    breach = next(b for b in board["breaches"] if b["conversation_id"] == cid)
    assert breach["kind"] == "queue" and breach["waited_seconds"] > 1
    names = {a["name"]: a for a in board["agents"]}
    assert names["Dana"]["status"] == "away" and names["Sue"]["role"] == "supervisor"

    # Dana takes it; the visitor's socket drops and their widget had reported unsent messages.
    await dana.call("status", {"status": "online"})
    await dana.wait_for("assigned")
    quality = await waiting.call("quality", {"conversation_id": cid, "unsent": 2})
    assert quality["ok"], quality
    await waiting.disconnect()
    board = await sue.wait_for("supervisor", lambda b: any(
        v["conversation_id"] == cid and not v["visitor_connected"] for v in b["visitors"]), timeout=10)
    watched = next(v for v in board["visitors"] if v["conversation_id"] == cid)
    assert watched == {"conversation_id": cid, "status": "assigned", "agent_name": "Dana", "visitor_connected": False,
                       "unsent": 2}
    assert any(b["conversation_id"] == cid and b["kind"] == "first_response" for b in board["breaches"])
    assert next(a for a in board["agents"] if a["name"] == "Dana")["open_chats"] == 1
    assert dana.of("supervisor") == []                          # agents never get the board
    # Dana answers: no longer a breach.
    await dana.call("message", {"conversation_id": cid, "client_id": "d1", "text": "Hi!"})
    since = time.time()
    await sue.wait_for("supervisor", lambda b: b["at"] > since and not b["breaches"], timeout=10)
    # Nothing in any board names the visitor or carries a token.
    token = waiting.of("session")[0]["visitor_token"]
    visitor_id = waiting.of("session")[0]["visitor_id"]
    text = json.dumps(sue.of("supervisor"))
    assert token not in text and visitor_id not in text and "v1." not in text


async def test_boards_stop_when_no_supervisor_is_connected(desk):
    server = desk
    sue = await server.agent("sue@example.com", online=False)
    await sue.wait_for("supervisor", lambda b: True)
    count = len(sue.of("supervisor"))
    await asyncio.sleep(4.5)
    assert len(sue.of("supervisor")) >= count + 1             # every 2 s while connected


async def test_an_admin_makes_an_agent_a_supervisor_and_it_counts_at_once(desk):
    server = desk
    admin = await AdminClient.login(server)
    dana = await server.agent("dana@example.com", online=False)
    listed = {a["email"]: a for a in (await admin.call("GET", "/api/admin/agents"))[1]["agents"]}
    status, body = await admin.call("PATCH", f"/api/admin/agents/{listed['dana@example.com']['id']}",
                                    {"role": "supervisor"})
    assert status == 200 and body["agent"]["role"] == "supervisor", body
    status, body = await admin.call("PATCH", f"/api/admin/agents/{listed['dana@example.com']['id']}", {"role": "boss"})
    assert status == 400 and body["error"] == "invalid_payload", body
    await server.create_agent("ann@example.com", "Ann")
    ann = await server.agent("ann@example.com")
    visitor = await server.visitor()
    ack = await visitor.call("message", {"client_id": "v1", "text": "Hello"})
    await ann.wait_for("assigned")
    # Dana's open socket reads with her new role: a chat assigned to Ann (an agent gets not_assigned).
    answer = await dana.call("conversation", {"conversation_id": ack["conversation_id"]})
    assert answer["ok"], answer
    status, page, _ = await admin.get("/admin/agents")
    assert status == 200 and 'value="supervisor"' in page
    await admin.close()
