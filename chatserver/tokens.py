"""The server secret and what is signed with it: visitor tokens, CSRF tokens. The key is CHAT_SECRET_KEY when set;
otherwise on SQLite it is kept in the data dir (`secret.key`), on PostgreSQL in the database (made once by the
first node, so every node of a cluster signs with the same key)."""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path


class ServerSecret:
    """Holds the HMAC key. A visitor token is 'v1.<visitor_id>.<signature>'; only the server can mint one,
    so a token names exactly one visitor and never grants access to anyone else's conversations."""

    def __init__(self, key: bytes | None):
        self._key = key

    @classmethod
    def for_config(cls, config) -> "ServerSecret":
        """CHAT_SECRET_KEY, else the data dir's key file on SQLite; on PostgreSQL the key is `load`ed from the
        database once the store has started."""
        if config.secret_key:
            return cls(bytes.fromhex(config.secret_key))
        if config.database_url:
            return cls(None)
        return cls.load_or_create(config.data_dir)

    @property
    def loaded(self) -> bool:
        return self._key is not None

    def load(self, key_hex: str) -> None:
        self._key = bytes.fromhex(key_hex)

    @classmethod
    def load_or_create(cls, data_dir: Path) -> "ServerSecret":
        path = Path(data_dir) / "secret.key"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_hex(32))
            os.replace(tmp, path)
        return cls(bytes.fromhex(path.read_text().strip()))

    def _sign(self, purpose: str, value: str) -> str:
        return hmac.new(self._key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()[:43]

    def visitor_token(self, visitor_id: str) -> str:
        return f"v1.{visitor_id}.{self._sign('visitor', visitor_id)}"

    def visitor_id_from_token(self, token: object) -> str | None:
        """The visitor id a token was minted for, or None when it is missing, malformed or forged."""
        if not isinstance(token, str) or len(token) > 200:
            return None
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != "v1" or not parts[1].isalnum():
            return None
        if hmac.compare_digest(parts[2], self._sign("visitor", parts[1])):
            return parts[1]
        return None

    def csrf_token(self, session_token: str) -> str:
        return self._sign("csrf", session_token)

    def sign(self, purpose: str, value: str) -> str:
        """An HMAC of `value` for one purpose (a value signed for one purpose never passes as another's)."""
        return self._sign(purpose, value)
