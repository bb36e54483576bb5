"""`python run.py --copy-to postgresql://...`: move a help desk that outgrew SQLite to PostgreSQL, history included.

The SQLite database of the data dir is brought up to the latest migration (as a start of the server would), the
PostgreSQL one is migrated to the same history, must hold no rows yet, and receives every table's rows with their
ids (COPY, in foreign-key order), its identity sequences moved past them, and the data dir's `secret.key` (so
visitors' tokens and agents' cookies stay valid). Before COMMIT the copy is checked: the same number of rows in
every table and the same SHA-256 of every conversation's messages on both sides; any difference rolls it all back.
The copy runs under the bootstrap advisory lock, so a node started meanwhile waits for it.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import sqlite_utils

from . import locks, pg_schema
from .portable import CONNECTION_KWARGS, Dialect, PostgresDatabase
from .postgres import describe
from .schema import migrations as sqlite_migrations

# Every table of the schema, parents before the tables that reference them.
TABLES = ["visitors", "agents", "agent_sessions", "conversations", "messages", "conversation_events",
          "article_events", "unanswered_questions", "settings", "canned_replies", "surveys", "presence_log",
          "article_versions", "example_proposals", "example_proposal_sources", "email_outbox", "email_inbound",
          "conversation_states", "labels", "conversation_labels", "attachments", "message_receipts", "quality_records",
          "api_tokens", "audit_log", "webhook_endpoints", "webhook_deliveries", "webhook_attempts",
          "visitor_identities", "visitor_erasures", "retention_runs", "password_resets", "password_change_required",
          "agent_ticket_notices", "conversation_tickets"]
# SQLite-only tables derived from the others (the FTS5 index of messages and its shadow tables): never copied;
# PostgreSQL keeps its own index (pg_schema.m16b_message_search).
DERIVED_TABLE_PREFIXES = ("messages_fts",)
# One-row tables each engine's migration seeds itself (the audit log's pruning cutoff): never copied.
SEEDED_TABLES = ("audit_prune",)
MESSAGE_COLUMNS = "conversation_id, seq, author, agent_id, private, kind, client_id, text, payload, created_at"


class CopyRefused(Exception):
    """The copy did not happen (the message says why); nothing was written to the target."""


@dataclass
class CopyReport:
    rows: dict[str, int] = field(default_factory=dict)
    conversations_checked: int = 0
    secret_copied: bool = False
    seconds: float = 0.0

    def lines(self) -> list[str]:
        tables = ", ".join(f"{table} {count}" for table, count in self.rows.items())
        return [f"Copied {sum(self.rows.values())} rows: {tables}.",
                f"Verified: row counts of {len(self.rows)} tables, messages of {self.conversations_checked} "
                f"conversations (SHA-256 each).",
                "The server secret (secret.key) was copied: visitors' tokens stay valid." if self.secret_copied else
                "No secret.key in the data dir: the database made its own key (unless every node sets CHAT_SECRET_KEY).",
                f"Done in {self.seconds:.1f} s."]


def message_digests(rows) -> dict[int, str]:
    """SHA-256 of each conversation's messages, from rows of MESSAGE_COLUMNS in (conversation_id, seq) order."""
    digests: dict[int, hashlib._Hash] = {}
    for row in rows:
        values = list(row)
        digest = digests.get(values[0])
        if digest is None:
            digest = digests[values[0]] = hashlib.sha256()
        digest.update(json.dumps(values[1:], ensure_ascii=False).encode() + b"\n")
    return {conversation_id: digest.hexdigest() for conversation_id, digest in digests.items()}


def _source(path: Path) -> sqlite3.Connection:
    if not path.exists():
        raise CopyRefused(f"there is no SQLite database at {path} (use --data-dir)")
    db = sqlite_utils.Database(path)
    try:
        sqlite_migrations.apply(db)
    finally:
        db.close()
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                            "AND name NOT LIKE 'sqlite_%' AND name != '_sqlite_migrations'")}
    unknown = sorted(name for name in names - set(TABLES) - set(SEEDED_TABLES)
                     if not name.startswith(DERIVED_TABLE_PREFIXES))
    if unknown:
        conn.close()
        raise CopyRefused(f"the copy does not know the tables {unknown}: add them to chatserver/store/copy.py")
    return conn


