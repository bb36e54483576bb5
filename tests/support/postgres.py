"""PostgreSQL for the tests: a fresh database per data dir, dropped when the test ends.

`CHAT_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres` runs the suite on PostgreSQL: every server a
test starts (start_server, ServerProcess) and every store it opens (`store_for`) uses the database of its data
dir, created on first use (a restart on the same data dir finds its data again) and dropped at the end of the test
(tests/conftest.py). Unset, everything runs on SQLite as before.

Tests of PostgreSQL itself (tests/test_store_postgres.py, tests/test_copy_to_postgres.py) take the server from the
same variable, or from 127.0.0.1:5432 when it answers; without one they skip with a reason, and under CI=true they
fail (.ci/run must run them).
"""
from __future__ import annotations

import os
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from .services import unavailable

TEST_URL = os.environ.get("CHAT_TEST_DATABASE_URL", "")
LOCAL_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
_databases: dict[str, str] = {}        # data dir -> URL of its database, for the running test
_created: list[tuple[str, str]] = []   # (server URL, database name) created during the running test


def on_postgres() -> bool:
    """Whether this run of the suite puts the servers' data in PostgreSQL."""
    return bool(TEST_URL)


def server_url() -> str | None:
    """A PostgreSQL server to create test databases on: CHAT_TEST_DATABASE_URL's, else the local one if it answers."""
    import psycopg

    for url in ([TEST_URL] if TEST_URL else [LOCAL_URL]):
        try:
            psycopg.connect(url, connect_timeout=3).close()
            return url
        except psycopg.Error:
            continue
    return None


def require_server() -> str:
    """The server URL, or a skip (a failure under CI=true) that says how to get one."""
    url = server_url()
    if url is None:
        reason = ("no PostgreSQL at 127.0.0.1:5432 (or CHAT_TEST_DATABASE_URL): install and start it "
                  "(apt-get install postgresql, trust auth for postgres on 127.0.0.1) to run this test")
        unavailable(reason)
    return url


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def create_database(server: str | None = None) -> str:
    """A new empty database on the server; dropped by drop_created() at the end of the test."""
    import psycopg

    server = server or TEST_URL or require_server()
    name = f"chat_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    _created.append((server, name))
    return with_database(server, name)


def database_for(data_dir: Path | str) -> str:
    """The database of this data dir in the PostgreSQL run (made on first use, the same on a restart)."""
    key = str(Path(data_dir).resolve())
    if key not in _databases:
        _databases[key] = create_database()
    return _databases[key]


def drop_created() -> None:
    """Drop every database made during this test (connections still open are ended: WITH (FORCE))."""
    import psycopg

    created, _created[:] = list(_created), []
    _databases.clear()
    for server, name in created:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def only_on_sqlite(reason: str):
    """Mark a test that is about SQLite itself: skipped, with this reason, in the PostgreSQL run."""
    return pytest.mark.skipif(on_postgres(), reason=f"SQLite only: {reason}")


skip_on_postgres = only_on_sqlite("inspects the SQLite files of the data dir itself")
