"""Static word vectors for meaning-level similarity ("prove who I am" ~ "verify my identity").

A question's vector is the SIF-weighted mean of its content words' vectors, normalised to length 1: a table lookup
and one small numpy sum, fast enough to embed 50,000 example questions while the index builds. The vectors ship
with the package (data/word_vectors.npz, made by data/make_word_vectors.py); nothing is fetched at run time.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "word_vectors.npz"


class WordVectors:
    def __init__(self, words: list[str], vectors: np.ndarray):
        self.index = {w: i for i, w in enumerate(words)}
        self.vectors = vectors          # float32, one row per word, already multiplied by the word's SIF weight
        self.dim = vectors.shape[1]

    @classmethod
    def load(cls, path: str | Path = DEFAULT_PATH) -> "WordVectors":
        with np.load(path) as data:
            words = str(data["words"]).split("\n")
            vectors = data["vectors"].astype(np.float32) * data["scale"][:, None]
            weights = data["weights"].astype(np.float32)
        return cls(words, vectors * weights[:, None])

    def ids(self, words) -> list[int]:
        """Row numbers of the known words (unknown words are skipped)."""
        get = self.index.get
        return [i for i in map(get, words) if i is not None]

    def embed(self, words) -> np.ndarray | None:
        """The unit vector of a list of words, or None when none of them is known."""
        ids = self.ids(words)
        if not ids:
            return None
        v = self.vectors[ids].sum(axis=0)
        norm = float(np.linalg.norm(v))
        return v / norm if norm else None

    def embed_many(self, word_lists) -> np.ndarray:
        """One unit row per list of words (a zero row when no word is known), in one numpy pass."""
        flat, starts, sizes = [], [], []
        for words in word_lists:
            ids = self.ids(words)
            starts.append(len(flat))
            sizes.append(len(ids))
            flat.extend(ids)
        out = np.zeros((len(sizes), self.dim), dtype=np.float32)
        if not flat:
            return out
        sizes_arr = np.array(sizes)
        has = sizes_arr > 0
        summed = np.add.reduceat(self.vectors[flat], np.array(starts)[has], axis=0)
        norms = np.linalg.norm(summed, axis=1, keepdims=True)
        out[has] = summed / np.where(norms > 0, norms, 1.0)
        return out


@lru_cache(maxsize=4)
def shared(path: str | Path = DEFAULT_PATH) -> WordVectors:
    """One read-only copy per process: every knowledge base uses the same table."""
    return WordVectors.load(path)