def _columns(source: sqlite3.Connection, target: psycopg.Connection, table: str) -> list[str]:
    columns = [row[1] for row in source.execute(f"PRAGMA table_info({table})")]
    in_target = {row[0] for row in target.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name = %s", [table])}
    if set(columns) != in_target:
        raise CopyRefused(f"table {table} differs: SQLite has {sorted(columns)}, PostgreSQL {sorted(in_target)}")
    return columns


def copy_to_postgres(db_path: Path, url: str, secret_file: Path | None = None) -> CopyReport:
    """Copy the SQLite database at `db_path` into the empty PostgreSQL database at `url` (see the module doc)."""
    started = time.monotonic()
    source = _source(Path(db_path))
    report = CopyReport()
    try:
        try:
            target = psycopg.connect(url, autocommit=True, **CONNECTION_KWARGS)
        except psycopg.Error as exc:
            raise CopyRefused(f"could not connect to {describe(url)}: {exc}") from exc
        with target:
            target.execute("SELECT pg_advisory_lock(%s)", [locks.BOOTSTRAP])
            dialect = Dialect(pg_schema.identity_tables(target))
            pg_schema.migrations.apply(target, lambda c: PostgresDatabase(c, dialect, locks_rows=False))
            source_history = [row[0] for row in source.execute(
                "SELECT name FROM _sqlite_migrations WHERE migration_set = 'chatserver' ORDER BY id")]
            target_history = pg_schema.migrations.applied(target)
            if source_history != target_history:
                raise CopyRefused(f"the schema histories differ: SQLite {source_history}, "
                                  f"PostgreSQL {target_history}")
            try:
                with target.transaction():
                    _copy(source, target, report)
                    report.secret_copied = _copy_secret(target, secret_file)
                    _verify(source, target, report)
            except psycopg.Error as exc:
                raise CopyRefused(f"the copy failed, nothing was copied: {exc}") from exc
            target.execute("SELECT pg_advisory_unlock(%s)", [locks.BOOTSTRAP])
    finally:
        source.close()
    report.seconds = time.monotonic() - started
    return report


def _copy(source: sqlite3.Connection, target: psycopg.Connection, report: CopyReport) -> None:
    for table in TABLES:
        if target.execute(f"SELECT EXISTS (SELECT 1 FROM {table})").fetchone()[0]:
            raise CopyRefused(f"the PostgreSQL database is not empty ({table} has rows): copy into a new one")
    identity = pg_schema.identity_tables(target)
    for table in TABLES:
        columns = _columns(source, target, table)
        listed = ", ".join(columns)
        count = 0
        with target.cursor().copy(f"COPY {table} ({listed}) FROM STDIN") as copy:
            for row in source.execute(f"SELECT {listed} FROM {table} ORDER BY rowid"):
                copy.write_row(row)
                count += 1
        report.rows[table] = count
        if table in identity and count:
            target.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")


def _copy_secret(target: psycopg.Connection, secret_file: Path | None) -> bool:
    if secret_file is None or not Path(secret_file).exists():
        return False
    key = Path(secret_file).read_text().strip()
    bytes.fromhex(key)  # a damaged file fails here, before anything is committed
    pg_schema.ensure_server_secret(target, lambda: key, time.time())
    target.execute("UPDATE server_secret SET value = %s WHERE name = 'hmac'", [key])
    return True


def _verify(source: sqlite3.Connection, target: psycopg.Connection, report: CopyReport) -> None:
    for table, copied in report.rows.items():
        counts = (source.execute(f"SELECT count(*) FROM {table}").fetchone()[0],
                  target.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
        if counts[0] != counts[1] or counts[0] != copied:
            raise CopyRefused(f"{table}: {counts[0]} rows in SQLite, {counts[1]} in PostgreSQL; nothing was copied")
    query = f"SELECT {MESSAGE_COLUMNS} FROM messages ORDER BY conversation_id, seq"
    expected = message_digests(source.execute(query))
    with target.cursor(name="verify_messages") as rows:
        rows.execute(query)
        found = message_digests(rows)
    differing = sorted(cid for cid in expected.keys() | found.keys() if expected.get(cid) != found.get(cid))
    if differing:
        raise CopyRefused(f"the messages of conversations {differing[:10]} differ after the copy; nothing was copied")
    report.conversations_checked = len(expected)
