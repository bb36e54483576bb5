"""The store on a real PostgreSQL: the same facade as on SQLite, several nodes (Store instances) on one database.
Nodes starting together migrate, make the secret and the first admin exactly once; many writers on several nodes
keep every conversation's seq gapless and unique and every client_id stored once; an assignment's expected status
holds under the row lock; migrations m003/m004 convert old rows as on SQLite.

Without a PostgreSQL server these tests skip, saying how to get one (and fail under CI=true)."""
from __future__ import annotations

import asyncio
import hashlib
import time
from collections import Counter
from dataclasses import replace

import psycopg
import pytest

from chatserver.config import Config, load_config
from chatserver.desk.agents import ensure_first_admin
from chatserver.desk.messages import store_agent_message
from chatserver.errors import Conflict, NotFound, StorageError
from chatserver.passwords import hash_password
from chatserver.store import agents as agent_queries
from chatserver.store import conversations as conv_queries
from chatserver.store import server_secret
from chatserver.store import visitors as visitor_queries
from chatserver.store.portable import CONNECTION_KWARGS, Dialect, PostgresDatabase
from chatserver.store.pg_schema import migrations as pg_migrations
from chatserver.store.postgres import PostgresStore
from chatserver.tokens import ServerSecret

from support import postgres
from support.server import ADMIN_PASSWORD, FIXTURE_KB, start_server

NODES = 4
PASSWORD_HASH = hash_password("agent-password-1")


@pytest.fixture
def database() -> str:
    """A fresh, empty database (dropped when the test ends)."""
    return postgres.create_database(postgres.require_server())


async def start_nodes(url: str, count: int = NODES) -> list[PostgresStore]:
    nodes = [PostgresStore(url, pool_size=4) for _ in range(count)]
    await asyncio.gather(*(node.start() for node in nodes))
    return nodes


async def close_all(nodes) -> None:
    await asyncio.gather(*(node.close() for node in nodes))


async def test_nodes_starting_together_on_an_empty_database_migrate_once_and_make_one_secret_and_one_admin(
        database, tmp_path):
    nodes = await start_nodes(database)
    try:
        applied = sorted(len(node.migrated) for node in nodes)
        print(f"\nmigrations applied per node: {applied}")
        assert applied == [0] * (NODES - 1) + [len(pg_migrations.steps)]
        with psycopg.connect(database) as conn:
            names = [r[0] for r in conn.execute("SELECT name FROM schema_migrations ORDER BY id").fetchall()]
        assert names == [name for name, _ in pg_migrations.steps]        # each once, in order
        assert names[:4] == ["m001_core", "m002_article_versions", "m003_session_token_hashes",
                             "m004_visitor_ip_networks"]
        keys = {await node.read(server_secret.hmac_key) for node in nodes}
        assert len(keys) == 1 and len(bytes.fromhex(keys.pop())) == 32

        # Every node creates the first admin at the same moment (a real node hashes its password first, in its own
        # process: here the hash is made once, so that the writes really meet).
        created = await asyncio.gather(*(node.write(agent_queries.create_first_admin, "admin@localhost", "Admin",
                                                    PASSWORD_HASH, 3, time.time()) for node in nodes))
        assert sum(admin is not None for admin in created) == 1
        config = Config(data_dir=tmp_path, admin_password=ADMIN_PASSWORD, database_url=database)
        await asyncio.gather(*(ensure_first_admin(node, config) for node in nodes))    # found: nothing more
        admins = await nodes[0].read(agent_queries.list_agents)
        assert [(a["email"], a["role"]) for a in admins] == [("admin@localhost", "admin")]
    finally:
        await close_all(nodes)


