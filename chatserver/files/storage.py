"""Where attachment bytes are kept. `FileStorage` is the interface (an object store can fill it later);
`LocalFileStorage` writes each file once under `<data_dir>/attachments/`, named by a random key (never by the
uploaded name), readable by this process's user only."""
from __future__ import annotations

import os
import re
import secrets
import time
from pathlib import Path

KEY_RE = re.compile(r"[0-9a-f]{2}/[0-9a-f]{32}(\.thumb)?")


class FileStorage:
    def new_key(self) -> str:
        return f"{secrets.token_hex(1)}/{secrets.token_hex(16)}"

    def put(self, key: str, data: bytes) -> None:
        raise NotImplementedError

    def get(self, key: str) -> bytes:
        raise NotImplementedError

    def delete(self, key: str) -> None:
        raise NotImplementedError

    def keys_older_than(self, seconds: float) -> list[str]:
        """Every stored key written more than `seconds` ago (a sweep of files no row refers to any more)."""
        raise NotImplementedError


class LocalFileStorage(FileStorage):
    def __init__(self, root: Path):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        if not KEY_RE.fullmatch(key):       # keys are ours; anything else is a bug, never a path to follow
            raise ValueError(f"not a storage key: {key!r}")
        return self.root / key

    def put(self, key: str, data: bytes) -> None:
        """Write the file whole (a temporary name, then an atomic rename), so a reader never sees half of one."""
        path = self._path(key)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".part")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def keys_older_than(self, seconds: float) -> list[str]:
        if not self.root.exists():
            return []
        cutoff = time.time() - seconds
        found = []
        for path in self.root.glob("*/*"):
            key = f"{path.parent.name}/{path.name}"
            if KEY_RE.fullmatch(key) and path.stat().st_mtime < cutoff:
                found.append(key)
        return found
