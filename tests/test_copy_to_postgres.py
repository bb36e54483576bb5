"""`python run.py --copy-to postgresql://...` on a `--demo-data` database: every row arrives (counted here, on both
sides), every conversation's messages are the same (hashed here, on both sides), and a server on the copy carries
on where the SQLite one stopped: same reports, demo agents sign in, visitors' tokens still open their chats, new
rows get fresh ids. A second copy into the same database is refused and changes nothing.

Without a PostgreSQL server these tests skip, saying how to get one (and fail under CI=true)."""
from __future__ import annotations

import asyncio
import hashlib
import json
import re
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import date, timedelta

import aiohttp
import psycopg
import pytest

from chatserver import Config
from chatserver.demo_data import DEMO_AGENT_PASSWORD, fill_demo_data
from chatserver.store import Store
from chatserver.store import conversations as conv_queries
from chatserver.store import copy as copy_module
from chatserver.store import visitors as visitor_queries
from chatserver.store.copy import TABLES

from support import postgres
from support.server import ADMIN_EMAIL, ADMIN_PASSWORD, ROOT, start_server

MESSAGES = ("SELECT conversation_id, seq, author, agent_id, private, kind, client_id, text, payload, created_at "
            "FROM messages ORDER BY conversation_id, seq")


def digests(rows) -> dict[int, str]:
    """This test's own checksum: SHA-256 per conversation over its messages' repr, in seq order."""
    found: dict[int, hashlib._Hash] = {}
    for row in rows:
        found.setdefault(row[0], hashlib.sha256()).update(repr(tuple(row[1:])).encode())
    return {cid: digest.hexdigest() for cid, digest in found.items()}


def copy_command(data_dir, url) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "run.py"), "--data-dir", str(data_dir), "--copy-to", url],
                          cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "HOME": str(data_dir)})


async def reports(server) -> dict:
    token = await server.login(ADMIN_EMAIL, ADMIN_PASSWORD)
    days = {"from": (date.today() - timedelta(days=40)).isoformat(), "to": date.today().isoformat()}
    figures = {}
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {token}"}) as http:
        for name in ("satisfaction", "speed", "bot", "articles", "gaps", "load"):
            async with http.get(f"{server.url}/api/reports/{name}", params=days) as resp:
                assert resp.status == 200
                figures[name] = await resp.json()
    return figures


