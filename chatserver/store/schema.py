"""Versioned schema. Never edit an applied migration: add a new decorated function at the end."""
from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from . import migration_steps

migrations = Migrations("chatserver")


@migrations()
def m001_core(db: Database) -> None:
    db.execute("""
    CREATE TABLE visitors (
        id TEXT PRIMARY KEY,
        created_at REAL NOT NULL,
        last_seen_at REAL NOT NULL,
        name TEXT,
        email TEXT,
        page_url TEXT,
        user_agent TEXT,
        ip TEXT
    )""")
    db.execute("""
    CREATE TABLE agents (
        id INTEGER PRIMARY KEY,
        email TEXT NOT NULL UNIQUE COLLATE NOCASE,
        name TEXT NOT NULL,
        password_hash TEXT NOT NULL,
        role TEXT NOT NULL DEFAULT 'agent' CHECK (role IN ('agent', 'admin')),
        max_chats INTEGER NOT NULL DEFAULT 3,
        departments TEXT NOT NULL DEFAULT '[]',
        disabled INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL
    )""")
    db.execute("""
    CREATE TABLE agent_sessions (
        token TEXT PRIMARY KEY,
        agent_id INTEGER NOT NULL REFERENCES agents(id),
        created_at REAL NOT NULL,
        expires_at REAL NOT NULL
    )""")
    db.execute("""
    CREATE TABLE conversations (
        id INTEGER PRIMARY KEY,
        visitor_id TEXT NOT NULL REFERENCES visitors(id),
        status TEXT NOT NULL CHECK (status IN ('bot', 'queued', 'assigned', 'closed')),
        department TEXT,
        agent_id INTEGER REFERENCES agents(id),
        last_seq INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        first_visitor_message_at REAL,
        queued_at REAL,
        assigned_at REAL,
        first_assigned_at REAL,
        first_agent_response_at REAL,
        closed_at REAL,
        closed_by TEXT,
        resolution TEXT,
        handoff_reason TEXT,
        page_url TEXT
    )""")
    db.execute("CREATE INDEX conversations_visitor ON conversations(visitor_id, id)")
    db.execute("CREATE INDEX conversations_status ON conversations(status)")
    db.execute("CREATE INDEX conversations_created ON conversations(created_at)")
    db.execute("""
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id),
        seq INTEGER NOT NULL,
        author TEXT NOT NULL CHECK (author IN ('visitor', 'agent', 'bot', 'system')),
        agent_id INTEGER,
        private INTEGER NOT NULL DEFAULT 0,
        kind TEXT NOT NULL DEFAULT 'text',
        client_id TEXT,
        text TEXT NOT NULL,
        payload TEXT,
        created_at REAL NOT NULL,
        UNIQUE (conversation_id, seq),
        UNIQUE (conversation_id, client_id)
    )""")
    db.execute("CREATE INDEX messages_client ON messages(client_id) WHERE client_id IS NOT NULL")
    db.execute("""
    CREATE TABLE conversation_events (
        id INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id),
        type TEXT NOT NULL,
        actor_type TEXT NOT NULL,
        actor_id TEXT,
        reason TEXT,
        details TEXT,
        created_at REAL NOT NULL
    )""")
    db.execute("CREATE INDEX conversation_events_conversation ON conversation_events(conversation_id, id)")
    db.execute("CREATE INDEX conversation_events_type ON conversation_events(type, created_at)")
    # The bot's per-article funnel: suggested -> opened -> helpful / not_helpful (-> escalated).
    db.execute("""
    CREATE TABLE article_events (
        id INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id),
        slug TEXT NOT NULL,
        type TEXT NOT NULL CHECK (type IN ('suggested', 'opened', 'helpful', 'not_helpful', 'sent_by_agent')),
        rank INTEGER,
        score REAL,
        reason TEXT,
        created_at REAL NOT NULL
    )""")
    db.execute("CREATE INDEX article_events_slug ON article_events(slug, type)")
    db.execute("CREATE INDEX article_events_conversation ON article_events(conversation_id)")
    # Visitor questions the bot had no confident answer for: the gap list.
    db.execute("""
    CREATE TABLE unanswered_questions (
        id INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id),
        text TEXT NOT NULL,
        best_slug TEXT,
        best_score REAL,
        created_at REAL NOT NULL
    )""")
    db.execute("""
    CREATE TABLE settings (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )""")
    db.execute("""
    CREATE TABLE canned_replies (
        id INTEGER PRIMARY KEY,
        shortcut TEXT NOT NULL UNIQUE,
        text TEXT NOT NULL,
        created_at REAL NOT NULL
    )""")
    db.execute("""
    CREATE TABLE surveys (
        conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id),
        visitor_id TEXT NOT NULL REFERENCES visitors(id),
        csat INTEGER CHECK (csat BETWEEN 1 AND 5),
        ces INTEGER CHECK (ces BETWEEN 1 AND 7),
        nps INTEGER CHECK (nps BETWEEN 0 AND 10),
        comment TEXT,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    )""")
    db.execute("""
    CREATE TABLE presence_log (
        id INTEGER PRIMARY KEY,
        agent_id INTEGER NOT NULL REFERENCES agents(id),
        status TEXT NOT NULL,
        created_at REAL NOT NULL
    )""")


