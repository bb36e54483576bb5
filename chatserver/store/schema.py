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


@migrations()
def m15a_receipts(db: Database) -> None:
    # Delivered / seen receipts on `seq`, both ways: one row each time a reader's highest delivered or seen seq
    # moves forward (the latest is the current receipt; the rows are the conversation's timeline).
    db.execute("""
    CREATE TABLE message_receipts (
        id INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id),
        reader TEXT NOT NULL CHECK (reader IN ('visitor', 'agent')),
        agent_id INTEGER,
        kind TEXT NOT NULL CHECK (kind IN ('delivered', 'seen')),
        seq INTEGER NOT NULL,
        created_at REAL NOT NULL
    )""")
    db.execute("CREATE INDEX message_receipts_conversation ON message_receipts(conversation_id, reader, kind, seq)")


@migrations()
def m15b_quality_records(db: Database) -> None:
    # The visitor's experience of one conversation as the widget measured it (docs/quality.md), plus what the
    # server saw of their connection: one row per conversation, replaced by each `quality` report.
    db.execute("""
    CREATE TABLE quality_records (
        conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id),
        connect_ms REAL,
        reconnects INTEGER NOT NULL DEFAULT 0,
        offline_seconds REAL NOT NULL DEFAULT 0,
        ack_p50_ms REAL,
        ack_p95_ms REAL,
        ack_max_ms REAL,
        acks INTEGER NOT NULL DEFAULT 0,
        resends INTEGER NOT NULL DEFAULT 0,
        not_sent INTEGER NOT NULL DEFAULT 0,
        delivery_p50_ms REAL,
        delivery_p95_ms REAL,
        delivery_max_ms REAL,
        clock_offset_ms REAL,
        hidden_replies INTEGER NOT NULL DEFAULT 0,
        replies INTEGER NOT NULL DEFAULT 0,
        reports INTEGER NOT NULL DEFAULT 0,
        server_disconnects INTEGER NOT NULL DEFAULT 0,
        queue_estimate_seconds REAL,
        updated_at REAL NOT NULL
    )""")


