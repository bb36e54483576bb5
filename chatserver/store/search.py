"""Finding conversations: full-text search over their messages plus filters, for the console's lists (Mine,
Unassigned, All) and the visitor's own history. One function for both engines: the words are matched by SQLite's
FTS5 index (`messages_fts`, schema m16b) or by PostgreSQL's text search over a GIN index (`to_tsvector('simple',
text)`); everything else is the same SQL. Who may see which conversations is the caller's `scope`
(chatserver/desk/search.py builds it from the access rules); it is always part of the WHERE clause, so a result
is never read first and dropped later."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from sqlite_utils import Database

WORD_RE = re.compile(r"\w+", re.UNICODE)
MAX_WORDS = 8
SNIPPET_CHARS = 160


@dataclass(frozen=True)
class Scope:
    """Whose conversations: one visitor's (`visitor_id`), or what an agent may read (`agent_id`; `admin` reads all).
    `private` says whether private notes count (never for a visitor)."""
    visitor_id: str | None = None
    agent_id: int | None = None
    admin: bool = False

    @property
    def private(self) -> bool:
        return self.visitor_id is None


@dataclass(frozen=True)
class Criteria:
    words: tuple[str, ...] = ()
    view: str = "all"                       # "mine" | "unassigned" | "all"
    statuses: tuple[str, ...] = ()
    agent_id: int | None = None
    label_id: int | None = None
    created_from: float | None = None
    created_to: float | None = None         # exclusive
    rating: int | None = None               # the survey's CSAT, 1-5
    before_id: int | None = None
    limit: int = 25


def words_of(query: str | None) -> tuple[str, ...]:
    """The words of a search box, lower-cased (punctuation and operators are never syntax)."""
    return tuple(w.lower() for w in WORD_RE.findall(query or ""))[:MAX_WORDS]


def fold(word: str) -> str:
    """Lower case without accents ("Où" -> "ou"), as SQLite's tokenizer compares words."""
    return "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(c))


def _is_postgres(db) -> bool:
    return hasattr(db, "dialect")


def _text_clause(db, words: tuple[str, ...], private: bool) -> tuple[str, list]:
    """Conversations with a message holding every word (as a word or the start of one)."""
    hidden = "" if private else " AND m.private = 0"
    if _is_postgres(db):
        query = " & ".join(f"{w}:*" for w in words)
        return (f"c.id IN (SELECT m.conversation_id FROM messages m WHERE to_tsvector('simple', m.text) @@ "
                f"to_tsquery('simple', ?){hidden})", [query])
    query = " ".join('"' + w.replace('"', '""') + '"*' for w in words)
    return (f"c.id IN (SELECT m.conversation_id FROM messages_fts f JOIN messages m ON m.id = f.rowid "
            f"WHERE messages_fts MATCH ?{hidden})", [query])


def _scope_clause(scope: Scope) -> tuple[str, list]:
    if scope.visitor_id is not None:
        return "c.visitor_id = ?", [scope.visitor_id]
    if scope.admin:
        return "1 = 1", []
    # An agent reads what is (or was last) theirs, what waits in the queue, and earlier chats of a visitor they hold.
    return ("(c.agent_id = ? OR c.status = 'queued' OR c.visitor_id IN "
            "(SELECT visitor_id FROM conversations WHERE agent_id = ? AND status = 'assigned'))",
            [scope.agent_id, scope.agent_id])


def find_conversations(db: Database, scope: Scope, criteria: Criteria) -> list[dict]:
    """Conversations matching `criteria` within `scope`, newest first, `criteria.limit` + 1 of them (the caller
    says `more` when the extra one is there). Each with its agent, survey rating, labels, first question and,
    for a text search, the first matching message."""
    where, params = [], []
    clause, values = _scope_clause(scope)
    where.append(clause)
    params += values
    if criteria.words:
        clause, values = _text_clause(db, criteria.words, scope.private)
        where.append(clause)
        params += values
    if criteria.view == "mine":
        where.append("c.agent_id = ?")
        params.append(scope.agent_id)
    elif criteria.view == "unassigned":
        where.append("c.status IN ('bot', 'queued')")
    if criteria.statuses:
        where.append(f"c.status IN ({', '.join('?' for _ in criteria.statuses)})")
        params += list(criteria.statuses)
    if criteria.agent_id is not None:
        where.append("c.agent_id = ?")
        params.append(criteria.agent_id)
    if criteria.label_id is not None:
        where.append("c.id IN (SELECT conversation_id FROM conversation_labels WHERE label_id = ?)")
        params.append(criteria.label_id)
    if criteria.created_from is not None:
        where.append("c.created_at >= ?")
        params.append(criteria.created_from)
    if criteria.created_to is not None:
        where.append("c.created_at < ?")
        params.append(criteria.created_to)
    if criteria.rating is not None:
        where.append("s.csat = ?")
        params.append(criteria.rating)
    if criteria.before_id is not None:
        where.append("c.id < ?")
        params.append(criteria.before_id)
    hidden = "" if scope.private else " AND private = 0"
    rows = db.execute(f"""
        SELECT c.id, c.visitor_id, c.status, c.priority, c.department, c.agent_id, a.name AS agent_name,
               c.created_at, c.closed_at, c.resolution, s.csat AS rating, v.name AS visitor_name,
               v.email AS visitor_email,
               (SELECT text FROM messages WHERE conversation_id = c.id AND author = 'visitor' ORDER BY seq LIMIT 1)
                   AS first_question,
               (SELECT count(*) FROM messages WHERE conversation_id = c.id{hidden}) AS message_count
        FROM conversations c
        LEFT JOIN agents a ON a.id = c.agent_id
        LEFT JOIN surveys s ON s.conversation_id = c.id
        LEFT JOIN visitors v ON v.id = c.visitor_id
        WHERE {' AND '.join(where)}
        ORDER BY c.id DESC LIMIT ?""", params + [criteria.limit + 1]).fetchall()
    found = [dict(r) for r in rows]
    if criteria.words:
        for conversation in found:
            conversation["match"] = _first_match(db, conversation["id"], criteria.words, scope.private)
    if scope.visitor_id is not None:
        for conversation in found:          # a visitor's own view: nothing about agents' private work
            conversation.pop("visitor_email")
    return found


def _first_match(db, conversation_id: int, words: tuple[str, ...], private: bool) -> dict | None:
    """The first message of the conversation holding every word: its seq and an excerpt around the first word."""
    hidden = "" if private else " AND private = 0"
    folded = [fold(w) for w in words]
    for row in db.execute(f"SELECT seq, text FROM messages WHERE conversation_id = ?{hidden} ORDER BY seq",
                          [conversation_id]).fetchall():
        tokens = [fold(t) for t in WORD_RE.findall(row["text"])]
        if all(any(t.startswith(w) for t in tokens) for w in folded):
            return {"seq": row["seq"], "excerpt": excerpt(row["text"], words)}
    return None


def excerpt(text: str, words: tuple[str, ...]) -> str:
    """Up to SNIPPET_CHARS of `text` around the first of `words`, with … where it was cut."""
    lowered = text.lower()
    positions = [m.start() for w in words for m in [re.search(r"\b" + re.escape(w), lowered, re.UNICODE)] if m]
    start = max(0, min(positions) - SNIPPET_CHARS // 3) if positions else 0
    end = min(len(text), start + SNIPPET_CHARS)
    return ("…" if start else "") + text[start:end].strip() + ("…" if end < len(text) else "")