@migrations()
def m002_article_versions(db: Database) -> None:
    # Every article text saved or deleted through the admin pages (and the on-disk text it replaced), so an admin
    # can see who changed what and bring back an earlier or deleted version. The .md files stay the source of truth.
    db.execute("""
    CREATE TABLE article_versions (
        id INTEGER PRIMARY KEY,
        slug TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('found', 'created', 'saved', 'renamed', 'deleted')),
        renamed_from TEXT,
        author_email TEXT,
        text TEXT NOT NULL,
        created_at REAL NOT NULL
    )""")
    db.execute("CREATE INDEX article_versions_by_slug ON article_versions (slug, id)")


@migrations()
def m003_session_token_hashes(db: Database) -> None:
    # Only a SHA-256 of each session token is kept, so a copy of chat.db (a backup, a stolen disk) opens no
    # sessions. Existing sessions are hashed in place and stay valid. (Self-contained on purpose: an applied
    # migration must never change, whatever store/agents.py does later.)
    secure_delete = db.execute("PRAGMA secure_delete").fetchone()[0]
    db.execute("PRAGMA secure_delete = ON")     # the raw tokens' bytes are zeroed, not left in freed space
    migration_steps.hash_session_tokens(db)
    db.execute(f"PRAGMA secure_delete = {int(secure_delete)}")


@migrations()
def m004_visitor_ip_networks(db: Database) -> None:
    # A visitor's address is no longer kept: only the network around it (/24 for IPv4, /48 for IPv6), enough to
    # see where a flood comes from, not which household. Existing addresses are cut down the same way.
    secure_delete = db.execute("PRAGMA secure_delete").fetchone()[0]
    db.execute("PRAGMA secure_delete = ON")     # the raw addresses' bytes are zeroed, not left in freed space
    migration_steps.cut_addresses_to_networks(db)
    db.execute(f"PRAGMA secure_delete = {int(secure_delete)}")


@migrations()
def m14a_email_outbox(db: Database) -> None:
    # Every email the help desk sends, written in the transaction of what causes it and sent by the outbox worker
    # (chatserver/desk/outbox.py). `message_id` (the RFC 5322 Message-ID) is the idempotency key: a cause that is
    # replayed finds its row. `raw` is the composed message, frozen at the first attempt so retries send the same
    # bytes. A row in 'sending' whose lease ran out (its sender died) is taken again.
    db.execute("""
    CREATE TABLE email_outbox (
        id INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        conversation_id INTEGER REFERENCES conversations(id),
        recipient TEXT NOT NULL,
        subject TEXT,
        raw TEXT,
        details TEXT,
        status TEXT NOT NULL CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'cancelled')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        lease_until REAL,
        last_error TEXT,
        created_by INTEGER,
        created_at REAL NOT NULL,
        sent_at REAL
    )""")
    db.execute("CREATE INDEX email_outbox_due ON email_outbox(status, next_attempt_at)")
    db.execute("CREATE INDEX email_outbox_conversation ON email_outbox(conversation_id, id)")


@migrations()
def m14b_email_replies(db: Database) -> None:
    # The visitor's widget language (their emails are written in it), and every email received into a
    # conversation by its Message-ID, so the same email delivered twice (a retrying relay, a replay) is posted once.
    db.execute("ALTER TABLE visitors ADD COLUMN language TEXT")
    db.execute("""
    CREATE TABLE email_inbound (
        id INTEGER PRIMARY KEY,
        message_id TEXT NOT NULL UNIQUE,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id),
        message_row_id INTEGER,
        created_at REAL NOT NULL
    )""")


@migrations()
def m14c_conversation_states(db: Database) -> None:
    # The lifecycle beside the routing status (chatserver/desk/lifecycle.py): a conversation that is not closed is
    # open unless it has a row here, `pending` (waiting on the visitor) or `snoozed` until a time. A visitor's
    # message or email deletes the row (reopened); so does the snooze's end. Closed is `resolved`.
    db.execute("""
    CREATE TABLE conversation_states (
        conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id),
        state TEXT NOT NULL CHECK (state IN ('pending', 'snoozed')),
        snoozed_until REAL,
        set_by INTEGER,
        set_at REAL NOT NULL
    )""")
    db.execute("CREATE INDEX conversation_states_snoozed ON conversation_states(snoozed_until) "
               "WHERE state = 'snoozed'")


@migrations()
def m14d_ticket_notices(db: Database) -> None:
    # Agents who asked for an email about each new ticket (a chat left waiting in the queue; desk/ticket_notices.py).
    db.execute("""
    CREATE TABLE agent_ticket_notices (
        agent_id INTEGER PRIMARY KEY REFERENCES agents(id),
        created_at REAL NOT NULL
    )""")
