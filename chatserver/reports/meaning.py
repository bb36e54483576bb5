"""What the gap list asks of the knowledge base: sentence vectors of the unanswered questions and the closest
article of a wording. The figures stay pure functions of the dataset and this small object (a fake in tests)."""
from __future__ import annotations

MAX_GROUPED = 5_000     # more unanswered questions than this in a range: grouped by words (encoding would be slow)


class KnowledgeBaseMeaning:
    def __init__(self, kb):
        self.kb = kb

    def vectors(self, texts: list[str]):
        """One sentence vector per text, or None (no encoder, not embedded yet, or too many texts)."""
        if len(texts) > MAX_GROUPED:
            return None
        return self.kb.sentence_vectors(texts)

    def closest(self, text: str) -> tuple[str, float] | None:
        """The article the agents' search ranks first for the wording, with its score (drafts left out)."""
        found = self.kb.search(text, limit=1)
        return (found[0].slug, found[0].score) if found else None
