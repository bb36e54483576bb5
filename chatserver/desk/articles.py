"""Editing knowledge-base articles (the admin editor and the API): form values → validated article file → written
atomically into the article folder → picked up by the knowledge base at once; every save, rename and delete is
kept in the article's history, so an earlier version can be restored (saved again).

Validation is the loader's own (triage.parse_article on the exact text that will be written), so the editor can
never save a file the bot would refuse. Nothing here touches the disk until every check has passed.
"""
from __future__ import annotations

import asyncio
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from triage import Article, ArticleError, KnowledgeBase, parse_article, serialize_article
from triage.articles import SLUG_RE, slug_from_filename

from ..errors import ChatError, InvalidFields
from ..store import article_versions
from . import audit

# Paths under /admin/kb/ that are pages or endpoints, not articles.
RESERVED_SLUGS = {"new", "preview", "try", "proposals"}
# Characters per text field, and how many tags / example questions of how many characters each.
LIMITS = {"title": 200, "slug": 120, "department": 40, "body": 100_000}
TAGS, TAG_CHARS, QUESTIONS, QUESTION_CHARS = 30, 40, 100, 300
SLUG_HELP = "use lowercase letters, digits and single hyphens (like 'cancel-an-order')"
FIELDS = ("title", "slug", "department", "tags", "questions", "published", "body")


@dataclass
class ArticleForm:
    """The editor's fields as typed: tags comma-separated, example questions one per line."""
    title: str = ""
    slug: str = ""
    department: str = ""
    tags: str = ""
    questions: str = ""
    published: bool = True
    body: str = ""

    @classmethod
    def from_form(cls, form) -> "ArticleForm":
        def text(name: str) -> str:
            value = form.get(name, "")
            return value.replace("\r\n", "\n").replace("\r", "\n") if isinstance(value, str) else ""
        return cls(title=text("title").strip(), slug=text("slug").strip(), department=text("department").strip(),
                   tags=text("tags"), questions=text("questions"), published=form.get("published") == "on",
                   body=text("body"))

    @classmethod
    def from_article(cls, article: Article) -> "ArticleForm":
        return cls(title=article.title, slug=article.slug, department=article.department or "",
                   tags=", ".join(article.tags), questions="\n".join(article.questions),
                   published=article.published, body=article.body)

    def tag_list(self) -> list[str]:
        return [t.strip() for t in self.tags.split(",") if t.strip()]

    def question_list(self) -> list[str]:
        return [q.strip() for q in self.questions.split("\n") if q.strip()]


def _limits(draft: ArticleForm) -> dict[str, str]:
    errors = {}
    for name in FIELDS:
        value = getattr(draft, name)
        if isinstance(value, str) and "\x00" in value:
            errors[name] = "must not contain NUL characters"
        elif isinstance(value, str) and name in LIMITS and len(value) > LIMITS[name]:
            errors[name] = f"at most {LIMITS[name]:,} characters"
    tags, questions = draft.tag_list(), draft.question_list()
    if "tags" not in errors and (len(tags) > TAGS or any(len(t) > TAG_CHARS for t in tags)):
        errors["tags"] = f"at most {TAGS} tags of up to {TAG_CHARS} characters"
    if "questions" not in errors and (len(questions) > QUESTIONS or any(len(q) > QUESTION_CHARS for q in questions)):
        errors["questions"] = f"at most {QUESTIONS} questions of up to {QUESTION_CHARS} characters"
    return errors


def _field_of(reason: str) -> str:
    """Which form field a loader error is about (the rest is shown above the form)."""
    for name in ("title", "slug", "department", "tags", "questions", "published"):
        if name in reason:
            return name
    return "form"


def validate(draft: ArticleForm, kb: KnowledgeBase, original: Article | None) -> tuple[str, Article]:
    """The file text to write and the article it parses to; raises InvalidFields with every problem found.
    A missing slug is derived from the title, as the loader derives it from the file name."""
    errors = _limits(draft)
    if errors:
        raise InvalidFields(errors, code="text_too_long")
    if not draft.slug:
        draft.slug = slug_from_filename(draft.title + ".md")
    # The loader stops at its first complaint; these two are checked up front so both show at once.
    if not draft.title:
        errors["title"] = "Give the article a title: visitors see it first, in the suggestions and on the page."
    if SLUG_RE.match(draft.slug) is None:
        errors["slug"] = SLUG_HELP
    elif draft.slug in RESERVED_SLUGS:
        errors["slug"] = f"'{draft.slug}' is reserved for the admin pages; choose another slug"
    if errors:
        raise InvalidFields(errors)
    text = serialize_article(title=draft.title, slug=draft.slug, department=draft.department or None,
                             tags=draft.tag_list(), questions=draft.question_list(), published=draft.published,
                             body=draft.body)
    try:
        article = parse_article(text, f"{draft.slug}.md")
    except ArticleError as exc:
        raise InvalidFields({_field_of(exc.reason): exc.reason}) from None
    other = kb.get(article.slug)
    if other is not None and (original is None or other.slug != original.slug):
        raise InvalidFields({"slug": f"'{article.slug}' is already used by the article \"{other.title}\""})
    return text, article


