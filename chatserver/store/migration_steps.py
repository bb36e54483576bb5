"""Data conversions that migrations of both engines run (schema.py for SQLite, pg_schema.py for PostgreSQL), so the
two schema histories convert rows the same way. Self-contained on purpose: an applied migration must never change,
whatever the query modules do later; add a new step rather than editing one of these."""
from __future__ import annotations

import hashlib
import ipaddress


def hash_session_tokens(db) -> None:
    """m003: keep only a SHA-256 of each session token (a copy of the database opens no sessions); existing
    sessions are hashed in place and stay valid."""
    db.execute("ALTER TABLE agent_sessions RENAME COLUMN token TO token_hash")
    for (token,) in db.execute("SELECT token_hash FROM agent_sessions").fetchall():
        db.execute("UPDATE agent_sessions SET token_hash = ? WHERE token_hash = ?",
                   [hashlib.sha256(token.encode()).hexdigest(), token])


def cut_addresses_to_networks(db) -> None:
    """m004: a visitor's address is no longer kept, only the network around it (/24 for IPv4, /48 for IPv6), enough
    to see where a flood comes from, not which household."""
    db.execute("ALTER TABLE visitors RENAME COLUMN ip TO ip_network")
    for (address,) in db.execute("SELECT DISTINCT ip_network FROM visitors WHERE ip_network IS NOT NULL").fetchall():
        try:
            parsed = ipaddress.ip_address(address)
            if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
                parsed = parsed.ipv4_mapped
            network = str(ipaddress.ip_network(f"{parsed}/{24 if parsed.version == 4 else 48}", strict=False))
        except ValueError:
            network = None
        db.execute("UPDATE visitors SET ip_network = ? WHERE ip_network = ?", [network, address])
