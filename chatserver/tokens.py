"""The server secret (kept in the data dir) and what is signed with it: visitor tokens, CSRF tokens."""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path


class ServerSecret:
    """Holds the HMAC key. A visitor token is 'v1.<visitor_id>.<signature>'; only the server can mint one,
    so a token names exactly one visitor and never grants access to anyone else's conversations."""

    def __init__(self, key: bytes):
        self._key = key

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
