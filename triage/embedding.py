"""Background embedding: loads the sentence encoder, then gives every pending example question its vector, from
the persistent cache when this model has seen the text before, from the encoder otherwise.

The lexical matcher answers from the first moment; the knowledge base switches to sentence vectors once the first
full pass is done. One daemon thread per knowledge base, at a lower CPU priority (Linux) so that visitors'
queries on the other threads come first. The index lock is held only to take a batch and to install it, never
while the encoder runs.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
from typing import Callable

import numpy as np

from .embedding_cache import EmbeddingCache
from .encoder import SentenceEncoder
from .semantic import SemanticIndex

log = logging.getLogger(__name__)

TAKE_TEXTS = 2000       # texts taken from the pending list at a time (cache look-ups are cheap in bulk)
ENCODE_BATCH = 32       # texts encoded between two cache writes and two checks for a stop
NICE = 10


class Embedder:
    """Owns the encoder, the cache and the thread that fills `semantic` for one knowledge base."""

    def __init__(self, semantic: SemanticIndex, lock: threading.RLock,
                 encoder: SentenceEncoder | Callable[..., SentenceEncoder], cache_dir=None,
                 on_change: Callable[[], None] | None = None):
        self.semantic = semantic
        self.on_change = on_change      # told when vectors were installed (the scores changed: re-calibrate)
        self.lock = lock
        self._encoder_source = encoder
        self.encoder: SentenceEncoder | None = encoder if isinstance(encoder, SentenceEncoder) else None
        self.cache_dir = cache_dir
        self.cache: EmbeddingCache | None = None
        self.error: str | None = None                   # why the encoder could not be used, if it could not
        self.counts = {"from_cache": 0, "encoded": 0}
        self.ready_seconds: float | None = None         # from start() to the first full pass
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._started_at = time.perf_counter()

    # ----- lifetime ----------------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the background thread (once)."""
        if self._thread is None:
            self._started_at = time.perf_counter()
            self._thread = threading.Thread(target=self._run, name="triage-embedding", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        """New pending questions (an article was added or edited)."""
        self._wake.set()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until the first full pass is done (True), or the timeout passed / the encoder failed (False)."""
        self._ready.wait(timeout)
        return self.semantic.ready

    def close(self) -> None:
        """Stop the thread (after its current step: at most one model load or 32 texts) and release the encoder
        and the cache."""
        self._stop.set()
        self._wake.set()
        self._ready.set()           # nobody waits for a pass that will not finish
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        if self.cache is not None:
            self.cache.close()
            self.cache = None
        self.encoder = None             # lets the ONNX session go with the last reference

    # ----- work --------------------------------------------------------------------------------------------
    def prepare(self) -> bool:
        """Load the encoder and open the cache if not done yet; False (with `error` set) when that fails."""
        if self.error is not None or self._stop.is_set():
            return False
        try:
            if self.encoder is None:
                self.encoder = self._encoder_source(self.cache_dir)
            if self.cache is None:
                self.cache = EmbeddingCache(self.cache_dir, self.encoder.model_id, self.encoder.dim)
        except Exception as exc:  # the lexical matcher goes on alone; the reason is logged and reported
            self.error = f"{type(exc).__name__}: {exc}"
            log.warning("sentence encoder not available, matching without it: %s", self.error)
            if self.on_change is not None:
                self.on_change()        # words alone from now on: calibrate for them
            self._ready.set()
            return False
        return True

    def embed_pending(self) -> int:
        """Embed everything pending now, in this thread; returns the number of articles installed."""
        if not self.prepare():
            return 0
        installed = 0
        while not self._stop.is_set():
            with self.lock:
                batch = self.semantic.next_batch(TAKE_TEXTS)
                if not batch:
                    changed = installed > 0 or not self.semantic.ready
                    if not self.semantic.ready:
                        self.semantic.ready = True
                        self.ready_seconds = time.perf_counter() - self._started_at
                    if changed and self.on_change is not None:
                        self.on_change()        # before _ready: whoever waits for it then sees the calibration due
                    self._ready.set()
                    return installed
            vectors = self._vectors({t for _, texts in batch for t in texts})
            if vectors is None:
                return installed
            with self.lock:
                for slug, texts in batch:
                    installed += self.semantic.install(slug, texts, np.stack([vectors[t] for t in texts]))
        return installed

    def _vectors(self, texts: set[str]) -> dict[str, np.ndarray] | None:
        """Vectors for the texts: cached ones, then the rest through the encoder (and into the cache)."""
        found = self.cache.get_many(list(texts))
        self.counts["from_cache"] += len(found)
        missing = sorted(t for t in texts if t not in found)
        for start in range(0, len(missing), ENCODE_BATCH):
            if self._stop.is_set():
                return None
            chunk = missing[start: start + ENCODE_BATCH]
            # Rounded through float16 as the cache stores them, so a restart ranks exactly as before.
            fresh = self.encoder.embed(chunk).astype(np.float16)
            self.cache.put_many(chunk, fresh)
            found.update(zip(chunk, fresh.astype(np.float32)))
            self.counts["encoded"] += len(chunk)
        return found

    def _run(self) -> None:
        if sys.platform == "linux":
            try:        # on Linux a thread id names one thread: only this one yields the CPU
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)
            except OSError:
                pass
        while not self._stop.is_set():
            try:
                self.embed_pending()
            except Exception:       # keep serving lexically; try again on the next change
                log.exception("background embedding failed")
            if self.error is not None:
                return
            self._wake.wait()
            self._wake.clear()

    def vectors_for(self, texts: list[str]) -> np.ndarray | None:
        """Sentence vectors of any texts (one row each), from the cache or the encoder; None until the knowledge base
        is embedded. Not counted in `counts` (those are the knowledge base's own)."""
        encoder, cache = self.encoder, self.cache
        if encoder is None or cache is None or not self.semantic.ready:
            return None
        found = cache.get_many(list(set(texts)))
        missing = sorted(t for t in set(texts) if t not in found)
        if missing:
            fresh = encoder.embed(missing).astype(np.float16)       # one text at a time inside, as for questions
            cache.put_many(missing, fresh)
            found.update(zip(missing, fresh.astype(np.float32)))
        return np.stack([found[t] for t in texts]) if texts else np.zeros((0, encoder.dim), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray | None:
        """The query's sentence vector once the knowledge base is embedded, else None (lexical matching)."""
        encoder = self.encoder
        if encoder is None or not self.semantic.ready or not text.strip():
            return None
        return encoder.embed([text])[0]
