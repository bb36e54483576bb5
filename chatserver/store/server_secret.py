"""The cluster's HMAC key on PostgreSQL (table `server_secret`, made by the store's bootstrap: pg_schema.py). On
SQLite the key is a file in the data dir instead (chatserver/tokens.py)."""
from __future__ import annotations


def hmac_key(db) -> str:
    """The key, as hex digits."""
    return db.execute("SELECT value FROM server_secret WHERE name = 'hmac'").fetchone()[0]