async def test_many_writers_on_several_nodes_keep_seq_gapless_and_unique_and_each_client_id_stored_once(database):
    nodes = await start_nodes(database)
    try:
        now = time.time()
        agent = await nodes[0].write(agent_queries.create_agent, "ana@example.com", "Ana", PASSWORD_HASH, "agent", 3,
                                     [], now)
        for visitor_id in ("v1", "v2"):
            await nodes[0].write(visitor_queries.get_or_create_visitor, visitor_id, now, None, None, None)
        first = await nodes[0].write(conv_queries.add_visitor_message, "v1", "first", "hello", now, "queued")
        cid = first["conversation"]["id"]
        await nodes[0].write(conv_queries.assign_conversation, cid, agent["id"], "assigned", "system", None, "test",
                             now, ("queued",))

        rounds = 25
        writes = []   # (kind, client_id, future): every client_id is sent by EVERY node at once
        for n in range(rounds):
            for node in nodes:
                writes.append(("visitor", f"v-{n}", node.write(
                    conv_queries.add_visitor_message, "v1", f"v-{n}", f"visitor {n}", time.time(), "queued")))
                writes.append(("agent", f"a-{n}", node.write(
                    store_agent_message, agent, cid, f"a-{n}", f"agent {n}", time.time(), False)))
                writes.append(("bot", None, node.write(conv_queries.add_bot_message, cid, f"bot {n}", time.time())))
                # v2 has no conversation yet: its first messages race to create one.
                writes.append(("new", f"n-{n}-{id(node)}", node.write(
                    conv_queries.add_visitor_message, "v2", f"n-{n}-{id(node)}", f"new {n}", time.time(), "bot")))
        started = time.monotonic()
        results = await asyncio.gather(*(future for _, _, future in writes), return_exceptions=True)
        elapsed = time.monotonic() - started
        print(f"\n{len(writes)} writes from {NODES} nodes in {elapsed:.2f} s")
        failures = [r for r in results if isinstance(r, BaseException)]
        assert not failures, failures[:3]

        stored = await nodes[1].read(conv_queries.messages_after, cid, 0, True, 10_000)
        assert [m["seq"] for m in stored] == list(range(1, len(stored) + 1))          # gapless, unique, in order
        assert len(stored) == 1 + rounds * (2 + NODES)   # the first, one per visitor and agent client_id, every bot
        client_ids = Counter(m.get("client_id") for m in stored if m.get("client_id"))
        assert set(client_ids.values()) == {1}

        acks: dict[str, list[tuple[int, int, bool]]] = {}
        for (kind, client_id, _), result in zip(writes, results):
            if kind == "visitor":
                acks.setdefault(client_id, []).append((result["message"]["id"], result["message"]["seq"],
                                                       result["duplicate"]))
            elif kind == "agent":
                message, _, duplicate = result
                acks.setdefault(client_id, []).append((message["id"], message["seq"], duplicate))
        for client_id, answers in acks.items():
            assert len({(i, s) for i, s, _ in answers}) == 1, (client_id, answers)   # every node acked the same row
            assert sorted(d for _, _, d in answers) == [False] + [True] * (NODES - 1), (client_id, answers)

        v2_conversations = {r["conversation"]["id"] for (kind, _, _), r in zip(writes, results) if kind == "new"}
        assert len(v2_conversations) == 1                   # one open conversation, not one per node
        v2_messages = await nodes[2].read(conv_queries.messages_after, v2_conversations.pop(), 0, False, 10_000)
        assert [m["seq"] for m in v2_messages] == list(range(1, rounds * NODES + 1))
    finally:
        await close_all(nodes)


async def test_writes_about_one_subject_keep_the_order_they_were_made_in_on_a_node(database):
    """As on SQLite: one visitor's messages sent without waiting for acks are stored in the order sent (their lane
    is the visitor's), while other visitors' writes run beside them."""
    [store] = await start_nodes(database, 1)
    try:
        now = time.time()
        visitors = [f"v{n}" for n in range(8)]
        for visitor_id in visitors:
            await store.write(visitor_queries.get_or_create_visitor, visitor_id, now, None, None, None)
        writes = [(visitor_id, n, store.write(conv_queries.add_visitor_message, visitor_id, f"c{n}", f"m{n}",
                                              time.time(), "bot"))
                  for n in range(40) for visitor_id in visitors]
        results = await asyncio.gather(*(future for _, _, future in writes))
        for visitor_id in visitors:
            seqs = [r["message"]["seq"] for (v, _, _), r in zip(writes, results) if v == visitor_id]
            assert seqs == list(range(1, 41)), (visitor_id, seqs)
    finally:
        await store.close()


