"""Data at rest (chatserver/security/private_files.py, store migrations m003/m004): the data dir is 0700 and the server's
files 0600, session tokens are stored only as hashes, and of a visitor's address only its network is stored, for
new data and for data written by earlier versions."""
from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import stat
import time

import aiohttp
import pytest
import sqlite_utils

from chatserver.auth import hash_password
from chatserver.store.schema import migrations

from support.postgres import skip_on_postgres
from support.server import ADMIN_EMAIL, ADMIN_PASSWORD, Recorder, start_server
from test_chat_journey import FIXTURE_KB

QUIET = {"kb_dir": FIXTURE_KB, "kb_encoder": False}
# Every test here reads or writes chat.db itself (PostgreSQL's migrations m003/m004: tests/test_store_postgres.py).
pytestmark = skip_on_postgres


@pytest.fixture
def usual_umask():
    """The common default umask, under which files are created world-readable unless the server says otherwise."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def database_bytes(data_dir) -> bytes:
    """Everything SQLite keeps on disk, once the WAL is checkpointed into chat.db (the server does that every 0.5 s;
    until then the main file still holds the pages the WAL replaces)."""
    with contextlib.closing(sqlite3.connect(data_dir / "chat.db")) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return b"".join((data_dir / name).read_bytes() for name in ("chat.db", "chat.db-wal") if (data_dir / name).exists())


async def test_the_data_dir_is_0700_and_the_database_its_wal_and_the_secret_0600(tmp_path, usual_umask):
    server = await start_server(tmp_path, **QUIET)
    try:
        await server.login(ADMIN_EMAIL, ADMIN_PASSWORD)
        visitor = await server.visitor()
        await visitor.call("message", {"client_id": "c1", "text": "hello"})
        await visitor.disconnect()
        data = tmp_path / "data"
        assert (data / "chat.db-wal").exists() and (data / "chat.db-shm").exists()
        modes = {name: oct(mode(data / name)) for name in ("chat.db", "chat.db-wal", "chat.db-shm", "secret.key")}
        print(f"\ndata dir {oct(mode(data))}, files {modes}")
        assert mode(data) == 0o700
        assert set(modes.values()) == {"0o600"}, modes
    finally:
        await server.runner.cleanup()


async def test_a_data_dir_left_open_by_an_earlier_version_is_tightened(tmp_path, usual_umask):
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    db = sqlite_utils.Database(data / "chat.db")
    migrations.apply(db)
    db.conn.close()
    os.chmod(data / "chat.db", 0o644)
    (data / "secret.key").write_text("ab" * 32)
    os.chmod(data / "secret.key", 0o644)
    server = await start_server(tmp_path, **QUIET)
    try:
        assert mode(data) == 0o700
        assert mode(data / "chat.db") == mode(data / "secret.key") == 0o600
        assert mode(data / "chat.db-wal") == 0o600
    finally:
        await server.runner.cleanup()


async def test_session_tokens_are_stored_only_as_hashes(tmp_path):
    server = await start_server(tmp_path, **QUIET)
    try:
        token = await server.login(ADMIN_EMAIL, ADMIN_PASSWORD)
        agent = Recorder("/agent")
        await agent.connect(server.url, auth={"token": token})
        await agent.wait_for("session")
        await agent.disconnect()
    finally:
        await server.runner.cleanup()
    stored = database_bytes(tmp_path / "data")
    assert token.encode() not in stored
    assert hashlib.sha256(token.encode()).hexdigest().encode() in stored


async def test_of_a_visitors_address_only_the_network_is_stored(tmp_path):
    server = await start_server(tmp_path, **QUIET)
    try:
        visitor = Recorder("/visitor")
        await visitor.connect(server.url, auth={})
        session = await visitor.wait_for("session")
        await visitor.disconnect()
        row = await server.store.read(lambda db: dict(db.execute("SELECT * FROM visitors WHERE id = ?",
                                                                 [session["visitor_id"]]).fetchone()))
        assert row.get("ip_network") == "127.0.0.0/24" and "ip" not in row, row
    finally:
        await server.runner.cleanup()
    assert b"127.0.0.1" not in database_bytes(tmp_path / "data")


async def test_an_earlier_versions_tokens_and_addresses_are_converted_and_its_sessions_still_work(tmp_path):
    """The database of an earlier version (migrations m001 and m002 only): raw tokens and raw addresses."""
    data = tmp_path / "data"
    data.mkdir()
    db = sqlite_utils.Database(data / "chat.db")
    migrations.apply(db, stop_before="m003_session_token_hashes")
    now = time.time()
    db.execute("INSERT INTO agents (email, name, password_hash, role, created_at) VALUES (?, 'Admin', ?, 'admin', ?)",
               [ADMIN_EMAIL, hash_password(ADMIN_PASSWORD), now])
    old_token = "old-session-token-" + "x" * 30
    db.execute("INSERT INTO agent_sessions (token, agent_id, created_at, expires_at) VALUES (?, 1, ?, ?)",
               [old_token, now, now + 3600])
    for visitor_id, address in (("v1", "203.0.113.77"), ("v2", "2001:db8:1:2::99"), ("v3", "::ffff:198.51.100.9")):
        db.execute("INSERT INTO visitors (id, created_at, last_seen_at, ip) VALUES (?, ?, ?, ?)",
                   [visitor_id, now, now, address])
    db.conn.commit()
    db.conn.close()

    server = await start_server(tmp_path, **QUIET)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(server.url + "/api/console/agents",
                                headers={"Authorization": f"Bearer {old_token}"}) as resp:
                assert resp.status == 200, await resp.text()
        networks = await server.store.read(
            lambda db: dict(db.execute("SELECT id, ip_network FROM visitors").fetchall()))
        assert networks == {"v1": "203.0.113.0/24", "v2": "2001:db8:1::/48", "v3": "198.51.100.0/24"}
    finally:
        await server.runner.cleanup()
    stored = database_bytes(data)
    # Gone from the file itself, not just from the rows (freed space is zeroed as the migration rewrites it).
    for raw in (old_token, "203.0.113.77", "2001:db8:1:2::99", "198.51.100.9"):
        assert raw.encode() not in stored, raw