def target_path(kb: KnowledgeBase, slug: str) -> Path:
    return kb.folder / f"{slug}.md"


def write_atomically(target: Path, text: str) -> None:
    """Write to a hidden temp file in the same folder, fsync, then os.replace: readers (the poller, the loader
    after a crash) see the old file or the new one, never half of one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    previous = target.stat() if target.exists() else None
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, previous.st_mode & 0o777 if previous else 0o644)
        written = os.stat(tmp)
        if previous and (written.st_mtime, written.st_size) == (previous.st_mtime, previous.st_size):
            # The knowledge base notices changes by (mtime, size): make sure this one differs.
            os.utime(tmp, ns=(written.st_atime_ns, previous.st_mtime_ns + 1_000_000))
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    try:
        dir_fd = os.open(target.parent, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def save(kb: KnowledgeBase, text: str, article: Article, original: Article | None) -> Article:
    """Blocking (run it in a thread): write `<slug>.md`, remove the old file after a rename, and reload the changed
    files so the bot's very next suggestion uses this version. Returns the article as the knowledge base holds it."""
    target = target_path(kb, article.slug)
    old_path = Path(original.path) if original is not None and original.path else None
    if target.exists() and (old_path is None or not old_path.exists() or not target.samefile(old_path)):
        raise InvalidFields({"slug": f"a file named {target.name} already exists in the article folder"})
    write_atomically(target, text)
    if old_path is not None and old_path.exists() and not old_path.samefile(target):
        old_path.unlink()
    kb.refresh()
    loaded = kb.get(article.slug)
    if loaded is None or Path(loaded.path) != target:
        reason = next((e.reason for e in kb.errors if Path(e.path) == target), "the knowledge base did not load it")
        raise ChatError(f"saved {target.name}, but it was not loaded: {reason}", code="article_not_loaded")
    return loaded


def current_text(article: Article | None) -> tuple[str | None, float | None]:
    """The article file's text as it is on disk now and its modification time (None, None when there is none)."""
    if article is None or not article.path:
        return None, None
    path = Path(article.path)
    try:
        return path.read_text(encoding="utf-8"), path.stat().st_mtime
    except OSError:
        return None, None


def delete(kb: KnowledgeBase, article: Article) -> None:
    """Blocking: remove the article's file and reload, so the bot stops suggesting it at once."""
    Path(article.path).unlink(missing_ok=True)
    kb.refresh()
    if kb.get(article.slug) is not None:
        raise ChatError(f"deleted {Path(article.path).name}, but another file still defines '{article.slug}'",
                        code="article_not_deleted")


async def save_article(desk, author_email: str, draft: ArticleForm, original: Article | None,
                       *, also=None, actor: audit.Actor | None = None) -> Article:
    """Create, edit, rename or restore (an earlier version's fields) an article. Validated with the loader's rules;
    on any error nothing touches the disk. The history keeps the on-disk text it replaced, if it lacked it.
    `also(db)` runs in the history's transaction (an accepted proposal is marked there)."""
    kb = desk.kb
    async with desk.article_lock:      # one save at a time: validation and the write see the same folder
        text, article = validate(draft, kb, original)
        replaced, replaced_at = await asyncio.to_thread(current_text, original)
        saved = await asyncio.to_thread(save, kb, text, article, original)
        action = "created" if original is None else "renamed" if original.slug != article.slug else "saved"
        changes = {"slug": [original.slug if original else None, article.slug],
                   "title": [original.title if original else None, article.title],
                   "published": [original.published if original else None, article.published]}

        def record(db, now):
            article_versions.record(db, article.slug, action, text, author_email, now, replaced,
                                    original.slug if original else None, replaced_at)
            if also is not None:
                also(db, now)

        write = audit.audited(record, actor, f"article.{action}", "article",
                              lambda _: (article.slug, {k: v for k, v in changes.items() if v[0] != v[1]}))
        await desk.store.write(write, time.time())
    return saved


async def delete_article(desk, author_email: str, original: Article, actor: audit.Actor | None = None) -> None:
    """Remove the article's file; its text is kept in the history first, so it can be brought back."""
    async with desk.article_lock:
        text, _ = await asyncio.to_thread(current_text, original)
        if text is None:
            raise ChatError("the article file could not be read, so it was not deleted", code="storage_error")
        write = audit.audited(article_versions.record, actor, "article.deleted", "article",
                              lambda _: (original.slug, {"title": [original.title, None]}))
        await desk.store.write(write, original.slug, "deleted", text, author_email, time.time())
        await asyncio.to_thread(delete, desk.kb, original)
