"""Knowledge-base articles: Markdown files with YAML front matter, parsed, validated and rendered to safe HTML."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import frontmatter
import nh3
import yaml
from markdown_it import MarkdownIt

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
EXCERPT_CHARS = 200

# html=False makes markdown-it escape raw HTML instead of passing it through; nh3 then removes anything that
# still could run (event attributes, javascript:/data: URLs) as a second, independent line of defence.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
_ALLOWED_TAGS = {
    "a", "p", "br", "hr", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead", "tbody", "tr", "th", "td", "img",
}
_ALLOWED_ATTRIBUTES = {"a": {"href", "title", "target"}, "img": {"src", "alt", "title"}, "ol": {"start"},
                       "th": {"style"}, "td": {"style"}}


class ArticleError(ValueError):
    """An article that cannot be loaded: invalid front matter, missing title, bad slug."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class LoadError:
    """One article file that was skipped while loading, and why."""
    path: str
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Article:
    slug: str
    title: str
    body: str = ""
    tags: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)
    department: str | None = None
    published: bool = True
    path: str = ""
    excerpt: str = ""
    _html: str | None = field(default=None, init=False, repr=False, compare=False)
    _plain: str | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self):
        if not self.excerpt:
            self.excerpt = excerpt_of(self.plain)

    @property
    def plain(self) -> str:
        """The body's readable text (for the excerpt and body matching), worked out once."""
        if self._plain is None:
            self._plain = plain_text(self.body)
        return self._plain

    @property
    def html(self) -> str:
        """The body as safe HTML, rendered on first use: loading a large knowledge base does not pay for
        rendering pages that nobody opens (rendering the same body twice gives the same HTML, so a race is
        harmless)."""
        if self._html is None:
            self._html = render_markdown(self.body) if self.body else ""
        return self._html

    def to_dict(self) -> dict:
        values = {k: v for k, v in asdict(self).items() if not k.startswith("_")}
        return {**values, "html": self.html}


def render_markdown(md: str) -> str:
    """Markdown to HTML that never runs script: raw HTML is escaped, links are limited to http(s)/mailto/relative."""
    html = _markdown.render(md or "")
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener",
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )


_PLAIN_DROP = re.compile(r"(```.*?```)|(!\[[^\]]*\]\([^)]*\))", re.S)
_PLAIN_LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_PLAIN_MARKS = re.compile(r"^\s{0,3}(#{1,6}\s+|>\s?|[-*+]\s+|\d+[.)]\s+)|[*_`~|]", re.M)


def plain_text(md: str) -> str:
    """The readable text of a Markdown body (for excerpts and body search)."""
    text = _PLAIN_DROP.sub(" ", md or "")
    text = _PLAIN_LINK.sub(r"\1", text)
    text = _PLAIN_MARKS.sub("", text)
    text = re.sub(r"<[^>]*>", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def make_excerpt(md: str, limit: int = EXCERPT_CHARS) -> str:
    return excerpt_of(plain_text(md), limit)


def excerpt_of(text: str, limit: int = EXCERPT_CHARS) -> str:
    """The start of a plain text, cut at a word."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip(" ,;:.") + "…"


def slug_from_filename(filename: str) -> str:
    stem = Path(filename).stem.lower()
    return re.sub(r"[^a-z0-9]+", "-", stem).strip("-")


def _string_list(value, key: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ArticleError(f"'{key}' must be a list of strings")
    out = []
    for item in value:
        if isinstance(item, (dict, list)) or item is None:
            raise ArticleError(f"'{key}' must be a list of strings")
        text = str(item).strip()
        if text:
            out.append(text)
    return out


def parse_article(text: str, filename: str) -> Article:
    """Parse one article file's text; raises ArticleError with a readable reason when it cannot be used."""
    try:
        post = frontmatter.loads(text)
    except yaml.YAMLError as exc:
        raise ArticleError(f"invalid YAML front matter: {' '.join(str(exc).split())}") from None
    except Exception as exc:  # python-frontmatter can raise other errors on odd input
        raise ArticleError(f"invalid front matter: {exc}") from None
    meta = post.metadata
    if not isinstance(meta, dict):
        raise ArticleError("front matter must be a mapping of keys to values")
    title = meta.get("title")
    if title is None or not str(title).strip():
        raise ArticleError("missing required 'title' in front matter")
    if isinstance(title, (dict, list)):
        raise ArticleError("'title' must be a string")
    raw_slug = meta.get("slug")
    slug = str(raw_slug).strip() if raw_slug not in (None, "") else slug_from_filename(filename)
    if not SLUG_RE.match(slug):
        raise ArticleError(f"invalid slug {slug!r}: use lowercase letters, digits and hyphens")
    department = meta.get("department")
    if department is not None:
        if isinstance(department, (dict, list)):
            raise ArticleError("'department' must be a string")
        department = str(department).strip() or None
    published = meta.get("published", True)
    if not isinstance(published, bool):
        raise ArticleError("'published' must be true or false")
    body = post.content or ""
    return Article(
        slug=slug,
        title=str(title).strip(),
        body=body,
        tags=_string_list(meta.get("tags"), "tags"),
        questions=_string_list(meta.get("questions"), "questions"),
        department=department,
        published=published,
        path=str(filename),
    )


def serialize_article(article: Article | None = None, **fields) -> str:
    """Front matter plus body, ready to write to `kb_articles/<slug>.md` (round-trips through parse_article)."""
    values = asdict(article) if article is not None else {}
    values.update(fields)
    meta: dict = {"title": values["title"]}
    if values.get("slug"):
        meta["slug"] = values["slug"]
    if values.get("department"):
        meta["department"] = values["department"]
    if values.get("tags"):
        meta["tags"] = list(values["tags"])
    if values.get("questions"):
        meta["questions"] = list(values["questions"])
    if not values.get("published", True):
        meta["published"] = False
    head = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000)
    body = (values.get("body") or "").strip("\n")
    return f"---\n{head}---\n\n{body}\n"
