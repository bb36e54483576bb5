"""Persistent cache of sentence vectors, keyed by a hash of (model id, text).

A restart, a refresh and the re-indexing of one article look their questions up here first, so only texts never
seen by this model go through the encoder. One small SQLite file in a folder the caller chooses (the server's data
dir, a temporary folder for the CLI); vectors are stored as float16 (768 bytes each: cosines move by < 1e-3).
"""
from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path

import numpy as np

FILE_NAME = "sentence_vectors.sqlite"


def text_key(model_id: str, text: str) -> bytes:
    return hashlib.sha256(f"{model_id}\0{text}".encode("utf-8")).digest()[:16]


class EmbeddingCache:
    """Vectors by text for one model. `folder=None` keeps them in memory only (nothing survives the process)."""

    def __init__(self, folder: str | Path | None, model_id: str, dim: int):
        self.model_id = model_id
        self.dim = dim
        self.path = None if folder is None else Path(folder) / FILE_NAME
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # One connection used from the embedding thread and from callers of upsert; the lock serialises them.
        self._db = sqlite3.connect(":memory:" if self.path is None else str(self.path), check_same_thread=False,
                                   timeout=10)
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")       # a lost last batch is only re-embedded
            self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, vector BLOB NOT NULL)")

    def get_many(self, texts: list[str]) -> dict[str, np.ndarray]:
        """The cached float32 vectors of those texts that have one."""
        keys = {text_key(self.model_id, t): t for t in texts}
        found: dict[str, np.ndarray] = {}
        items = list(keys)
        with self._lock:
            for start in range(0, len(items), 500):          # stay under SQLite's bound-parameter limit
                chunk = items[start: start + 500]
                rows = self._db.execute(f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(chunk))})",
                                        chunk).fetchall()
                for key, blob in rows:
                    vector = np.frombuffer(blob, dtype=np.float16)
                    if vector.shape == (self.dim,):
                        found[keys[key]] = vector.astype(np.float32)
        return found

    def put_many(self, texts: list[str], vectors: np.ndarray) -> None:
        rows = [(text_key(self.model_id, t), np.asarray(v, dtype=np.float16).tobytes()) for t, v in zip(texts, vectors)]
        with self._lock, self._db:
            self._db.executemany("INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)", rows)

    def __len__(self) -> int:
        with self._lock:
            return self._db.execute("SELECT count(*) FROM vectors").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._db.close()
