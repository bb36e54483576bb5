"""Admin → Knowledge base: the article list (search, published/draft), the editor with a live preview rendered by
the same code visitors get (triage.render_markdown), saving to the article folder, and "try it": what the bot would
suggest for a question, and why."""
from __future__ import annotations

import asyncio

from aiohttp import web

from triage import ArticleError, parse_article, render_markdown

from .. import keys, validation
from ..errors import ChatError, Conflict, NotFound
from ..store import article_versions
from ..errors import InvalidFields
from .admin_common import actor, admin_form, admin_json, admin_page, require_admin, wants_json
from ..desk import articles, proposals as proposal_ops
from ..security.redirects import same_site_path
from ..desk.articles import LIMITS, ArticleForm, validate

STATES = ("all", "published", "draft")
TRY_LIMIT = 3
TRY_DRAFT_MAX_ARTICLES = 2_000   # above this, rebuilding a scratch index per question is too slow to feel live
NOTICES = {"deleted": "Article deleted. The bot no longer suggests it; it is listed under Recently deleted.",
           "accepted": "Example question added to the article and saved (see its history); the bot uses it now.",
           "rejected": "Proposal rejected: it will not be proposed again.",
           "proposal_decided": "That proposal was already decided (by another admin, or a second click).",
           "invalid_fields": "The article could not take this question (too many questions?); nothing was saved."}


# -- list -----------------------------------------------------------------------------------------------------

def _matching(kb, query: str) -> list:
    """Articles whose title or slug contains the query first, then the rest of the KB's own ranking."""
    articles = sorted(list(kb.articles.values()), key=lambda a: a.title.lower())
    if not query:
        return articles
    needle = query.lower()
    direct = [a for a in articles if needle in a.title.lower() or needle in a.slug]
    ranked = [kb.get(s.slug) for s in kb.search(query, limit=50, include_drafts=True)]
    return direct + [a for a in ranked if a is not None and a not in direct]


async def kb_page(request: web.Request) -> web.Response:
    await require_admin(request)
    kb = request.app[keys.KB]
    query = request.query.get("q", "").strip()[:200]
    state = request.query.get("state", "all")
    state = state if state in STATES else "all"
    found = await asyncio.get_running_loop().run_in_executor(None, _matching, kb, query)
    if state != "all":
        found = [a for a in found if a.published == (state == "published")]
    counts = {"published": sum(1 for a in list(kb.articles.values()) if a.published)}
    counts["draft"] = len(kb) - counts["published"]
    deleted = [v for v in await request.app[keys.STORE].read(article_versions.deleted) if kb.get(v["slug"]) is None]
    return admin_page(request, "admin_kb.html", section="kb", articles=found, query=query, state=state,
                      states=STATES, counts=counts, load_errors=list(kb.errors), deleted=deleted,
                      threshold=kb.threshold_status(),
                      proposals_waiting=len(await proposal_ops.waiting(request.app[keys.DESK])),
                      notice=NOTICES.get(request.query.get("done", "")))


# -- editor ---------------------------------------------------------------------------------------------------

def _original(request: web.Request):
    slug = request.match_info.get("slug")
    if slug is None:
        return None
    article = request.app[keys.KB].get(slug)
    if article is None:
        raise web.HTTPNotFound(text="No such article")
    return article


async def _editor(request: web.Request, draft: ArticleForm, original, status: int = 200,
                  **context) -> web.Response:
    kb = request.app[keys.KB]
    departments = sorted({a.department for a in list(kb.articles.values()) if a.department}, key=str.lower)
    versions = await request.app[keys.STORE].read(article_versions.history, original.slug) if original else []
    waiting = await proposal_ops.waiting(request.app[keys.DESK], original.slug) if original else []
    context.setdefault("notice", NOTICES.get(request.query.get("done", "")))
    return admin_page(request, "admin_kb_edit.html", status=status, section="kb", draft=draft, original=original,
                      proposals=waiting,
                      preview_html=render_markdown(draft.body), departments=departments, limits=LIMITS,
                      errors=context.pop("errors", {}), saved=request.query.get("done") == "saved",
                      versions=versions, **context)


async def _version_draft(request: web.Request) -> tuple[ArticleForm | None, dict | None]:
    """The editor's fields filled from an earlier version (?version=ID), to look at or to save as the new one."""
    raw = request.query.get("version")
    if raw is None:
        return None, None
    if not (raw.isdigit() and len(raw) <= 15):
        raise web.HTTPBadRequest(text="version must be a number")
    try:
        version = await request.app[keys.STORE].read(article_versions.get, int(raw))
    except NotFound:
        raise web.HTTPNotFound(text="No such article version") from None
    try:
        draft = ArticleForm.from_article(parse_article(version["text"], f"{version['slug']}.md"))
    except ArticleError:
        draft = ArticleForm(slug=version["slug"], body=version["text"], published=False)
    return draft, version


