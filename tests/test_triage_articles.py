"""Loading and rendering articles: valid, invalid and duplicate files; Markdown that must render inert."""
import time
from html.parser import HTMLParser

import pytest

from triage import Article, ArticleError, KnowledgeBase, parse_article, render_markdown, serialize_article

VALID = """---
title: Track your order
department: orders
tags: [order, tracking]
questions:
  - Where is my order?
  - How can I track my package?
intent_label: ignored
---
Open the **tracking link** in your shipping email.
"""


def write(folder, name, text):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_parse_valid_article_with_defaults():
    article = parse_article(VALID, "kb/track-order.md")
    assert article.slug == "track-order"
    assert article.title == "Track your order"
    assert article.department == "orders"
    assert article.tags == ["order", "tracking"]
    assert article.questions == ["Where is my order?", "How can I track my package?"]
    assert article.published is True
    assert "<strong>tracking link</strong>" in article.html
    assert article.excerpt == "Open the tracking link in your shipping email."
    assert article.to_dict()["html"] == article.html


def test_parse_explicit_slug_and_draft():
    article = parse_article("---\ntitle: T\nslug: my-slug\npublished: false\n---\nBody", "whatever.md")
    assert article.slug == "my-slug" and article.published is False


@pytest.mark.parametrize("text, reason", [
    ("---\ntitle: [unclosed\n---\nbody", "invalid YAML"),
    ("---\ndepartment: orders\n---\nbody", "missing required 'title'"),
    ("no front matter at all", "missing required 'title'"),
    ("---\ntitle: T\nslug: Not A Slug\n---\n", "invalid slug"),
    ("---\ntitle: T\npublished: maybe\n---\n", "'published'"),
    ("---\ntitle: T\nquestions: {a: 1}\n---\n", "'questions'"),
])
def test_parse_invalid_articles(text, reason):
    with pytest.raises(ArticleError) as excinfo:
        parse_article(text, "bad.md")
    assert reason in excinfo.value.reason


def test_load_reports_bad_files_and_keeps_the_rest(tmp_path):
    write(tmp_path, "track-order.md", VALID)
    write(tmp_path, "bad-yaml.md", "---\ntitle: [oops\n---\nbody")
    write(tmp_path, "no-title.md", "---\ntags: [x]\n---\nbody")
    write(tmp_path, "zz-duplicate.md", "---\ntitle: Another\nslug: track-order\n---\nbody")
    write(tmp_path, "notes.txt", "not an article")
    kb = KnowledgeBase.load(tmp_path)
    assert list(kb.articles) == ["track-order"]
    reasons = {e.path.rsplit("/", 1)[-1]: e.reason for e in kb.errors}
    assert set(reasons) == {"bad-yaml.md", "no-title.md", "zz-duplicate.md"}
    assert "invalid YAML" in reasons["bad-yaml.md"]
    assert "title" in reasons["no-title.md"]
    assert "duplicate slug 'track-order'" in reasons["zz-duplicate.md"]


def test_load_missing_folder_is_empty(tmp_path):
    kb = KnowledgeBase.load(tmp_path / "nope")
    assert kb.articles == {} and kb.errors == [] and kb.suggest("where is my order") == []


@pytest.mark.parametrize("markdown", [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[d](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![i](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<iframe src=\"https://evil.example\"></iframe>",
    "[x](<javascript:alert(1)>)",
    "<div onclick=\"alert(1)\">hi</div>",
])
def test_markdown_renders_inert(markdown):
    tags = inert_check(render_markdown(markdown))
    assert not {"script", "iframe", "div"} & tags


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.elements = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))


def inert_check(html: str) -> set:
    """Parse the HTML as a browser would and fail on anything that could run script."""
    parser = _Elements()
    parser.feed(html)
    for tag, attrs in parser.elements:
        assert tag in {"p", "a", "img", "strong", "em", "code", "pre"}, tag
        assert not [name for name in attrs if name.startswith("on")], attrs
        for name in ("href", "src"):
            url = (attrs.get(name) or "").strip().lower()
            assert not url.startswith(("javascript:", "data:", "vbscript:")), url
    return {tag for tag, _ in parser.elements}


def test_links_get_rel_and_target():
    html = render_markdown("See [returns](https://shop.example/returns) and [track](/kb/track-order).")
    assert 'href="https://shop.example/returns"' in html and 'href="/kb/track-order"' in html
    assert html.count('rel="nofollow noopener"') == 2 and 'target="_blank"' in html


def test_serialize_round_trips():
    article = parse_article(VALID, "track-order.md")
    again = parse_article(serialize_article(article), "other-name.md")
    assert (again.slug, again.title, again.department, again.tags, again.questions, again.body.strip()) == (
        article.slug, article.title, article.department, article.tags, article.questions, article.body.strip())
    text = serialize_article(title="Draft: gift wrap", slug="gift-wrap", body="Soon.", published=False,
                             questions=["Do you gift wrap?"])
    draft = parse_article(text, "gift-wrap.md")
    assert draft.published is False and draft.questions == ["Do you gift wrap?"]


def test_refresh_reindexes_only_changes(tmp_path):
    write(tmp_path, "track-order.md", VALID)
    kb = KnowledgeBase.load(tmp_path)
    assert kb.refresh() is False
    write(tmp_path, "gift-cards.md", "---\ntitle: Gift cards\nquestions: [How do I use a gift card?]\n---\nEnter the code.")
    assert kb.refresh() is True
    assert kb.suggest("how to use my gift card")[0].slug == "gift-cards"
    # A changed file replaces its article; a removed file removes it.
    time.sleep(0.01)
    write(tmp_path, "gift-cards.md", "---\ntitle: Vouchers\nquestions: [Where do I enter a voucher?]\n---\nBody")
    assert kb.refresh() is True
    assert kb.get("gift-cards").title == "Vouchers"
    (tmp_path / "gift-cards.md").unlink()
    assert kb.refresh() is True and kb.get("gift-cards") is None
    assert [s.slug for s in kb.suggest("where is my order")] == ["track-order"]


def test_duplicate_loser_loads_when_winner_goes(tmp_path):
    write(tmp_path, "a.md", "---\ntitle: First\nslug: same\n---\nA")
    write(tmp_path, "b.md", "---\ntitle: Second\nslug: same\n---\nB")
    kb = KnowledgeBase.load(tmp_path)
    assert kb.get("same").title == "First" and len(kb.errors) == 1
    (tmp_path / "a.md").unlink()
    assert kb.refresh() is True
    assert kb.get("same").title == "Second" and kb.errors == []


def test_drafts_are_kept_but_never_suggested(tmp_path):
    write(tmp_path, "draft.md", "---\ntitle: Gift wrapping\npublished: false\nquestions: [Do you gift wrap?]\n---\nSoon")
    kb = KnowledgeBase.load(tmp_path)
    assert kb.get("draft").published is False
    assert kb.suggest("do you gift wrap") == []
    assert kb.search("gift wrap") == []
    assert [s.slug for s in kb.search("gift wrap", include_drafts=True)] == ["draft"]


def test_upsert_and_remove_article():
    kb = KnowledgeBase.from_articles([Article(slug="track-order", title="Track your order",
                                              questions=["Where is my order?"], body="Use the link.")])
    kb.upsert_article(Article(slug="returns", title="Return an item", questions=["How do I send an item back?"],
                              body="Free returns within 30 days."))
    assert kb.suggest("how can I send back an item")[0].slug == "returns"
    assert kb.remove_article("returns") is True and kb.remove_article("returns") is False
    assert kb.suggest("how can I send back an item") == []
