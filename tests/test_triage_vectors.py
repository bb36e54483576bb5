"""Static word vectors: shipped with the package, close words are close, and the index keeps them per question."""
import numpy as np
import pytest

from triage import Article, KnowledgeBase
from triage.vectors import DEFAULT_PATH, WordVectors, shared


@pytest.fixture(scope="module")
def vectors():
    return shared()


def cos(a, b):
    return float(a @ b)


def test_vectors_ship_with_the_package(vectors):
    assert DEFAULT_PATH.is_file()
    assert len(vectors.index) > 30_000 and vectors.vectors.shape == (len(vectors.index), vectors.dim)
    assert vectors.embed(["zzqx", ""]) is None          # nothing known: no vector, not a zero division


@pytest.mark.parametrize("word, near, far", [
    ("refund", "reimbursement", "weather"),
    ("verify", "confirm", "pizza"),
    ("stolen", "theft", "recipe"),
    ("cancel", "terminate", "mountain"),
])
def test_related_words_are_closer_than_unrelated_ones(vectors, word, near, far):
    w = vectors.embed([word])
    assert cos(w, vectors.embed([near])) > cos(w, vectors.embed([far])) + 0.1


def test_embed_many_matches_embed(vectors):
    lists = [["card", "arrive"], [], ["zzqx"], ["refund", "late"]]
    matrix = vectors.embed_many(lists)
    assert matrix.shape == (4, vectors.dim)
    assert np.allclose(matrix[0], vectors.embed(lists[0]), atol=1e-5)
    assert not matrix[1].any() and not matrix[2].any()
    assert np.allclose(matrix[3], vectors.embed(lists[3]), atol=1e-5)


def test_meaning_breaks_a_tie_between_articles_sharing_one_word():
    # Every article shares only "card" with the question; the wording is nearest to losing a card.
    kb = KnowledgeBase.from_articles([
        Article(slug="card-delivery", title="Card delivery",
                questions=["When will my card arrive?", "Has my card been sent?"]),
        Article(slug="card-fees", title="Card fees",
                questions=["How much does the card cost?", "Is there a fee for the card?"]),
        Article(slug="lost-card", title="Lost card", questions=["I lost my card", "My card was stolen"]),
    ])
    assert kb.suggest("I cannot find my card anywhere", threshold=0)[0].slug == "lost-card"


def test_upsert_reembeds_only_the_changed_article():
    kb = KnowledgeBase.from_articles([Article(slug=f"a{i}", title=f"Topic {i}", questions=[f"question about item{i}"])
                                      for i in range(20)])
    before = kb._index.entries["a3"].vectors
    kb.upsert_article(Article(slug="a5", title="Refunds", questions=["where is my refund", "money back please"]))
    entry = kb._index.entries["a5"]
    assert entry.vectors.shape == (len(entry.questions), shared().dim)      # two questions and the title
    assert kb._index.entries["a3"].vectors is before
    assert kb.suggest("my reimbursement has not arrived", threshold=0)[0].slug == "a5"


def test_a_custom_table_can_be_used(tmp_path):
    path = tmp_path / "tiny.npz"
    np.savez(path, words=np.array("parcel\nlate"), vectors=np.array([[100, 0], [0, 100]], dtype=np.int8),
             scale=np.array([0.01, 0.01], dtype=np.float32), weights=np.array([1.0, 0.5], dtype=np.float32))
    tiny = WordVectors.load(path)
    assert tiny.dim == 2 and np.allclose(tiny.embed(["parcel"]), [1, 0])
    assert np.allclose(tiny.embed(["parcel", "late"]), np.array([1.0, 0.5]) / np.hypot(1, 0.5))
