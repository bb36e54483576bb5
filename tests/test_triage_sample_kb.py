"""The shipped sample knowledge base: loads cleanly, covers the shop's departments, and its questions map back."""
from pathlib import Path

import pytest

from triage import KnowledgeBase

ROOT = Path(__file__).resolve().parent.parent
DEPARTMENTS = {"orders", "shipping", "returns", "billing", "account", "privacy", "products"}


@pytest.fixture(scope="module")
def kb():
    return KnowledgeBase.load(ROOT / "kb_articles")


def test_all_articles_load(kb):
    assert kb.errors == []
    assert len(kb.articles) >= 30


def test_every_article_is_complete(kb):
    for slug, article in kb.articles.items():
        assert Path(article.path).name == f"{slug}.md"
        assert 4 <= len(article.questions) <= 8, slug
        assert article.department in DEPARTMENTS, slug
        assert article.published and article.excerpt and len(article.body) > 200, slug
    assert {a.department for a in kb.articles.values()} == DEPARTMENTS


def test_example_questions_map_back_to_their_article(kb):
    for slug, article in kb.articles.items():
        for question in article.questions:
            found = kb.suggest(question, limit=1)
            assert found and found[0].slug == slug, (question, [s.slug for s in found])
