"""Grouping short texts (visitors' unanswered questions) by meaning, with the sentence encoder's vectors.

Greedy and order-preserving: each text, in the order given (the order asked), joins the group whose centroid (the
normalised sum of its members' vectors) is closest, if that cosine reaches `cutoff`; else, when a second opinion
`also(i, j)` is given (string similarity of text i with group j's first text), the first group it accepts; else
it opens a new group. A group's most typical wording is the member closest to its centroid. Pure numpy: the
caller supplies the vectors (KnowledgeBase.sentence_vectors).
"""
from __future__ import annotations

from typing import Callable

import numpy as np

CUTOFF = 0.55   # all-MiniLM-L6-v2: paraphrases of one request 0.55-0.8, different requests of one shop 0.1-0.45


def group_by_meaning(vectors: np.ndarray, cutoff: float = CUTOFF,
                     also: Callable[[int, int], bool] | None = None) -> list[list[int]]:
    """Indices of the texts, grouped; groups in the order they were opened, members in the order given."""
    groups: list[list[int]] = []
    sums = np.zeros((0, vectors.shape[1] if vectors.ndim == 2 else 0), dtype=np.float32)
    for i, v in enumerate(vectors):
        joined = None
        if groups:
            norms = np.linalg.norm(sums, axis=1)
            sims = (sums @ v) / np.where(norms > 0, norms, 1.0)
            j = int(sims.argmax())
            if sims[j] >= cutoff:
                joined = j
            elif also is not None:
                joined = next((k for k, members in enumerate(groups) if also(i, members[0])), None)
        if joined is None:
            groups.append([i])
            sums = np.vstack([sums, v[None, :]])
        else:
            groups[joined].append(i)
            sums[joined] += v
    return groups


def most_typical(vectors: np.ndarray, members: list[int]) -> int:
    """The member closest to the group's centroid (the first one on a tie)."""
    centroid = vectors[members].sum(axis=0)
    return members[int((vectors[members] @ centroid).argmax())]