async def test_an_assignment_expects_its_status_under_the_row_lock(database):
    """Agents on every node take the same queued chat at once: exactly one assignment commits per chat, the others
    are refused with wrong_state, and the event log has one assignment."""
    nodes = await start_nodes(database)
    try:
        now = time.time()
        agents = [await nodes[0].write(agent_queries.create_agent, f"agent{n}@example.com", f"Agent {n}",
                                       PASSWORD_HASH, "agent", 3, [], now) for n in range(NODES)]
        rounds = 30
        for n in range(rounds):
            await nodes[0].write(visitor_queries.get_or_create_visitor, f"q{n}", now, None, None, None)
        queued = [(await nodes[0].write(conv_queries.add_visitor_message, f"q{n}", "c", "help", now, "queued"))
                  ["conversation"]["id"] for n in range(rounds)]
        claims = [(cid, node.write(conv_queries.assign_conversation, cid, agent["id"], "assigned", "agent", agent["id"],
                                   "claimed", time.time(), ("queued",)))
                  for cid in queued for node, agent in zip(nodes, agents)]
        results = await asyncio.gather(*(future for _, future in claims), return_exceptions=True)
        winners = Counter(cid for (cid, _), result in zip(claims, results) if isinstance(result, dict))
        refusals = [r for r in results if not isinstance(r, dict)]
        assert winners == Counter({cid: 1 for cid in queued})
        assert all(isinstance(r, Conflict) and r.code == "wrong_state" for r in refusals), refusals[:3]
        for cid in queued:
            events = await nodes[1].read(conv_queries.conversation_events, cid)
            assert [e["type"] for e in events].count("assigned") == 1
    finally:
        await close_all(nodes)


async def test_the_facade_commits_before_it_answers_and_a_failed_write_leaves_nothing(database):
    [store] = await start_nodes(database, 1)

    def create_then_refuse(db):
        visitor_queries.get_or_create_visitor(db, "ghost", time.time(), None, None, None)
        conv_queries.close_conversation(db, 999, "agent", 1, "resolved", "no such conversation", time.time())

    def broken(db):
        visitor_queries.get_or_create_visitor(db, "ghost", time.time(), None, None, None)
        db.execute("INSERT INTO no_such_table VALUES (1)")

    try:
        with pytest.raises(NotFound):                                # the caller's own domain error...
            await store.write(create_then_refuse)
        with pytest.raises(StorageError):                            # ...and a database error as storage_error
            await store.write(broken)
        assert await store.read(visitor_queries.get_visitor, "ghost") is None     # both rolled back
        # What a write returns is committed: another node reads it at once.
        [other] = await start_nodes(database, 1)
        try:
            await store.write(visitor_queries.get_or_create_visitor, "v1", time.time(), "203.0.113.0/24", "ua", None)
            ack = await store.write(conv_queries.add_visitor_message, "v1", "c1", "100% sure it's 'quoted'?",
                                    time.time(), "bot")
            assert ack["message"]["seq"] == 1 and isinstance(ack["message"]["id"], int)
            [message] = await other.read(conv_queries.messages_after, ack["message"]["conversation_id"], 0, False)
            assert message["text"] == "100% sure it's 'quoted'?"
        finally:
            await other.close()
    finally:
        await store.close()
    with pytest.raises(StorageError):
        await store.read(visitor_queries.get_visitor, "v1")
    with pytest.raises(StorageError):
        store.write(visitor_queries.get_visitor, "v1")


async def test_migrations_m003_and_m004_convert_an_earlier_versions_rows_as_on_sqlite(database):
    with psycopg.connect(database, autocommit=True, **CONNECTION_KWARGS) as conn:
        dialect = Dialect(frozenset({"agents", "conversations", "messages"}))
        pg_migrations.apply(conn, lambda c: PostgresDatabase(c, dialect, False),
                            stop_before="m003_session_token_hashes")
        agent_id = conn.execute("INSERT INTO agents (email, name, password_hash, created_at) VALUES "
                                "('old@example.com', 'Old', 'x', 0) RETURNING id").fetchone()[0]
        conn.execute("INSERT INTO agent_sessions (token, agent_id, created_at, expires_at) VALUES (%s, %s, 0, %s)",
                     ["raw-token", agent_id, time.time() + 3600])
        conn.execute("INSERT INTO visitors (id, created_at, last_seen_at, ip) VALUES ('old', 0, 0, '203.0.113.7'), "
                     "('v6', 0, 0, '2001:db8:1:2::5'), ('junk', 0, 0, 'not an address')")
    [store] = await start_nodes(database, 1)
    try:
        assert store.migrated[:2] == ["m003_session_token_hashes", "m004_visitor_ip_networks"]   # then later ones
        assert (await store.read(agent_queries.agent_for_session, "raw-token", time.time()))["id"] == agent_id
        with psycopg.connect(database) as conn:
            assert conn.execute("SELECT token_hash FROM agent_sessions").fetchone()[0] == \
                hashlib.sha256(b"raw-token").hexdigest()
            networks = dict(conn.execute("SELECT id, ip_network FROM visitors").fetchall())
        assert networks == {"old": "203.0.113.0/24", "v6": "2001:db8:1::/48", "junk": None}
    finally:
        await store.close()


