"""The data dir and the files in it are readable by the server's own user only.

`chat.db` holds conversations, visitor contact details and password hashes; `secret.key` signs every token. The
data dir is created 0700 and these files 0600, and a data dir made by an older version is tightened the same way
at start-up. SQLite creates `chat.db-wal` and `chat.db-shm` with the mode of `chat.db`, so creating the database
file 0600 before SQLite first opens it keeps its companions private too.
"""
from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

DIR_MODE = 0o700
FILE_MODE = 0o600
DATABASE_COMPANIONS = ("-wal", "-shm", "-journal")
PRIVATE_FILES = ("chat.db", "chat.db-wal", "chat.db-shm", "chat.db-journal", "secret.key", "admin-password.txt")


def prepare_data_dir(data_dir: Path) -> None:
    """Create the data dir 0700 (or tighten an existing one) and tighten the server's files in it."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    _tighten(data_dir, DIR_MODE)
    for name in PRIVATE_FILES:
        if (data_dir / name).exists():
            _tighten(data_dir / name, FILE_MODE)


def prepare_database_file(path: Path) -> None:
    """Make sure the database file exists with mode 0600 before SQLite opens it (its WAL and SHM follow it)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, FILE_MODE))
    for candidate in [path, *(path.with_name(path.name + suffix) for suffix in DATABASE_COMPANIONS)]:
        if candidate.exists():
            _tighten(candidate, FILE_MODE)


def write_private_text(path: Path, text: str) -> None:
    """Write a small file that only this user may read (created 0600, then moved into place)."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, FILE_MODE)      # an existing .tmp keeps its old mode through O_CREAT
    os.replace(tmp, path)


def _tighten(path: Path, mode: int) -> None:
    current = stat.S_IMODE(path.stat().st_mode)
    if current & ~mode == 0:
        return
    try:
        os.chmod(path, current & mode)
        log.info("%s was mode %o; now %o (readable by this user only)", path, current, current & mode)
    except OSError as exc:
        log.warning("%s is mode %o and could not be made private: %s", path, current, exc)