def _gap_draft(request: web.Request) -> ArticleForm | None:
    """A new article prefilled from the gap list (?title=&questions=, one question a line): a draft to edit, never
    saved as it is. Lengths are cut to the editor's limits; saving validates as always."""
    if "title" not in request.query and "questions" not in request.query:
        return None
    questions = [q.strip()[:articles.QUESTION_CHARS] for q in request.query.get("questions", "").splitlines()
                 if q.strip()][:articles.QUESTIONS]
    return ArticleForm(title=request.query.get("title", "").strip()[:LIMITS["title"]],
                       questions="\n".join(questions), published=False)


async def new_article_page(request: web.Request) -> web.Response:
    await require_admin(request)
    draft, version = await _version_draft(request)
    return await _editor(request, draft or _gap_draft(request) or ArticleForm(published=False), None,
                         version=version)


async def article_page(request: web.Request) -> web.Response:
    await require_admin(request)
    original = _original(request)
    draft, version = await _version_draft(request)
    if version is not None and version["slug"] != original.slug and not any(
            v["id"] == version["id"] for v in await request.app[keys.STORE].read(article_versions.history,
                                                                                original.slug)):
        raise web.HTTPNotFound(text="That version belongs to another article")
    return await _editor(request, draft or ArticleForm.from_article(original), original, version=version)


async def save_article_form(request: web.Request) -> web.Response:
    """Validate with the loader's rules; on any error show it inline and leave the disk alone. Each save is kept in
    the article's history (with the on-disk text it replaced, if the history did not have it yet)."""
    admin, form = await admin_form(request)
    original = _original(request)
    draft = ArticleForm.from_form(form)
    try:
        article = await articles.save_article(request.app[keys.DESK], admin["email"], draft, original,
                                              actor=actor(request, admin))
    except InvalidFields as exc:
        return await _editor(request, draft, original, status=400, errors=exc.errors)
    except (ChatError, OSError) as exc:
        message = exc.message if isinstance(exc, ChatError) else f"could not write the article file: {exc.strerror}"
        return await _editor(request, draft, original, status=500, errors={"form": message})
    raise web.HTTPSeeOther(f"/admin/kb/{article.slug}?done=saved")


async def delete_article_form(request: web.Request) -> web.Response:
    """Remove the article's file; its text is kept in the history first, so it can be brought back."""
    admin, _ = await admin_form(request)
    original = _original(request)
    try:
        await articles.delete_article(request.app[keys.DESK], admin["email"], original, actor(request, admin))
    except (ChatError, OSError) as exc:
        message = exc.message if isinstance(exc, ChatError) else f"could not delete the article file: {exc.strerror}"
        return await _editor(request, ArticleForm.from_article(original), original, status=500,
                             errors={"form": message})
    raise web.HTTPSeeOther("/admin/kb?done=deleted")


# -- preview and "try it" (JSON, called by admin.js) -------------------------------------------------------

async def preview(request: web.Request) -> web.Response:
    """POST /admin/kb/preview {body}: the body as visitors will see it (sanitised HTML)."""
    _, payload = await admin_json(request)
    body = payload.get("body", "")
    if not isinstance(body, str):
        raise InvalidFields({"body": "'body' must be a string"})
    if len(body) > LIMITS["body"]:
        raise InvalidFields({"body": f"at most {LIMITS['body']:,} characters"}, code="text_too_long")
    html = await asyncio.get_running_loop().run_in_executor(None, render_markdown, body)
    return web.json_response({"ok": True, "html": html})


def _card(suggestion, kb) -> dict:
    article = kb.get(suggestion.slug)
    return {**suggestion.to_dict(), "published": bool(article and article.published)}


def _why_not(card: dict, threshold: float) -> str:
    explanation = card["explanation"]
    if not card["published"]:
        return "it is a draft: drafts are never suggested"
    if explanation.get("via") == "body":
        return "only the article text matches; the bot suggests articles whose title or example questions match"
    return (f"confidence {explanation.get('confidence', 0):.2f} is below the bot's threshold {threshold:.2f}: "
            f"add an example question worded like this one")


def _draft_article(payload: dict, kb) -> tuple[object, str | None, str | None]:
    """(the article the editor's unsaved fields describe, the slug it replaces, None), or (None, None, why not)
    when there is no usable draft: "try it" then answers from the saved articles and says why."""
    fields = payload.get("draft")
    if fields is None:
        return None, None, None
    if not isinstance(fields, dict):
        raise InvalidFields({"draft": "'draft' must be an object of the editor's fields"})
    if len(kb) > TRY_DRAFT_MAX_ARTICLES:
        return None, None, f"the knowledge base has more than {TRY_DRAFT_MAX_ARTICLES:,} articles"
    # The editor's own form parser, so a draft is read exactly as a save would read it.
    draft = ArticleForm.from_form({**fields, "published": "on" if fields.get("published") else ""})
    original = kb.get(fields["original"]) if isinstance(fields.get("original"), str) else None
    try:
        _, article = validate(draft, kb, original)
    except InvalidFields:
        return None, None, "the draft has errors"
    return article, original.slug if original else None, None