async def test_connections_the_server_ended_are_replaced_without_failing_a_write_or_a_read(database):
    """PostgreSQL ends every connection of the node (as a restart or a failover does): the next write, which had
    not reached COMMIT, runs again on a fresh connection, and reads carry on."""
    [store] = await start_nodes(database, 1)
    try:
        await store.write(visitor_queries.get_or_create_visitor, "v1", time.time(), None, None, None)
        with psycopg.connect(database, autocommit=True) as admin:
            ended = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                  "WHERE datname = current_database() AND pid != pg_backend_pid()").fetchone()[0]
        assert ended >= 2 * store.pool_size
        acks = await asyncio.gather(*(store.write(conv_queries.add_visitor_message, "v1", f"c{n}", f"after {n}",
                                                  time.time(), "bot") for n in range(10)))
        assert [a["message"]["seq"] for a in acks] == list(range(1, 11))
        assert (await store.read(visitor_queries.get_visitor, "v1"))["id"] == "v1"
        print(f"\nconnections ended by the server: {ended}; the next 10 writes and a read succeeded")
    finally:
        await store.close()


async def test_a_store_that_cannot_reach_its_database_refuses_to_start_and_names_it():
    store = PostgresStore("postgresql://chat:secret-password@127.0.0.1:1/nowhere")
    with pytest.raises(StorageError) as refused:
        await store.start()
    assert "chat@127.0.0.1:1/nowhere" in str(refused.value) and "secret-password" not in str(refused.value)


async def test_two_servers_on_one_database_sign_with_the_same_secret(database, tmp_path):
    """The key lives in the database: a visitor token minted by one server opens the same visitor's chat on the
    other, which has its own (empty) data dir."""
    common = {"kb_dir": FIXTURE_KB, "kb_encoder": False, "database_url": database}
    first = await start_server(tmp_path / "one", **common)
    second = await start_server(tmp_path / "two", **common)
    try:
        visitor = await first.visitor()
        token = (await visitor.wait_for("session"))["visitor_token"]
        ack = await visitor.call("message", {"client_id": "c1", "text": "hello from one"})
        assert ack["ok"], ack
        again = await second.visitor(token=token, last_seq=0)
        session = await again.wait_for("session")
        assert session["visitor_token"] == token
        assert [m["text"] for m in session["messages"] if m["author"] == "visitor"] == ["hello from one"]
        assert not (tmp_path / "one" / "data" / "secret.key").exists()
    finally:
        for server in (first, second):
            for client in server.clients:
                await client.disconnect()
            await server.runner.cleanup()


def test_the_database_settings_are_checked_when_read():
    config, _ = load_config([], {"CHAT_DATABASE_URL": "postgresql://chat@db:5432/chat", "CHAT_SECRET_KEY": "ab" * 32,
                                 "CHAT_DATABASE_POOL_SIZE": "6"})
    assert (config.database_url, config.secret_key, config.database_pool_size) == \
        ("postgresql://chat@db:5432/chat", "ab" * 32, 6)
    assert ServerSecret.for_config(config).loaded            # CHAT_SECRET_KEY wins over the database's key
    assert not ServerSecret.for_config(replace(config, secret_key="")).loaded   # loaded from the database at start
    with pytest.raises(ValueError, match="CHAT_DATABASE_URL"):
        load_config([], {"CHAT_DATABASE_URL": "mysql://chat@db/chat"})
    with pytest.raises(ValueError, match="CHAT_SECRET_KEY"):
        load_config([], {"CHAT_SECRET_KEY": "too-short"})