async def test_copy_a_demo_database_to_postgresql_and_serve_from_it(tmp_path):
    url = postgres.create_database(postgres.require_server())
    data_dir = tmp_path / "data"
    config = Config(data_dir=data_dir, kb_dir=ROOT / "kb_articles", admin_password=ADMIN_PASSWORD)
    summary = await asyncio.to_thread(fill_demo_data, config)
    assert summary["conversations"] > 200

    # On the SQLite server, before the move: a visitor asks, the bot answers, the visitor leaves; the reports.
    common = {"kb_dir": config.kb_dir, "kb_encoder": False}
    before = await start_server(tmp_path, **common, database_url="")
    try:
        visitor = await before.visitor()
        token = (await visitor.wait_for("session"))["visitor_token"]
        ack = await visitor.call("message", {"client_id": "before-the-move", "text": "Where is my parcel?"})
        assert ack["ok"], ack
        await visitor.wait_for("message", lambda m: m["author"] == "bot")
        assert (await visitor.call("close", {}))["ok"]
        figures_before = await reports(before)
    finally:
        await visitor.disconnect()
        await before.runner.cleanup()

    done = await asyncio.to_thread(copy_command, data_dir, url)
    print("\n" + done.stdout + done.stderr[-2000:])
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Verified" in done.stdout

    with closing(sqlite3.connect(data_dir / "chat.db")) as source, psycopg.connect(url) as target:
        for table in TABLES:
            counts = [db.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for db in (source, target)]
            assert counts[0] == counts[1], (table, counts)
        assert source.execute("SELECT count(*) FROM messages").fetchone()[0] > 1000
        expected, copied = digests(source.execute(MESSAGES)), digests(target.execute(MESSAGES).fetchall())
        assert len(expected) == summary["conversations"] + 1 and copied == expected   # the demo, and the one above

    # A server on the copy: the same figures; a demo agent signs in; an old visitor token opens its chat; a new
    # conversation and message get ids past the copied ones.
    after = await start_server(tmp_path, **common, database_url=url)
    try:
        figures_after = await reports(after)
        assert json.dumps(figures_after, sort_keys=True) == json.dumps(figures_before, sort_keys=True)
        await after.login("dana@demo.example", DEMO_AGENT_PASSWORD)
        with closing(sqlite3.connect(data_dir / "chat.db")) as source:
            top_ids = source.execute("SELECT max(id) FROM conversations").fetchone()[0], \
                source.execute("SELECT max(id) FROM messages").fetchone()[0]
        visitor = await after.visitor(token=token)      # signed with the SQLite server's secret.key
        session = await visitor.wait_for("session")
        assert session["visitor_token"] == token
        history = await visitor.call("conversations", {})
        assert [c["preview"] for c in history["conversations"]] == ["Where is my parcel?"], history
        ack = await visitor.call("message", {"client_id": "after-the-move", "text": "still there?"})
        assert ack["ok"] and ack["conversation_id"] > top_ids[0] and ack["id"] > top_ids[1], ack
    finally:
        for client in after.clients:
            await client.disconnect()
        await after.runner.cleanup()

    # A second copy is refused: the database is not empty; nothing changes.
    with psycopg.connect(url) as target:
        messages_before = target.execute("SELECT count(*) FROM messages").fetchone()[0]
    again = await asyncio.to_thread(copy_command, data_dir, url)
    assert again.returncode != 0 and "not empty" in again.stderr, again.stderr[-2000:]
    with psycopg.connect(url) as target:
        assert target.execute("SELECT count(*) FROM messages").fetchone()[0] == messages_before


async def small_sqlite_desk(data_dir) -> None:
    """Two visitors' conversations in a fresh SQLite data dir."""
    store = Store(data_dir / "chat.db")
    await store.start()
    try:
        for visitor_id in ("v1", "v2"):
            await store.write(visitor_queries.get_or_create_visitor, visitor_id, time.time(), None, None, None)
            for n in range(3):
                await store.write(conv_queries.add_visitor_message, visitor_id, f"c{n}", f"{visitor_id} says {n}",
                                  time.time(), "bot")
    finally:
        await store.close()


@pytest.mark.parametrize("damage, complaint", [
    ("DELETE FROM messages WHERE id = (SELECT max(id) FROM messages)", "messages: 6 rows in SQLite, 5 in PostgreSQL"),
    ("UPDATE messages SET text = 'changed' WHERE seq = 2", "the messages of conversations [1, 2] differ"),
])
async def test_a_copy_that_does_not_match_its_source_is_rolled_back(tmp_path, monkeypatch, damage, complaint):
    """The check before COMMIT is real: damage the copy in flight and nothing is left in the target."""
    url = postgres.create_database(postgres.require_server())
    (tmp_path / "data").mkdir()
    await small_sqlite_desk(tmp_path / "data")
    copy_tables = copy_module._copy

    def damaged_copy(source, target, report):
        copy_tables(source, target, report)
        target.execute(damage)

    monkeypatch.setattr(copy_module, "_copy", damaged_copy)
    with pytest.raises(copy_module.CopyRefused, match=re.escape(complaint)):
        await asyncio.to_thread(copy_module.copy_to_postgres, tmp_path / "data" / "chat.db", url)
    with psycopg.connect(url) as target:
        assert [target.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES] == [0] * len(TABLES)
    monkeypatch.undo()
    report = await asyncio.to_thread(copy_module.copy_to_postgres, tmp_path / "data" / "chat.db", url)
    assert report.rows["messages"] == 6 and report.conversations_checked == 2
