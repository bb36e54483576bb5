"""The store's own guarantees, on a real SQLite file: group commit, failure isolation, checkpoints off the writer."""
from __future__ import annotations

import asyncio
import shutil
import sqlite3
import threading
import time

import pytest

from chatserver.errors import StorageError
from chatserver.store import Store
from chatserver.store import conversations as conv_queries
from chatserver.store import visitors as visitor_queries

from support.postgres import only_on_sqlite

# PostgreSQL's store has its own tests: tests/test_store_postgres.py.
pytestmark = only_on_sqlite("the SQLite store's group commit, savepoints and WAL checkpoints")


async def _store(tmp_path) -> Store:
    store = Store(tmp_path / "chat.db")
    await store.start()
    return store


async def _visitor_message(store: Store, visitor_id: str, n: int) -> dict:
    return await store.write(conv_queries.add_visitor_message, visitor_id, f"c{n}", f"message {n}", time.time(), "bot")


async def test_concurrent_writes_share_transactions_and_each_is_stored_once(tmp_path):
    store = await _store(tmp_path)
    try:
        await store.write(visitor_queries.get_or_create_visitor, "v1", time.time(), None, None, None)
        batches_before = store.batches
        results = await asyncio.gather(*(_visitor_message(store, "v1", n) for n in range(200)))
        assert [r["message"]["seq"] for r in results] == list(range(1, 201))
        # Group commit: 200 writes queued at once need far fewer than 200 transactions.
        assert store.batches - batches_before < 200
        replay = await _visitor_message(store, "v1", 7)
        assert replay["duplicate"] and replay["message"]["seq"] == 8
    finally:
        await store.close()


async def test_a_failing_write_rolls_back_alone(tmp_path):
    store = await _store(tmp_path)

    def broken(db):
        db.execute("INSERT INTO no_such_table VALUES (1)")

    try:
        await store.write(visitor_queries.get_or_create_visitor, "v1", time.time(), None, None, None)
        good = _visitor_message(store, "v1", 1)
        bad = store.write(broken)
        other = _visitor_message(store, "v1", 2)
        results = await asyncio.gather(good, bad, other, return_exceptions=True)
        assert isinstance(results[1], StorageError)
        assert [r["message"]["seq"] for r in (results[0], results[2])] == [1, 2]
    finally:
        await store.close()


async def test_wal_is_checkpointed_into_the_database_file_by_its_own_thread(tmp_path):
    """The writer never checkpoints (a checkpoint's fsync inside a group commit stalled every waiting ack);
    a separate thread copies the WAL back into chat.db within about a second."""
    store = await _store(tmp_path)
    try:
        await store.write(visitor_queries.get_or_create_visitor, "v1", time.time(), None, None, None)
        await asyncio.gather(*(_visitor_message(store, "v1", n) for n in range(50)))
        deadline = time.monotonic() + 5
        copied = 0
        while time.monotonic() < deadline:
            await asyncio.sleep(0.3)
            # The database file alone (no -wal beside it) holds what has been checkpointed.
            snapshot = tmp_path / "snapshot.db"
            shutil.copyfile(tmp_path / "chat.db", snapshot)
            conn = sqlite3.connect(snapshot)
            try:
                copied = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
            except sqlite3.DatabaseError:
                copied = 0
            finally:
                conn.close()
                snapshot.unlink()
            if copied == 50:
                break
        assert copied == 50
    finally:
        await store.close()


@pytest.mark.parametrize("method", ["read", "write"])
async def test_a_closed_store_refuses_with_storage_error(tmp_path, method):
    store = await _store(tmp_path)
    await store.close()
    with pytest.raises(StorageError):
        await getattr(store, method)(visitor_queries.get_visitor, "v1")


async def test_a_lone_failing_write_keeps_its_own_error_and_changes_nothing(tmp_path):
    """Without other writes in the batch there is no savepoint: the transaction is rolled back, and the caller
    still gets the domain error it raised (not a storage error)."""
    store = await _store(tmp_path)

    def create_then_refuse(db):
        visitor_queries.get_or_create_visitor(db, "ghost", time.time(), None, None, None)
        conv_queries.close_conversation(db, 999, "agent", 1, "resolved", "no such conversation", time.time())

    try:
        with pytest.raises(Exception) as raised:
            await store.write(create_then_refuse)
        assert not isinstance(raised.value, StorageError)
        assert await store.read(visitor_queries.get_visitor, "ghost") is None
        await store.write(visitor_queries.get_or_create_visitor, "v1", time.time(), None, None, None)
        assert (await _visitor_message(store, "v1", 1))["message"]["seq"] == 1
    finally:
        await store.close()


async def test_a_write_failing_after_a_partial_change_in_a_batch_leaves_no_trace_and_the_others_commit(tmp_path):
    """Batches run without per-write savepoints first; when one write fails the batch is rolled back and run again
    with each write isolated: the others are stored once, the failing one's half-done change is not, and it keeps
    its own domain error."""
    store = await _store(tmp_path)

    def create_then_refuse(db):
        visitor_queries.get_or_create_visitor(db, "ghost", time.time(), None, None, None)
        conv_queries.close_conversation(db, 999, "agent", 1, "resolved", "no such conversation", time.time())

    def hold_the_writer(db, started: threading.Event, release: threading.Event):
        started.set()
        assert release.wait(10), "the test never released the writer"

    try:
        await store.write(visitor_queries.get_or_create_visitor, "v1", time.time(), None, None, None)
        # Keep the writer busy while the eleven writes are queued, so that it takes them as ONE batch: the failing
        # write is then never alone in its transaction, and the batch must take the retry path every time.
        started, release = threading.Event(), threading.Event()
        held = store.write(hold_the_writer, started, release)
        assert await asyncio.get_running_loop().run_in_executor(None, started.wait, 10)
        writes = [store.write(conv_queries.add_visitor_message, "v1", f"c{n}", f"message {n}", time.time(), "bot")
                  for n in range(10)]
        writes.insert(5, store.write(create_then_refuse))
        batches_before, writes_before = store.batches, store.writes
        release.set()
        await held
        results = await asyncio.gather(*writes, return_exceptions=True)
        # Two commits: the held write's, then all eleven in one transaction. The optimistic run of a batch with a
        # failing write commits nothing, so the only way ten writes and a refused one commit together is the
        # isolated retry.
        assert (store.batches - batches_before, store.writes - writes_before) == (2, 12)
        refused = results.pop(5)
        assert not isinstance(refused, StorageError) and getattr(refused, "code", None), refused
        assert sorted(r["message"]["seq"] for r in results) == list(range(1, 11))
        assert all(not r["duplicate"] for r in results)
        assert await store.read(visitor_queries.get_visitor, "ghost") is None
        cid = results[0]["message"]["conversation_id"]
        stored = await store.read(conv_queries.messages_after, cid, 0, False, 100)
        assert [m["seq"] for m in stored] == list(range(1, 11))
    finally:
        await store.close()
