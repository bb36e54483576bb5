"""Proposed example questions (learned from solved chats, desk/learning.py) as admins review them: accept writes
the question into the article's front matter through the editor's own save path (validation, atomic write,
re-index, history), so the bot uses it at once; reject keeps it on record so it is never proposed again."""
from __future__ import annotations

import time

from ..errors import Conflict, NotFound
from ..store import proposals as proposal_queries
from .articles import ArticleForm, save_article


async def waiting(desk, slug: str | None = None) -> list[dict]:
    """Proposals not decided yet, of one article or all, the most often seen first (articles gone are skipped)."""
    found = await desk.store.read(proposal_queries.waiting, slug)
    return [p for p in found if desk.kb.get(p["slug"]) is not None]


async def accept(desk, admin_email: str, proposal_id: int) -> dict:
    """Add the proposal to its article's example questions (saved like an editor save, in its history)."""
    proposal = await desk.store.read(proposal_queries.get, proposal_id)
    if proposal["status"] != "proposed":
        raise Conflict(f"this example question was already {proposal['status']}", code="proposal_decided")
    article = desk.kb.get(proposal["slug"])
    if article is None:
        raise NotFound("the article of this proposal no longer exists", code="article_not_found")
    draft = ArticleForm.from_article(article)
    draft.questions = "\n".join([*article.questions, proposal["text"]])
    decided = {}

    def mark(db, now):
        decided["proposal"], _ = proposal_queries.decide(db, proposal_id, "accepted", admin_email, now)

    await save_article(desk, admin_email, draft, article, also=mark)
    return decided["proposal"]


async def reject(desk, admin_email: str, proposal_id: int) -> dict:
    """Never propose this question for this article again."""
    proposal, changed = await desk.store.write(proposal_queries.decide, proposal_id, "rejected", admin_email,
                                               time.time())
    if not changed:
        raise Conflict(f"this example question was already {proposal['status']}", code="proposal_decided")
    return proposal
