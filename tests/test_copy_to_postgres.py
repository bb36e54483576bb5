"""`python run.py --copy-to postgresql://...` on a `--demo-data` database: every row arrives (counted here, on both
sides), every conversation's messages are the same (hashed here, on both sides), and a server on the copy carries
on where the SQLite one stopped: same reports, demo agents sign in, visitors' tokens still open their chats, new
rows get fresh ids. A second copy into the same database is refused and changes nothing.

Without a PostgreSQL server these tests skip, saying how to get one (and fail under CI=true)."""
from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import date, timedelta

import aiohttp
import psycopg

from chatserver import Config
from chatserver.demo_data import DEMO_AGENT_PASSWORD, fill_demo_data
from chatserver.store.copy import TABLES
from chatserver.tokens import ServerSecret

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

    # The SQLite server's view, before the move.
    common = {"kb_dir": config.kb_dir, "kb_encoder": False}
    before = await start_server(tmp_path, **common, database_url="")
    try:
        figures_before = await reports(before)
    finally:
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
        assert len(expected) == summary["conversations"] and copied == expected

    # A server on the copy: the same figures; a demo agent signs in; an old visitor token opens its chat; a new
    # conversation and message get ids past the copied ones.
    after = await start_server(tmp_path, **common, database_url=url)
    try:
        figures_after = await reports(after)
        assert json.dumps(figures_after, sort_keys=True) == json.dumps(figures_before, sort_keys=True)
        await after.login("dana@demo.example", DEMO_AGENT_PASSWORD)
        with closing(sqlite3.connect(data_dir / "chat.db")) as source:
            visitor_id, last_question = source.execute(
                "SELECT c.visitor_id, m.text FROM conversations c JOIN messages m ON m.conversation_id = c.id "
                "WHERE m.author = 'visitor' AND NOT EXISTS (SELECT 1 FROM conversations o "
                "WHERE o.visitor_id = c.visitor_id AND o.status != 'closed') "
                "ORDER BY c.id DESC, m.seq DESC LIMIT 1").fetchone()
            top_ids = source.execute("SELECT max(id) FROM conversations").fetchone()[0], \
                source.execute("SELECT max(id) FROM messages").fetchone()[0]
        token = ServerSecret.load_or_create(data_dir).visitor_token(visitor_id)
        visitor = await after.visitor(token=token)
        session = await visitor.wait_for("session")
        assert session["visitor_id"] == visitor_id
        history = await visitor.call("conversations", {})
        assert history["ok"] and history["conversations"], history
        ack = await visitor.call("message", {"client_id": "after-the-move", "text": "still there?"})
        assert ack["ok"] and ack["conversation_id"] > top_ids[0] and ack["id"] > top_ids[1], ack
        print(f"last question of {visitor_id}: {last_question!r}; new conversation {ack['conversation_id']}")
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