async def try_question(request: web.Request) -> web.Response:
    """POST /admin/kb/try {question, draft?}: the bot's suggestions for it, with its reasons; with `draft` (the
    editor's unsaved fields) as if that article were saved. When it would suggest nothing, the closest articles and
    why they fell short."""
    _, payload = await admin_json(request)
    question = validation.text(payload, "question", 500)
    live = request.app[keys.KB]
    loop = asyncio.get_running_loop()
    draft, replaces, not_used = _draft_article(payload, live)
    kb = await loop.run_in_executor(None, live.with_draft, draft, replaces) if draft else live
    try:
        suggested = await loop.run_in_executor(None, lambda: kb.suggest(question, limit=TRY_LIMIT))
        cards = [_card(s, kb) for s in suggested]
        closest = []
        if not cards:
            found = await loop.run_in_executor(None, lambda: kb.search(question, limit=TRY_LIMIT,
                                                                        include_drafts=True))
            closest = [{**card, "why_not": _why_not(card, kb.threshold)} for card in (_card(s, kb) for s in found)]
    finally:
        if kb is not live:
            await loop.run_in_executor(None, kb.close)
    return web.json_response({"ok": True, "question": question, "threshold": live.threshold,
                              "with_draft": draft is not None, "draft_not_used": not_used,
                              "suggestions": cards, "closest": closest})


# -- proposed example questions (learned from solved chats) ----------------------------------------------------

async def proposals_page(request: web.Request) -> web.Response:
    await require_admin(request)
    kb = request.app[keys.KB]
    waiting = await proposal_ops.waiting(request.app[keys.DESK])
    titles = {p["slug"]: kb.get(p["slug"]).title for p in waiting if kb.get(p["slug"]) is not None}
    return admin_page(request, "admin_kb_proposals.html", section="kb", proposals=waiting, titles=titles,
                      notice=NOTICES.get(request.query.get("done", "")))


def _proposal_id(request: web.Request) -> int:
    raw = request.match_info["proposal_id"]
    if not (raw.isdigit() and len(raw) <= 15):
        raise NotFound("no such proposed example question", code="proposal_not_found")
    return int(raw)


async def decide_proposal(request: web.Request) -> web.Response:
    """POST /admin/kb/proposals/{id}/accept|reject (a form: back to `next` with a notice; or JSON with
    Accept: application/json, and POST /api/admin/proposals/{id}/accept|reject)."""
    as_json = wants_json(request)
    if as_json:
        admin, fields = await admin_json(request)
    else:
        admin, fields = await admin_form(request)
    action = request.match_info["action"]
    desk = request.app[keys.DESK]
    operation = proposal_ops.accept if action == "accept" else proposal_ops.reject
    back = same_site_path(fields.get("next"), "/admin/kb/proposals")
    try:
        proposal = await operation(desk, admin["email"], _proposal_id(request))
    except (Conflict, InvalidFields) as exc:
        if as_json:
            raise
        code = "proposal_decided" if isinstance(exc, Conflict) else "invalid_fields"
        raise web.HTTPSeeOther(f"{back}?done={code}") from None
    except NotFound:
        if as_json:
            raise
        raise web.HTTPNotFound(text="No such proposed example question") from None
    if as_json:
        return web.json_response({"ok": True, "proposal": proposal})
    raise web.HTTPSeeOther(f"{back}?done={'accepted' if action == 'accept' else 'rejected'}")


async def proposals_api(request: web.Request) -> web.Response:
    """GET /api/admin/proposals[?slug=]: the proposals waiting for review."""
    await require_admin(request)
    slug = request.query.get("slug")
    return web.json_response({"ok": True, "proposals": await proposal_ops.waiting(request.app[keys.DESK], slug)})


def setup(app: web.Application) -> None:
    app.router.add_get("/admin/kb/proposals", proposals_page)
    app.router.add_post(r"/admin/kb/proposals/{proposal_id}/{action:accept|reject}", decide_proposal)
    app.router.add_get("/api/admin/proposals", proposals_api)
    app.router.add_post(r"/api/admin/proposals/{proposal_id}/{action:accept|reject}", decide_proposal)
    app.router.add_get("/admin/kb", kb_page)
    app.router.add_post("/admin/kb/preview", preview)
    app.router.add_post("/admin/kb/try", try_question)
    app.router.add_get("/admin/kb/new", new_article_page)
    app.router.add_post("/admin/kb/new", save_article_form)
    app.router.add_get("/admin/kb/{slug}", article_page)
    app.router.add_post("/admin/kb/{slug}", save_article_form)
    app.router.add_post("/admin/kb/{slug}/delete", delete_article_form)