@migrations(transactional=False)
def m15c_supervisor_role(db: Database) -> None:
    # A third role, `supervisor` (the live supervisor view and every conversation, without admin powers), widens
    # the CHECK constraint of the shared `agents` table. SQLite cannot alter a CHECK, so the table is rebuilt as
    # SQLite's documentation says (ALTER TABLE, "other kinds of table schema changes"): foreign keys off, one
    # transaction that creates the new table from the same CREATE text, copies, drops the old one and renames,
    # `foreign_key_check` before COMMIT, foreign keys on again. Not in sqlite-utils' transaction, because
    # `PRAGMA foreign_keys` is a no-op inside one. Self-contained on purpose; a second run finds it done.
    old, new = "CHECK (role IN ('agent', 'admin'))", "CHECK (role IN ('agent', 'supervisor', 'admin'))"
    create = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'agents'").fetchone()[0]
    if new in create:
        return
    if old not in create:
        raise RuntimeError("m15c_supervisor_role: the agents table's role CHECK is not the one this migration knows")
    columns = ", ".join(r[1] for r in db.execute("PRAGMA table_info(agents)").fetchall())
    db.execute("PRAGMA foreign_keys = OFF")
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(create.replace(old, new).replace("CREATE TABLE agents", "CREATE TABLE agents_rebuilt", 1))
            db.execute(f"INSERT INTO agents_rebuilt ({columns}) SELECT {columns} FROM agents")
            db.execute("DROP TABLE agents")
            db.execute("ALTER TABLE agents_rebuilt RENAME TO agents")
            problems = db.execute("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise RuntimeError(f"m15c_supervisor_role: foreign keys broken by the rebuild: {problems[:5]}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    finally:
        db.execute("PRAGMA foreign_keys = ON")


@migrations()
def m15d_quality_unsent(db: Database) -> None:
    # How many of the visitor's messages the widget still held unsent at its last report (the supervisor view).
    db.execute("ALTER TABLE quality_records ADD COLUMN unsent INTEGER NOT NULL DEFAULT 0")


@migrations()
def m16a_labels_priority(db: Database) -> None:
    # Labels an admin keeps (Admin → Settings) and agents put on conversations; a conversation's priority orders
    # the queue (chatserver/routing.py). A new column with a default: the conversations table is not rebuilt.
    db.execute("""
    CREATE TABLE labels (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        colour TEXT NOT NULL DEFAULT '#4856d6',
        created_at REAL NOT NULL
    )""")
    db.execute("""
    CREATE TABLE conversation_labels (
        conversation_id INTEGER NOT NULL REFERENCES conversations(id),
        label_id INTEGER NOT NULL REFERENCES labels(id),
        agent_id INTEGER,
        created_at REAL NOT NULL,
        PRIMARY KEY (conversation_id, label_id)
    )""")
    db.execute("CREATE INDEX conversation_labels_label ON conversation_labels(label_id)")
    db.execute("ALTER TABLE conversations ADD COLUMN priority TEXT NOT NULL DEFAULT 'normal' "
               "CHECK (priority IN ('low', 'normal', 'high', 'urgent'))")


@migrations()
def m16b_message_search(db: Database) -> None:
    # Full-text search over every message (store/search.py): an FTS5 index of messages.text kept by triggers, so no
    # write path has to remember it. External content: the text is not stored twice. Existing messages are indexed
    # once here ('rebuild').
    db.execute("CREATE VIRTUAL TABLE messages_fts USING fts5(text, content='messages', content_rowid='id', "
               "tokenize='unicode61 remove_diacritics 2')")
    db.execute("CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN "
               "INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text); END")
    db.execute("CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN "
               "INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text); END")
    db.execute("CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN "
               "INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.id, old.text); "
               "INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text); END")
    db.execute("INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')")


@migrations()
def m16c_attachments(db: Database) -> None:
    # Files sent in a conversation (chatserver/files/: the bytes live in the file storage under `storage_key`,
    # never in the database). One message of kind 'attachment' per file; `client_id` makes an upload idempotent,
    # as for messages: a retried upload finds its row and stores nothing twice.
    db.execute("""
    CREATE TABLE attachments (
        id INTEGER PRIMARY KEY,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id),
        message_id INTEGER REFERENCES messages(id),
        uploader TEXT NOT NULL CHECK (uploader IN ('visitor', 'agent')),
        uploader_id TEXT NOT NULL,
        client_id TEXT NOT NULL,
        filename TEXT NOT NULL,
        content_type TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        storage_key TEXT NOT NULL,
        thumbnail_key TEXT,
        width INTEGER,
        height INTEGER,
        created_at REAL NOT NULL,
        UNIQUE (conversation_id, client_id)
    )""")


@migrations()
def m16d_password_resets(db: Database) -> None:
    # Reset links an admin hands to an agent (only a SHA-256 of each token is kept, like sessions), and the
    # agents who must choose their own password at their next sign-in (their password was generated).
    db.execute("""
    CREATE TABLE password_resets (
        token_hash TEXT PRIMARY KEY,
        agent_id INTEGER NOT NULL REFERENCES agents(id),
        created_at REAL NOT NULL,
        expires_at REAL NOT NULL
    )""")
    db.execute("""
    CREATE TABLE password_change_required (
        agent_id INTEGER PRIMARY KEY REFERENCES agents(id),
        since REAL NOT NULL
    )""")


@migrations()
def m18a_api_tokens(db: Database) -> None:
    # API tokens for /api/v1 (docs/api.md): admins make them in the browser; only a SHA-256 of the secret is kept
    # (tokens are 256 random bits), with the first characters shown in lists so a token can be recognised.
    db.execute("""
    CREATE TABLE api_tokens (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        scope TEXT NOT NULL CHECK (scope IN ('read', 'write', 'admin')),
        token_hash TEXT NOT NULL UNIQUE,
        prefix TEXT NOT NULL,
        agent_id INTEGER NOT NULL REFERENCES agents(id),
        created_at REAL NOT NULL,
        last_used_at REAL,
        revoked_at REAL
    )""")


@migrations()
def m18b_audit_log(db: Database) -> None:
    # Every admin action (docs/admin.md, "Audit log"): who, when, from where, what changed. Append-only: the triggers
    # refuse any UPDATE or DELETE, so no code path (nor a mistaken query) can rewrite history.
    db.execute("""
    CREATE TABLE audit_log (
        id INTEGER PRIMARY KEY,
        created_at REAL NOT NULL,
        actor_agent_id INTEGER,
        actor_name TEXT NOT NULL,
        via TEXT NOT NULL,
        token_id INTEGER,
        address TEXT,
        action TEXT NOT NULL,
        target_type TEXT,
        target_id TEXT,
        changes TEXT
    )""")
    db.execute("CREATE INDEX audit_log_action ON audit_log (action, id)")
    db.execute("CREATE INDEX audit_log_actor ON audit_log (actor_agent_id, id)")
    db.execute("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
               "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")
    db.execute("CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
               "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")


@migrations()
def m18c_webhooks(db: Database) -> None:
    # Webhooks (docs/webhooks.md): endpoints admins add, the outbox of deliveries (written in the transaction of the
    # event itself) and every attempt's outcome. A delivery's `event_id` is its idempotency key.
    db.execute("""
    CREATE TABLE webhook_endpoints (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL,
        events TEXT NOT NULL,
        secret TEXT NOT NULL,
        created_at REAL NOT NULL,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        paused_at REAL,
        paused_reason TEXT
    )""")
    db.execute("""
    CREATE TABLE webhook_deliveries (
        id INTEGER PRIMARY KEY,
        endpoint_id INTEGER NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
        event_id TEXT NOT NULL,
        event_type TEXT NOT NULL,
        conversation_id INTEGER,
        body TEXT NOT NULL,
        created_at REAL NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        delivered_at REAL,
        last_status_code INTEGER,
        last_error TEXT
    )""")
    db.execute("CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at)")
    db.execute("CREATE INDEX webhook_deliveries_chain ON webhook_deliveries (endpoint_id, conversation_id, id)")
    db.execute("""
    CREATE TABLE webhook_attempts (
        id INTEGER PRIMARY KEY,
        delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
        attempted_at REAL NOT NULL,
        status_code INTEGER,
        error TEXT,
        response_excerpt TEXT,
        duration_ms INTEGER NOT NULL
    )""")
    db.execute("CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id)")


@migrations()
def m18d_visitor_identities(db: Database) -> None:
    # Who a visitor is according to the host site (docs/widget.md, "Verified identity"): `customer_id` only when the
    # site's signature was valid (then one customer is one visitor on every device); claimed name and email
    # otherwise, shown to agents as unverified and never used to merge.
    db.execute("""
    CREATE TABLE visitor_identities (
        visitor_id TEXT PRIMARY KEY REFERENCES visitors(id),
        customer_id TEXT UNIQUE,
        verified INTEGER NOT NULL DEFAULT 0,
        name TEXT,
        email TEXT,
        email_verified INTEGER NOT NULL DEFAULT 0,
        updated_at REAL NOT NULL
    )""")


@migrations()
def m18e_privacy(db: Database) -> None:
    # Privacy (docs/privacy.md): visitors whose data was erased (their old token opens nothing again) and the daily
    # retention job's runs (so it runs once a day, once across a cluster, whatever restarts).
    db.execute("""
    CREATE TABLE visitor_erasures (
        visitor_id TEXT PRIMARY KEY REFERENCES visitors(id),
        erased_at REAL NOT NULL
    )""")
    db.execute("""
    CREATE TABLE retention_runs (
        id INTEGER PRIMARY KEY,
        started_at REAL NOT NULL,
        conversations INTEGER NOT NULL
    )""")


@migrations()
def m18f_conversation_tickets(db: Database) -> None:
    # Tickets (docs/webhooks.md, `ticket.created`): a chat left waiting in the queue CHAT_TICKET_NOTICE_SECONDS
    # becomes a ticket once; this row says it did (the `ticket.created` webhook and the agents' ticket notices are
    # queued in the same transaction). Chats already noticed by email are tickets already.
    db.execute("""
    CREATE TABLE conversation_tickets (
        conversation_id INTEGER PRIMARY KEY REFERENCES conversations(id),
        created_at REAL NOT NULL
    )""")
    db.execute("INSERT INTO conversation_tickets (conversation_id, created_at) SELECT conversation_id, "
               "min(created_at) FROM email_outbox WHERE kind = 'ticket_notice' AND conversation_id IS NOT NULL "
               "GROUP BY conversation_id")


@migrations()
def m18g_audit_retention(db: Database) -> None:
    # The audit log is kept per the retention setting (`audit_retention_days`): the daily job raises the cutoff in
    # `audit_prune` and deletes the entries older than it; the delete trigger still refuses every other delete.
    db.execute("CREATE TABLE audit_prune (id INTEGER PRIMARY KEY CHECK (id = 1), before REAL NOT NULL)")
    db.execute("INSERT INTO audit_prune (id, before) VALUES (1, 0)")
    db.execute("DROP TRIGGER audit_log_no_delete")
    db.execute("CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
               "WHEN old.created_at >= (SELECT before FROM audit_prune WHERE id = 1) "
               "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")


@migrations()
def m19a_example_proposals(db: Database) -> None:
    # Example questions the bot learned from solved chats (a visitor question followed by "helpful" on an article,
    # or answered by an agent's "send article"), waiting for an admin. One row per article and normalised text;
    # a rejected one stays, so it is never proposed again. Its sources are the conversations it came from.
    db.execute("""
    CREATE TABLE example_proposals (
        id INTEGER PRIMARY KEY,
        slug TEXT NOT NULL,
        text TEXT NOT NULL,
        normalised TEXT NOT NULL,
        count INTEGER NOT NULL DEFAULT 1,
        status TEXT NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'accepted', 'rejected')),
        first_seen REAL NOT NULL,
        last_seen REAL NOT NULL,
        decided_by TEXT,
        decided_at REAL,
        UNIQUE (slug, normalised)
    )""")
    db.execute("CREATE INDEX example_proposals_by_status ON example_proposals (status, slug)")
    db.execute("""
    CREATE TABLE example_proposal_sources (
        proposal_id INTEGER NOT NULL REFERENCES example_proposals(id) ON DELETE CASCADE,
        conversation_id INTEGER NOT NULL REFERENCES conversations(id),
        source TEXT NOT NULL CHECK (source IN ('helpful', 'sent_by_agent')),
        created_at REAL NOT NULL,
        PRIMARY KEY (proposal_id, conversation_id)
    )""")
