"""The only code that touches the database: SQLite here, PostgreSQL in postgres.py (`create_store` picks one).

`Store` is the coroutine facade: `await store.write(fn, *args)` runs `fn(db, *args)` in the single writer
thread, `await store.read(fn, *args)` in a small pool of read-only connections. `fn` receives a
`sqlite_utils.Database`. The query functions live in the sibling modules (visitors, agents, conversations, ...).

Group commit: the writer thread drains every write waiting in its queue and runs them in ONE transaction
(a write that fails rolls back alone, see _run_batch), then COMMITs once and only then resolves the callers'
futures. A caller therefore never sees success for a write that is not durable, and under load many messages
share one commit. (Waiting a few ms for batches to grow halved the writer's CPU but made the acks' latency tail
worse: docs/performance.md.)

Durability: journal_mode=WAL with synchronous=NORMAL. A killed process (kill -9) loses nothing that was
committed; a power cut may lose the last few transactions. Set CHAT_SQLITE_SYNCHRONOUS=FULL where that
matters more than throughput.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import queue
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, TypeVar

import sqlite_utils

from ..errors import ChatError, StorageError
from ..security.private_files import prepare_database_file
from .schema import migrations

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_BATCH = 512
CHECKPOINT_SECONDS = 0.5
_STOP = object()


def _connect(path: Path, read_only: bool = False, synchronous: str = "NORMAL") -> sqlite_utils.Database:
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=5.0)
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA synchronous = {'FULL' if synchronous == 'FULL' else 'NORMAL'}")
    if read_only:
        conn.execute("PRAGMA query_only = ON")
    conn.row_factory = sqlite3.Row
    return sqlite_utils.Database(conn)


def create_store(config):
    """The store the config asks for: PostgreSQL when CHAT_DATABASE_URL is set, else the SQLite file in the data dir.
    Both have the same facade (`start`, `close`, `write`, `read`) and run the same query functions."""
    if config.database_url:
        from .postgres import PostgresStore     # psycopg is imported only by servers that use it

        return PostgresStore(config.database_url, pool_size=config.database_pool_size, secret_key=config.secret_key)
    return Store(config.db_path, synchronous=config.sqlite_synchronous)


class Store:
    def __init__(self, path: Path | str, readers: int = 2, synchronous: str = "NORMAL"):
        self.path = Path(path)
        self.synchronous = synchronous
        self._readers = readers
        self._writes: queue.SimpleQueue = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
        self._checkpointer: threading.Thread | None = None
        self._stop_checkpoints = threading.Event()
        self._read_pool: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.batches = 0  # how many transactions the writer committed (for benchmarks)
        self.writes = 0

    async def start(self) -> None:
        """Open the database, apply migrations, start the writer thread and the reader pool."""
        prepare_database_file(self.path)    # 0600 before SQLite opens it: the WAL and SHM files copy its mode
        self._loop = asyncio.get_running_loop()
        ready: asyncio.Future = self._loop.create_future()
        self._writer = threading.Thread(target=self._write_loop, args=(ready,), name="sqlite-writer", daemon=True)
        self._writer.start()
        await ready
        self._read_pool = ThreadPoolExecutor(max_workers=self._readers, thread_name_prefix="sqlite-reader")
        self._stop_checkpoints.clear()
        self._checkpointer = threading.Thread(target=self._checkpoint_loop, name="sqlite-checkpoint", daemon=True)
        self._checkpointer.start()

    async def close(self) -> None:
        if self._checkpointer is not None:
            self._stop_checkpoints.set()
            await asyncio.get_running_loop().run_in_executor(None, self._checkpointer.join)
            self._checkpointer = None
        if self._writer is not None:
            self._writes.put(_STOP)
            await asyncio.get_running_loop().run_in_executor(None, self._writer.join)
            self._writer = None
        if self._read_pool is not None:
            self._read_pool.shutdown(wait=True)
            self._read_pool = None

    # -- the facade ---------------------------------------------------------------------------

    def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> "asyncio.Future[T]":
        """Queue fn(db, *args, **kwargs) for the writer thread; the future resolves after its transaction commits."""
        if self._writer is None:
            raise StorageError("the database is not open")
        if kwargs:
            fn = functools.partial(fn, **kwargs)
        fut = self._loop.create_future()
        self._writes.put((fn, args, fut))
        return fut

    async def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run fn(db, *args, **kwargs) on a read-only connection in the reader pool."""
        if self._read_pool is None:
            raise StorageError("the database is not open")
        if kwargs:
            fn = functools.partial(fn, **kwargs)
        return await self._loop.run_in_executor(self._read_pool, self._run_read, fn, args)

    async def truncate_wal(self) -> None:
        """Copy the WAL into the database file and empty it (after an erasure: the WAL must not keep old pages with
        erased content). Waits for readers that still need the old pages (busy_timeout)."""
        def checkpoint():
            db = _connect(self.path)
            try:
                db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                db.conn.close()
        await asyncio.get_running_loop().run_in_executor(None, checkpoint)

    # -- threads ------------------------------------------------------------------------------

    def _run_read(self, fn, args):
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = _connect(self.path, read_only=True, synchronous=self.synchronous)
        return fn(db, *args)

    def _write_loop(self, ready: asyncio.Future) -> None:
        loop = self._loop
        try:
            db = _connect(self.path, synchronous=self.synchronous)
            db.conn.execute("PRAGMA journal_mode = WAL")
            # Checkpoints (and their fsync) run in _checkpoint_loop, never inside a group commit: an automatic
            # checkpoint on the writer stalled every waiting ack for tens of ms (the p99 spikes under load).
            db.conn.execute("PRAGMA wal_autocheckpoint = 0")
            migrations.apply(db)
        except BaseException as exc:  # report start-up failure to start()
            loop.call_soon_threadsafe(_settle, [(ready, None, exc)])
            return
        loop.call_soon_threadsafe(_settle, [(ready, None, None)])
        conn = db.conn
        stopping = False
        while not stopping:
            item = self._writes.get()
            if item is _STOP:
                break
            batch = [item]
            while len(batch) < MAX_BATCH:
                try:
                    more = self._writes.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stopping = True
                    break
                batch.append(more)
            outcomes = self._run_batch(db, conn, batch)
            loop.call_soon_threadsafe(_settle, outcomes)
        db.conn.close()

    def _checkpoint_loop(self) -> None:
        """PASSIVE checkpoints from their own connection: they copy WAL pages back while the writer goes on."""
        db = _connect(self.path)
        try:
            while not self._stop_checkpoints.wait(CHECKPOINT_SECONDS):
                try:
                    db.conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error as exc:
                    log.warning("WAL checkpoint failed: %s", exc)
        finally:
            db.conn.close()

    def _run_batch(self, db, conn, batch):
        """One transaction for the whole batch, committed before any future is settled. Optimistically without a
        savepoint per write (two statements each, a sizeable part of a message's cost); if any write fails, the
        transaction is rolled back and the batch runs again with each write isolated in a savepoint, so one failure
        never takes the others down. Writes are functions of (db, args) only, so running one twice is safe."""
        if len(batch) > 1:
            outcomes = self._run_writes(db, conn, batch, isolate=False)
            if outcomes is not None:
                return outcomes
        return self._run_writes(db, conn, batch, isolate=len(batch) > 1)

    def _run_writes(self, db, conn, batch, isolate: bool):
        """Outcomes [(future, result, exception)], or None when a write failed in an optimistic (not isolated)
        batch of several: then nothing was committed and the caller runs the batch again, isolated."""
        optimistic = not isolate and len(batch) > 1
        outcomes = []
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            log.error("could not begin a write transaction: %s", exc)
            return [(fut, None, StorageError()) for _, _, fut in batch]
        for fn, args, fut in batch:
            try:
                if isolate:
                    conn.execute("SAVEPOINT write")
                result = fn(db, *args)
                if isolate:
                    conn.execute("RELEASE write")
                outcomes.append((fut, result, None))
            except BaseException as exc:
                try:
                    if isolate:
                        conn.execute("ROLLBACK TO write")
                        conn.execute("RELEASE write")
                    else:
                        conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                if optimistic:
                    return None
                if isinstance(exc, sqlite3.Error):
                    log.error("write %s failed: %s", getattr(fn, "__name__", fn), exc)
                    exc = StorageError()
                elif not isinstance(exc, ChatError):
                    log.exception("write %s failed", getattr(fn, "__name__", fn), exc_info=exc)
                outcomes.append((fut, None, exc))
                if not isolate:  # rolled back above; nothing to commit
                    return outcomes
            if not conn.in_transaction:  # a statement error can abort the whole transaction
                return [(f, None, StorageError()) for _, _, f in batch]
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            log.error("commit failed, %d writes refused: %s", len(batch), exc)
            try:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            return [(fut, None, StorageError()) for _, _, fut in batch]
        self.batches += 1
        self.writes += len(batch)
        return outcomes


def _settle(outcomes) -> None:
    for fut, result, exc in outcomes:
        if fut.done():
            continue
        if exc is not None:
            fut.set_exception(exc)
        else:
            fut.set_result(result)
