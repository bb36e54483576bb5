"""The store on PostgreSQL (`CHAT_DATABASE_URL=postgresql://...`): the same facade as the SQLite store.

`await store.write(fn, *args)` runs `fn(db, *args)` in ONE transaction and resolves only after its COMMIT;
`await store.read(fn, *args)` runs on a read-only connection. `fn` is the same plain function the SQLite store
runs (the query modules are shared): `db` is a `portable.PostgresDatabase`.

Why psycopg 3's synchronous driver in worker threads, not its asyncio API: the query functions are plain
synchronous code shared with SQLite (which has no asyncio driver worth the name), and one operation is several
statements whose results decide the next; running them in a thread keeps that code one code. libpq waits on the
socket with the GIL released, so the threads cost the event loop nothing: it only ever awaits a future.

Concurrency: writes run side by side, in `pool_size` lanes per node (a thread each, on pooled connections) and
on every node at once. A write's lane is chosen by its subject, the first argument after `db` (a visitor's id,
a conversation's id, an agent): writes about the same subject run one after the other in the order they were
made, as every write does on SQLite, so one client's messages sent without waiting for acks are stored in the
order sent. A write that reads a row and then changes it on the strength of what it read locks that row first
(`locks.row_lock`, `FOR NO KEY UPDATE`): the next `seq` of a conversation, the dedupe of a `client_id`, the
status an assignment expects are all decided under the conversation's lock, whichever node or lane the writers
are on. Writes of different subjects, or on different nodes, have no order between them; each ack carries its
`seq`. A deadlock or
serialization failure (which the lock order in locks.py avoids) is retried: a write is a function of its
arguments only, so running it again is safe. A connection lost before COMMIT is retried once on a fresh one;
lost during COMMIT, the caller gets storage_error (and a resend of the same client_id is deduplicated).
When the server is unreachable, a write or read waits up to POOL_WAIT (10 s) for the pool to reconnect, so a
short outage (a restart) is held and then acked; once a wait has run out, the next ones wait only UNREACHABLE_WAIT,
so the writes queued behind it in its lane get storage_error at once instead of 10 s later each.

Start-up (`start`), under the advisory lock `locks.BOOTSTRAP`: pending migrations (pg_schema.py) and the server
secret; the first admin is created under the same lock (agents.create_first_admin). So nodes that start together
on an empty database migrate, make the secret and the first admin exactly once.
"""
from __future__ import annotations

import asyncio
import functools
import logging
import secrets
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, TypeVar
from urllib.parse import urlsplit

import psycopg
from psycopg import errors as pg_errors
from psycopg_pool import ConnectionPool, PoolTimeout

from ..errors import ChatError, StorageError
from . import locks, pg_schema
from .portable import CONNECTION_KWARGS, Dialect, PostgresDatabase

log = logging.getLogger(__name__)
T = TypeVar("T")
ATTEMPTS = 3                # a write that lost a deadlock runs at most this often
LOCK_TIMEOUT = "10s"        # a write waiting longer than this for a row lock fails with storage_error
POOL_WAIT = 10              # seconds a write or read waits for a pooled connection (an outage shorter is held)
UNREACHABLE_WAIT = 0.5      # the wait once one ran out: writes queued behind it are refused, not held 10 s each
_RETRIED = (pg_errors.DeadlockDetected, pg_errors.SerializationFailure)


