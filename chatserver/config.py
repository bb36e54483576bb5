"""Settings: one dataclass, read from CLI flags and CHAT_* environment variables in one place.

Every field is documented in README.md ("Settings"); tests/test_docs.py checks they agree.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


DEFAULT_ATTACHMENT_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf")


@dataclass
class Config:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path("data")
    kb_dir: Path = PROJECT_ROOT / "kb_articles"
    admin_email: str = "admin@localhost"
    admin_password: str | None = None
    # Comma-separated origins allowed to embed the widget besides this server's own; "*" allows any site.
    # Empty by default: a site is allowed on purpose, never by accident (docs/operations.md, Security).
    allowed_origins: list[str] = field(default_factory=list)
    # Public base URL used in links printed at start-up and in widget.js; empty = http://host:port.
    public_url: str = ""
    default_max_chats: int = 3
    agent_grace_seconds: float = 60.0
    rate_limit_messages: int = 10
    rate_limit_window_seconds: float = 10.0
    max_message_chars: int = 4000
    max_http_buffer_size: int = 64 * 1024
    ping_interval_seconds: float = 25.0
    ping_timeout_seconds: float = 20.0
    sla_seconds: int = 60
    bot_enabled: bool = True
    quality_enabled: bool = True
    kb_poll_seconds: float = 2.0
    # Sentence meaning for the bot's matcher (all-MiniLM-L6-v2, embedded in the background after start).
    kb_encoder: bool = True
    # Where sentence vectors and the prepared model are cached; empty = <data_dir>/sentence-vectors.
    kb_vector_cache_dir: Path | None = None
    # The bot's confidence threshold; None = chosen from the KB itself on every (re)load (triage/calibration.py).
    # Admins can override it in the browser too (Admin → Settings).
    kb_threshold: float | None = None
    new_visitors_per_minute_per_ip: int = 30
    # Proxies (addresses or networks) whose X-Forwarded-For / X-Forwarded-Proto are believed; empty = none.
    trusted_proxies: list[str] = field(default_factory=list)
    # Engine.IO connections one client address may hold open at once.
    max_sockets_per_address: int = 100
    log_level: str = "INFO"
    # NORMAL survives a killed process (WAL); FULL also survives power loss, at some throughput.
    sqlite_synchronous: str = "NORMAL"
    # Empty: the SQLite file under data_dir. postgresql://user@host:port/db: that PostgreSQL database (docs/operations.md).
    database_url: str = ""
    # Connections per PostgreSQL pool (one pool for writes, one for reads), per server process.
    database_pool_size: int = 4
    # The HMAC key (64+ hex digits) shared by every node; empty: data_dir/secret.key on SQLite, kept in the database
    # on PostgreSQL (created once by the first node).
    secret_key: str = ""
    # Unset: one process, live state in memory. A Redis URL makes this server one node of a cluster
    # (docs/operations.md, "Redis"): emits cross nodes and the live state is shared there.
    redis_url: str | None = None
    # Every Redis key and pub/sub channel of this cluster starts with "<prefix>:" (two clusters can share a Redis:
    # pub/sub channels ignore the database number).
    redis_prefix: str = "chat"
    # Email (docs/email.md). Empty SMTP URL or From address: no email is sent (admins may set both in Settings).
    smtp_url: str = ""
    email_from: str = ""
    # One SMTP conversation may take this long; a sending email's lease is twice that.
    smtp_timeout_seconds: float = 30.0
    # The outbox's first retry waits this long, each next one twice as long (at most an hour), 10 attempts in all.
    email_retry_seconds: float = 30.0
    # An agent's reply the visitor has not seen (not connected) this long goes to them by email.
    email_reply_delay_seconds: float = 120.0
    # Replies to our emails go to reply+<token>@<this domain>; empty: emails carry no reply address.
    email_reply_domain: str = ""
    # host:port of the built-in inbound SMTP listener (a mail server relays replies to it); empty: off.
    smtp_inbound: str = ""
    # The key inbound-mail services sign POST /api/email/inbound with (HMAC-SHA256); empty: the endpoint is off.
    email_inbound_secret: str = ""
    # Attachments: the largest file accepted, and the types accepted (as read from the file's bytes, never its name).
    attachment_max_bytes: int = 10 * 1024 * 1024
    attachment_types: list[str] = field(default_factory=lambda: list(DEFAULT_ATTACHMENT_TYPES))
    # Calls one API token may make per minute (/api/v1, docs/api.md); beyond, rate_limited.
    api_rate_limit_per_minute: int = 600
    # Webhooks (docs/webhooks.md): each request's time limit, the first retry's delay (doubling after each failed
    # attempt), attempts before a delivery is given up, failed attempts in a row before an endpoint is paused.
    webhook_timeout_seconds: float = 5.0
    webhook_retry_base_seconds: float = 10.0
    webhook_max_attempts: int = 12
    webhook_pause_after_failures: int = 20
    # A chat waiting in the queue this long is a new ticket: agents who opted in get an email about it.
    ticket_notice_seconds: float = 60.0

    @property
    def db_path(self) -> Path:
        return Path(self.data_dir) / "chat.db"

    @property
    def vector_cache_dir(self) -> Path:
        return Path(self.kb_vector_cache_dir or Path(self.data_dir) / "sentence-vectors")

    @property
    def base_url(self) -> str:
        return self.public_url.rstrip("/") or f"http://{self.host}:{self.port}"


# Settings that can be set from the environment: name -> (env var, parser).
def _bool(text: str) -> bool:
    return text.strip().lower() in {"1", "true", "yes", "on"}


def _origins(text: str) -> list[str]:
    return [o.strip().rstrip("/") for o in text.split(",") if o.strip()]


def _synchronous(text: str) -> str:
    value = text.strip().upper()
    if value not in {"NORMAL", "FULL"}:
        raise ValueError(f"CHAT_SQLITE_SYNCHRONOUS must be NORMAL or FULL, not {text!r}")
    return value


def _database_url(text: str) -> str:
    value = text.strip()
    if value and not value.startswith(("postgresql://", "postgres://")):
        raise ValueError(f"CHAT_DATABASE_URL must be a postgresql:// URL (or empty for SQLite), not {text!r}")
    return value


def _secret_key(text: str) -> str:
    value = text.strip()
    try:
        key = bytes.fromhex(value)
    except ValueError:
        key = b""
    if len(key) < 32:
        raise ValueError("CHAT_SECRET_KEY must be at least 64 hex digits (32 bytes), e.g. the output of "
                         "python -c 'import secrets; print(secrets.token_hex(32))'")
    return value.lower()
REDIS_SCHEMES = ("redis://", "rediss://", "unix://", "redis+sentinel://")
REDIS_PREFIX_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _redis_url(text: str) -> str:
    value = text.strip()
    if not value.lower().startswith(REDIS_SCHEMES):
        raise ValueError(f"CHAT_REDIS_URL must start with one of {', '.join(REDIS_SCHEMES)}, not {text[:40]!r}")
    return value


def _redis_prefix(text: str) -> str:
    value = text.strip()
    if not REDIS_PREFIX_RE.match(value):
        raise ValueError(f"CHAT_REDIS_PREFIX must be 1 to 64 letters, digits, '_', '.' or '-', not {text[:70]!r}")
    return value


def kb_threshold(text: str) -> float:
    """A confidence threshold between 0.01 and 0.99 (CHAT_KB_THRESHOLD, the admin setting)."""
    try:
        value = float(text.strip())
    except ValueError:
        value = -1.0
    if not 0.01 <= value <= 0.99:
        raise ValueError(f"the threshold must be a number from 0.01 to 0.99, not {text[:20]!r}")
    return value


def _smtp_url(text: str) -> str:
    from .mail.smtp_url import BadSmtpUrl, parse

    value = text.strip()
    try:
        parse(value)
    except BadSmtpUrl as exc:
        raise ValueError(f"CHAT_SMTP_URL: {exc}") from None
    return value


def _email_address(text: str) -> str:
    value = text.strip()
    if not re.match(r"^[^@\s<>]+@[^@\s<>]+$", value):
        raise ValueError(f"CHAT_EMAIL_FROM must be an address like support@example.com, not {text[:60]!r}")
    return value


def _host_port(text: str) -> str:
    value = text.strip()
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"CHAT_SMTP_INBOUND must be host:port like 127.0.0.1:2525, not {text[:60]!r}")
    return value


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


ENV_SETTINGS: dict[str, tuple[str, object]] = {
    "host": ("CHAT_HOST", str),
    "port": ("CHAT_PORT", int),
    "data_dir": ("CHAT_DATA_DIR", Path),
    "kb_dir": ("CHAT_KB_DIR", Path),
    "admin_email": ("CHAT_ADMIN_EMAIL", str),
    "admin_password": ("CHAT_ADMIN_PASSWORD", str),
    "allowed_origins": ("CHAT_ALLOWED_ORIGINS", _origins),
    "public_url": ("CHAT_PUBLIC_URL", str),
    "default_max_chats": ("CHAT_DEFAULT_MAX_CHATS", int),
    "agent_grace_seconds": ("CHAT_AGENT_GRACE_SECONDS", float),
    "rate_limit_messages": ("CHAT_RATE_LIMIT_MESSAGES", int),
    "rate_limit_window_seconds": ("CHAT_RATE_LIMIT_WINDOW_SECONDS", float),
    "max_message_chars": ("CHAT_MAX_MESSAGE_CHARS", int),
    "max_http_buffer_size": ("CHAT_MAX_HTTP_BUFFER_SIZE", int),
    "ping_interval_seconds": ("CHAT_PING_INTERVAL_SECONDS", float),
    "ping_timeout_seconds": ("CHAT_PING_TIMEOUT_SECONDS", float),
    "sla_seconds": ("CHAT_SLA_SECONDS", int),
    "bot_enabled": ("CHAT_BOT_ENABLED", _bool),
    "quality_enabled": ("CHAT_QUALITY_ENABLED", _bool),
    "kb_poll_seconds": ("CHAT_KB_POLL_SECONDS", float),
    "kb_encoder": ("CHAT_KB_ENCODER", _bool),
    "kb_vector_cache_dir": ("CHAT_KB_VECTOR_CACHE_DIR", Path),
    "kb_threshold": ("CHAT_KB_THRESHOLD", kb_threshold),
    "new_visitors_per_minute_per_ip": ("CHAT_NEW_VISITORS_PER_MINUTE_PER_IP", int),
    "trusted_proxies": ("CHAT_TRUSTED_PROXIES", _items),
    "max_sockets_per_address": ("CHAT_MAX_SOCKETS_PER_ADDRESS", int),
    "log_level": ("CHAT_LOG_LEVEL", str),
    "sqlite_synchronous": ("CHAT_SQLITE_SYNCHRONOUS", _synchronous),
    "database_url": ("CHAT_DATABASE_URL", _database_url),
    "database_pool_size": ("CHAT_DATABASE_POOL_SIZE", int),
    "secret_key": ("CHAT_SECRET_KEY", _secret_key),
    "redis_url": ("CHAT_REDIS_URL", _redis_url),
    "redis_prefix": ("CHAT_REDIS_PREFIX", _redis_prefix),
    "smtp_url": ("CHAT_SMTP_URL", _smtp_url),
    "email_from": ("CHAT_EMAIL_FROM", _email_address),
    "smtp_timeout_seconds": ("CHAT_SMTP_TIMEOUT_SECONDS", float),
    "email_retry_seconds": ("CHAT_EMAIL_RETRY_SECONDS", float),
    "email_reply_delay_seconds": ("CHAT_EMAIL_REPLY_DELAY_SECONDS", float),
    "email_reply_domain": ("CHAT_EMAIL_REPLY_DOMAIN", str),
    "smtp_inbound": ("CHAT_SMTP_INBOUND", _host_port),
    "email_inbound_secret": ("CHAT_EMAIL_INBOUND_SECRET", str),
    "attachment_max_bytes": ("CHAT_ATTACHMENT_MAX_BYTES", int),
    "attachment_types": ("CHAT_ATTACHMENT_TYPES", _items),
    "api_rate_limit_per_minute": ("CHAT_API_RATE_LIMIT_PER_MINUTE", int),
    "webhook_timeout_seconds": ("CHAT_WEBHOOK_TIMEOUT_SECONDS", float),
    "webhook_retry_base_seconds": ("CHAT_WEBHOOK_RETRY_BASE_SECONDS", float),
    "webhook_max_attempts": ("CHAT_WEBHOOK_MAX_ATTEMPTS", int),
    "webhook_pause_after_failures": ("CHAT_WEBHOOK_PAUSE_AFTER_FAILURES", int),
    "ticket_notice_seconds": ("CHAT_TICKET_NOTICE_SECONDS", float),
}


def load_config(argv: list[str] | None = None, environ: dict[str, str] | None = None) -> tuple[Config, argparse.Namespace]:
    """Build a Config from defaults, then the environment, then command-line flags (which win)."""
    environ = dict(os.environ if environ is None else environ)
    values: dict[str, object] = {}
    for name, (env_name, parse) in ENV_SETTINGS.items():
        if environ.get(env_name, "") != "":
            values[name] = parse(environ[env_name])  # type: ignore[operator]
    parser = argparse.ArgumentParser(description="Live-chat support server with a triage bot")
    parser.add_argument("--host", help="interface to listen on (CHAT_HOST, default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (CHAT_PORT, default 8080)")
    parser.add_argument("--data-dir", type=Path, help="where the SQLite database and secrets live (CHAT_DATA_DIR, default ./data)")
    parser.add_argument("--kb-dir", type=Path, help="folder of Markdown articles (CHAT_KB_DIR, default ./kb_articles)")
    parser.add_argument("--demo-data", action="store_true", help="fill the data dir with a few hundred demo conversations, then serve")
    parser.add_argument("--copy-to", metavar="POSTGRESQL_URL", type=_database_url,
                        help="copy the data dir's SQLite database (and its secret key) into this empty PostgreSQL "
                             "database, verify the copy, and exit")
    args = parser.parse_args(argv)
    for name in ("host", "port", "data_dir", "kb_dir"):
        if getattr(args, name) is not None:
            values[name] = getattr(args, name)
    return Config(**values), args  # type: ignore[arg-type]


def config_fields() -> list[str]:
    return [f.name for f in dataclasses.fields(Config)]
