"""Sentence vectors of the indexed example questions, and the list of articles still waiting for the encoder.

Two matrices: a row per example question (and title) of every embedded article, and a row per article holding the
normalised mean of its questions' vectors. A query scans only the article rows to find articles close in meaning
(10,000 rows rather than 60,000), then compares itself with the question rows of the shortlisted articles. Rows of
a removed or changed article are freed and reused, so an edit never rebuilds a matrix. Articles added or changed
wait in `pending` until the background embedding (embedding.py) installs their vectors. The caller
(KnowledgeBase) guards every method with its index lock.
"""
from __future__ import annotations

import numpy as np


class _RowPool:
    """A growable float32 matrix whose rows are handed out to owners and freed again (freed rows are zero)."""

    def __init__(self, dim: int):
        self.matrix = np.zeros((256, dim), dtype=np.float32)
        self.used = 0
        self.free: list[int] = []
        self.owner: list[str | None] = []

    def take(self, owner: str, vectors: np.ndarray) -> np.ndarray:
        n = len(vectors)
        rows = [self.free.pop() for _ in range(min(n, len(self.free)))]
        extra = n - len(rows)
        if self.used + extra > len(self.matrix):
            grown = np.zeros((max(2 * len(self.matrix), self.used + extra), self.matrix.shape[1]), dtype=np.float32)
            grown[: self.used] = self.matrix[: self.used]
            self.matrix = grown
        rows.extend(range(self.used, self.used + extra))
        self.owner.extend([None] * extra)
        self.used += extra
        taken = np.array(rows, dtype=np.int64)
        self.matrix[taken] = vectors
        for r in rows:
            self.owner[r] = owner
        return taken

    def release(self, rows: np.ndarray) -> None:
        self.matrix[rows] = 0.0             # a free row scores 0 against every query
        for r in rows.tolist():
            self.owner[r] = None
        self.free.extend(rows.tolist())


class SemanticIndex:
    def __init__(self, dim: int):
        self.dim = dim
        self.questions = _RowPool(dim)
        self.articles = _RowPool(dim)
        self.rows: dict[str, np.ndarray] = {}           # slug -> its question rows, in question order
        self.article_row: dict[str, np.ndarray] = {}    # slug -> its one article row
        self.pending: dict[str, tuple[str, ...]] = {}   # slug -> texts waiting for the encoder
        self.ready = False      # the first full pass is done: from then on queries use the sentence vectors

    # ----- changes (index lock held) -------------------------------------------------------------------------
    def mark(self, slug: str, texts: list[str]) -> None:
        """An article was added or changed: its old vectors no longer count, its texts wait for the encoder."""
        self.drop(slug)
        self.pending[slug] = tuple(texts)

    def drop(self, slug: str) -> None:
        self.pending.pop(slug, None)
        rows = self.rows.pop(slug, None)
        if rows is not None:
            self.questions.release(rows)
            self.articles.release(self.article_row.pop(slug))

    def install(self, slug: str, texts: tuple[str, ...], vectors: np.ndarray) -> bool:
        """Store an article's vectors, unless it changed (or went) while they were computed."""
        if self.pending.get(slug) is not texts:
            return False
        del self.pending[slug]
        self.rows[slug] = self.questions.take(slug, vectors)
        mean = vectors.mean(axis=0)
        norm = float(np.linalg.norm(mean))
        self.article_row[slug] = self.articles.take(slug, (mean / norm if norm else mean)[None, :])
        return True

    def next_batch(self, max_texts: int) -> list[tuple[str, tuple[str, ...]]]:
        """Some pending articles, about max_texts texts in all (always at least one article when any waits)."""
        batch, count = [], 0
        for slug, texts in self.pending.items():
            if batch and count + len(texts) > max_texts:
                break
            batch.append((slug, texts))
            count += len(texts)
        return batch

    # ----- queries (index lock held) -----------------------------------------------------------------------
    def nearest_articles(self, query: np.ndarray, k: int, exclude=frozenset()) -> list[str]:
        """The k articles whose mean question vector is closest to the query."""
        pool = self.articles
        if not pool.used or k <= 0:
            return []
        sims = pool.matrix[: pool.used] @ query
        want = min(len(sims), k + 64)
        while True:
            top = np.argpartition(-sims, want - 1)[:want]
            out: list[str] = []
            for r in top[np.argsort(-sims[top])].tolist():
                slug = pool.owner[r]
                if slug is not None and slug not in exclude:
                    out.append(slug)
                    if len(out) == k:
                        return out
            if want == len(sims):       # fewer than k articles outside `exclude`
                return out
            want = min(len(sims), 4 * want)

    def question_similarities(self, slug: str, query: np.ndarray) -> np.ndarray | None:
        """The query's cosine with each of the article's questions, or None when it has no vectors yet."""
        rows = self.rows.get(slug)
        return None if rows is None else self.questions.matrix[rows] @ query

    def memory_bytes(self) -> int:
        return self.questions.matrix.nbytes + self.articles.matrix.nbytes