def describe(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    return f"{parts.username + '@' if parts.username else ''}{host}{':' + str(parts.port) if parts.port else ''}" \
           f"{parts.path}"


class PostgresStore:
    def __init__(self, url: str, pool_size: int = 4, secret_key: str = ""):
        self.url = url
        self.pool_size = max(1, pool_size)
        self.secret_key = secret_key
        self._write_pool: ConnectionPool | None = None
        self._read_pool: ConnectionPool | None = None
        self._lanes: list[ThreadPoolExecutor] | None = None
        self._readers: ThreadPoolExecutor | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._dialect: Dialect | None = None
        self._counting = threading.Lock()
        self._unreachable = False  # a wait for a connection ran out; cleared by the next one that gets one
        self.batches = 0  # transactions committed (as the SQLite store counts them)
        self.writes = 0
        self.migrated: list[str] = []  # the migrations this node applied at start (none when another node did)

    # -- lifetime -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Migrate (once across the cluster), then open the pools."""
        self._loop = asyncio.get_running_loop()
        try:
            await self._loop.run_in_executor(None, self._bootstrap)
            self._write_pool = await self._loop.run_in_executor(None, self._open_pool, "writes", False)
            self._read_pool = await self._loop.run_in_executor(None, self._open_pool, "reads", True)
        except (psycopg.Error, PoolTimeout) as exc:
            await self.close()
            raise StorageError(f"could not open the PostgreSQL database {describe(self.url)}: {exc}") from exc
        self._lanes = [ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"pg-writer-{n}")
                       for n in range(self.pool_size)]
        self._readers = ThreadPoolExecutor(max_workers=self.pool_size, thread_name_prefix="pg-reader")

    async def truncate_wal(self) -> None:
        """SQLite's WAL has no PostgreSQL counterpart a server may empty: dead rows go at the next VACUUM."""

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        for executor in [*(self._lanes or []), self._readers]:
            if executor is not None:
                await loop.run_in_executor(None, functools.partial(executor.shutdown, wait=True))
        self._lanes = self._readers = None
        for pool in (self._write_pool, self._read_pool):
            if pool is not None:
                await loop.run_in_executor(None, pool.close)
        self._write_pool = self._read_pool = None

    def _bootstrap(self) -> None:
        with psycopg.connect(self.url, autocommit=True, **CONNECTION_KWARGS) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", [locks.BOOTSTRAP])
            try:
                dialect = Dialect(pg_schema.identity_tables(conn))
                self.migrated = pg_schema.migrations.apply(
                    conn, lambda c: PostgresDatabase(c, dialect, locks_rows=False))
                if self.migrated:
                    log.info("applied migrations %s to %s", ", ".join(self.migrated), describe(self.url))
                with conn.transaction():
                    pg_schema.ensure_server_secret(conn, lambda: self.secret_key or secrets.token_hex(32), time.time())
                self._dialect = Dialect(pg_schema.identity_tables(conn))
            finally:
                if not conn.broken:  # (a closed session releases its advisory locks anyway)
                    conn.execute("SELECT pg_advisory_unlock(%s)", [locks.BOOTSTRAP])

    def _open_pool(self, name: str, read_only: bool) -> ConnectionPool:
        def configure(conn: psycopg.Connection) -> None:
            conn.execute("SET default_transaction_read_only = on" if read_only else
                         f"SET lock_timeout = '{LOCK_TIMEOUT}'")
            if not read_only:
                conn.commit()

        pool = ConnectionPool(self.url, min_size=self.pool_size, max_size=self.pool_size, open=False,
                              name=f"chat-{name}", timeout=POOL_WAIT,
                              kwargs={**CONNECTION_KWARGS, "autocommit": read_only}, configure=configure)
        pool.open(wait=True, timeout=10)
        return pool

    # -- the facade ---------------------------------------------------------------------------

    def write(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> "asyncio.Future[T]":
        """Run fn(db, *args, **kwargs) in one transaction on a pooled connection; the future resolves after COMMIT."""
        lanes = self._lanes
        if lanes is None:
            raise StorageError("the database is not open")
        if kwargs:
            fn = functools.partial(fn, **kwargs)
        lane = lanes[hash(_subject(args)) % len(lanes)]
        return self._loop.run_in_executor(lane, self._run_write, fn, args)

    async def read(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run fn(db, *args, **kwargs) on a read-only connection (each statement sees what was committed)."""
        if self._readers is None:
            raise StorageError("the database is not open")
        if kwargs:
            fn = functools.partial(fn, **kwargs)
        return await self._loop.run_in_executor(self._readers, self._run_read, fn, args)

    # -- threads ------------------------------------------------------------------------------

    def _connection_wait(self) -> float:
        return UNREACHABLE_WAIT if self._unreachable else POOL_WAIT

    def _run_read(self, fn, args):
        for attempt in (1, 2):
            conn = None
            try:
                with self._read_pool.connection(timeout=self._connection_wait()) as conn:
                    self._unreachable = False
                    return fn(PostgresDatabase(conn, self._dialect, locks_rows=False), *args)
            except ChatError:
                raise
            except psycopg.OperationalError as exc:
                self._unreachable |= isinstance(exc, PoolTimeout)   # (a PoolTimeout is an OperationalError)
                if attempt == 1 and conn is not None and conn.broken:
                    self._read_pool.check()  # the server went away meanwhile: drop the dead connections, once more
                    continue
                log.error("read %s failed: %s", _name(fn), exc)
                raise StorageError() from exc
            except (psycopg.Error, PoolTimeout) as exc:
                log.error("read %s failed: %s", _name(fn), exc)
                raise StorageError() from exc

    def _run_write(self, fn, args):
        attempt = 0
        while True:
            attempt += 1
            conn = None
            committing = False
            try:
                with self._write_pool.connection(timeout=self._connection_wait()) as conn:
                    self._unreachable = False
                    try:
                        result = fn(PostgresDatabase(conn, self._dialect, locks_rows=True), *args)
                    except BaseException:
                        if not conn.broken:
                            conn.rollback()
                        raise
                    committing = True
                    conn.commit()
                with self._counting:
                    self.batches += 1
                    self.writes += 1
                return result
            except ChatError:
                raise                       # a domain refusal: rolled back, the caller's own error
            except _RETRIED as exc:
                if attempt < ATTEMPTS:
                    log.info("write %s lost a lock conflict (%s); running it again", _name(fn), exc.sqlstate)
                    continue
                log.error("write %s failed %d times: %s", _name(fn), attempt, exc)
                raise StorageError() from exc
            except psycopg.OperationalError as exc:
                self._unreachable |= isinstance(exc, PoolTimeout)   # (a PoolTimeout is an OperationalError)
                if not committing and attempt == 1 and conn is not None and conn.broken:
                    self._write_pool.check()  # drop the dead connections; nothing was committed: run it again
                    continue
                log.error("write %s failed%s: %s", _name(fn), " at commit" if committing else "", exc)
                raise StorageError() from exc
            except (psycopg.Error, PoolTimeout) as exc:
                log.error("write %s failed: %s", _name(fn), exc)
                raise StorageError() from exc
            except Exception:
                log.exception("write %s failed", _name(fn))
                raise


def _subject(args: tuple):
    """What a write is about, for its lane: its first argument (an agent or other record: its id)."""
    if not args:
        return None
    first = args[0]
    if isinstance(first, dict):
        first = first.get("id")
    return first if isinstance(first, (str, int)) else None


def _name(fn) -> str:
    return getattr(fn, "__name__", None) or getattr(getattr(fn, "func", None), "__name__", repr(fn))
