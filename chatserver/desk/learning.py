"""Learning from solved chats: which visitor questions may become proposed example questions, and in what form.

A visitor question followed by "helpful" on an article, or answered by an agent's "send article", is proposed as an
example question for that article (counted per conversation, deduplicated by its normalised text). A visitor's
personal data is never learned (docs/triage.md, "Learning from conversations"):

- a question with an **email address**, a **card number or phone number** (a run of digits, spaces, dashes, dots,
  parentheses and "+" holding 7 or more digits; dates written in digits count too: better a question lost than a
  number kept) or an **IBAN** is not proposed at all;
- a word holding 4 or more digits that is not one of those (an **order or ticket number** like `#10234`,
  `ORD-55812`, `A123456`) is masked as `[number]`;
- what is left must be a question of 3 to 300 characters and at least 3 words, not a request for a person, and not
  already one of the article's example questions.

The rules are pure functions (`propose`), so they are tested without a server; `learn` runs them inside the bot's
or the agent's own transaction.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ..store import proposals as proposal_queries

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,3})?\b", re.IGNORECASE)
# Digits with the separators people type in card and phone numbers; counted below (7 or more digits).
DIGIT_RUN = re.compile(r"\+?\(?\d[\d\s().\-/]*\d")
LONG_NUMBER_DIGITS = 7
# Order, ticket and invoice numbers: a word with 4 or more digits (letters, '#', '-' and '/' around them).
NUMBERED_WORD = re.compile(r"#?\b[\w\-/]*\d[\w\-/]*\b")
MASK = "[number]"
MIN_CHARS, MAX_CHARS, MIN_WORDS = 3, 300, 3


@dataclass(frozen=True)
class Proposed:
    text: str           # as shown to admins and written into the article (masked, spaces tidied)
    normalised: str     # the deduplication key


def normalise(text: str) -> str:
    """Lower case, accents folded, punctuation dropped, one space between words: two wordings that differ only in
    those are one proposal (and match an existing example question)."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(re.findall(r"[^\W_]+", folded))


def _has_long_number(text: str) -> bool:
    return any(sum(c.isdigit() for c in run) >= LONG_NUMBER_DIGITS for run in DIGIT_RUN.findall(text))


def _mask_numbers(text: str) -> str:
    return NUMBERED_WORD.sub(lambda m: MASK if sum(c.isdigit() for c in m.group()) >= 4 else m.group(), text)


def propose(text: str | None, exclude: re.Pattern | None = None) -> Proposed | None:
    """The example question a visitor's message may become, or None when it must not be learned."""
    if not text:
        return None
    text = " ".join(text.split())
    if EMAIL.search(text) or IBAN.search(text) or _has_long_number(text):
        return None
    text = _mask_numbers(text).strip(" \t-–—,;:")
    if exclude is not None and exclude.search(text):
        return None
    key = normalise(text)
    words = [w for w in key.split() if w != "number"]
    if not (MIN_CHARS <= len(text) <= MAX_CHARS) or len(words) < MIN_WORDS:
        return None
    return Proposed(text, key)


def learn(db, conversation_id: int, slug: str, source: str, known: set[str], now: float,
          exclude: re.Pattern | None = None) -> dict | None:
    """Inside the caller's transaction: propose the conversation's latest visitor question for `slug` (`known`: the
    normalised example questions the article has already). Returns the proposal counted, or None."""
    proposed = propose(proposal_queries.last_visitor_text(db, conversation_id), exclude)
    if proposed is None or proposed.normalised in known:
        return None
    return proposal_queries.add_occurrence(db, slug, proposed.text, proposed.normalised, conversation_id, source, now)


def known_questions(article) -> set[str]:
    """The article's example questions and title, normalised."""
    return {normalise(q) for q in [*article.questions, article.title]}
