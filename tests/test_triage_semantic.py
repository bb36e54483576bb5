"""Sentence meaning: the packaged encoder, paraphrases with no shared word, the persistent vector cache (restart,
one edited article), the background thread and the fallback to the lexical matcher until vectors are in."""
import threading
from pathlib import Path

import numpy as np
import pytest

from triage import Article, KnowledgeBase
from triage.encoder import EncoderUnavailable, SentenceEncoder

ROOT = Path(__file__).resolve().parent.parent

ARTICLES = [
    Article(slug="cancel-subscription", title="Cancel a subscription",
            questions=["How do I cancel my subscription?", "Stop my monthly plan"]),
    Article(slug="reset-password", title="Reset your password",
            questions=["I forgot my password", "How do I change my password?"]),
    Article(slug="track-order", title="Track your order", questions=["Where is my parcel?", "My order has not arrived yet"]),
    Article(slug="card-fees", title="Card fees", questions=["How much does the card cost?", "Is there a fee for the card?"]),
]
TEXTS = sum(len(a.questions) + 1 for a in ARTICLES)          # the title is embedded too
# No word in common with any article, even after normalisation and the synonym table.
PARAPHRASES = [("terminate the membership", "cancel-subscription"),
               ("when will the shipment get here", "track-order")]


@pytest.fixture(scope="module")
def encoder(sentence_vector_cache):
    return SentenceEncoder.load(sentence_vector_cache)


def ranking(kb, text):
    return [(s.slug, s.score) for s in kb.suggest(text, threshold=0)]


def test_the_packaged_model_embeds_sentences_by_meaning(encoder):
    vectors = encoder.embed(["My parcel has not arrived", "Where is my package?", "What is the capital of France?"])
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3
    assert encoder.embed([]).shape == (0, 384)
    assert encoder.model_id.startswith("all-MiniLM-L6-v2-int8-dynamic:")


@pytest.mark.parametrize("text, slug", PARAPHRASES)
def test_paraphrase_with_no_shared_word_is_matched_once_embedded(tmp_path, encoder, text, slug):
    kb = KnowledgeBase.from_articles(ARTICLES, encoder=encoder, cache_dir=tmp_path)
    assert kb.suggest(text) == []                       # the lexical matcher alone finds nothing
    assert kb.embed_now() == len(ARTICLES)
    found = kb.suggest(text)
    assert found and found[0].slug == slug
    explanation = found[0].explanation
    assert explanation["via"] == "meaning" and explanation["matched_words"] == []
    article = next(a for a in ARTICLES if a.slug == slug)
    assert explanation["nearest_in_meaning"] in article.questions + [article.title]
    assert explanation["matched_question"] == explanation["nearest_in_meaning"]
    assert f'close in meaning to the example question "{explanation["nearest_in_meaning"]}"' == explanation["reason"]
    assert 0.5 < explanation["meaning_similarity"] <= 1
    kb.close()


def test_before_the_vectors_are_in_it_ranks_exactly_as_without_an_encoder(tmp_path, encoder):
    plain = KnowledgeBase.from_articles(ARTICLES)
    kb = KnowledgeBase.from_articles(ARTICLES, encoder=encoder, cache_dir=tmp_path)
    for text in ["where is my parcel", "I forgot my password", "card fee", "terminate the membership"]:
        assert ranking(kb, text) == ranking(plain, text)
        assert all("nearest_in_meaning" not in s.explanation for s in kb.suggest(text, threshold=0))
    assert kb.embedding_status()["ready"] is False and kb.embedding_status()["pending"] == len(ARTICLES)
    kb.close()


def test_cache_is_reused_after_a_restart(tmp_path, encoder):
    first = KnowledgeBase.from_articles(ARTICLES, encoder=encoder, cache_dir=tmp_path)
    first.embed_now()
    assert first.embedding_status()["encoded"] == TEXTS
    before = {text: ranking(first, text) for text, _ in PARAPHRASES}
    first.close()
    assert (tmp_path / "sentence_vectors.sqlite").is_file()

    restarted = KnowledgeBase.from_articles(ARTICLES, encoder=SentenceEncoder.load, cache_dir=tmp_path)
    restarted.embed_now()
    status = restarted.embedding_status()
    assert status["ready"] and status["encoded"] == 0 and status["from_cache"] == TEXTS
    assert {text: ranking(restarted, text) for text, _ in PARAPHRASES} == before
    restarted.close()


def test_an_edited_article_alone_is_re_embedded(tmp_path, encoder):
    kb = KnowledgeBase.from_articles(ARTICLES, encoder=encoder, cache_dir=tmp_path)
    kb.embed_now()
    semantic = kb._index.semantic
    others = {slug: semantic.questions.matrix[rows].copy() for slug, rows in semantic.rows.items() if slug != "card-fees"}
    edited = Article(slug="card-fees", title="Card fees",
                     questions=["How much does the card cost?", "Is there a fee for the card?",
                                "Do you charge for sending money abroad?"])
    kb.upsert_article(edited)
    assert semantic.pending == {"card-fees": tuple(edited.questions + [edited.title])}
    assert kb.embed_now() == 1
    status = kb.embedding_status()
    assert status["encoded"] == TEXTS + 1           # only the new question went through the encoder
    for slug, vectors in others.items():
        assert np.array_equal(semantic.questions.matrix[semantic.rows[slug]], vectors)
    found = kb.suggest("how much does it cost to send money to another country")
    assert found and found[0].slug == "card-fees"
    assert found[0].explanation["nearest_in_meaning"] == "Do you charge for sending money abroad?"
    kb.remove_article("card-fees")
    assert "card-fees" not in semantic.rows and "card-fees" not in semantic.questions.owner + semantic.articles.owner
    kb.close()


def test_a_file_edited_on_disk_is_re_embedded_alone_on_refresh(tmp_path, encoder):
    folder = tmp_path / "kb"
    folder.mkdir()
    for article in ARTICLES:
        (folder / f"{article.slug}.md").write_text(
            f"---\ntitle: {article.title}\nquestions: {article.questions!r}\n---\nBody of {article.slug}.\n")
    kb = KnowledgeBase.load(folder, encoder=encoder, cache_dir=tmp_path / "cache")
    kb.embed_now()
    (folder / "track-order.md").write_text("---\ntitle: Track your order\nquestions: ['Where is my parcel?', "
                                           "'Has my delivery been dispatched?']\n---\nBody.\n")
    assert kb.refresh()
    assert list(kb._index.semantic.pending) == ["track-order"]
    kb.embed_now()
    assert kb.embedding_status()["encoded"] == TEXTS + 1
    kb.close()


def test_background_thread_embeds_and_then_follows_changes(tmp_path, encoder):
    kb = KnowledgeBase.from_articles(ARTICLES, encoder=SentenceEncoder.load, cache_dir=tmp_path)
    kb.start_embedding()
    assert kb.wait_embedded(timeout=120)
    assert kb.suggest("terminate the membership")[0].slug == "cancel-subscription"
    kb.upsert_article(Article(slug="gift-cards", title="Gift cards", questions=["Can I buy a gift card?"]))
    for _ in range(1200):
        if kb.embedding_status()["pending"] == 0:
            break
        threading.Event().wait(0.05)
    assert kb.embedding_status()["pending"] == 0
    assert "gift-cards" in kb._index.semantic.rows
    kb.close()
    assert not any(t.name == "triage-embedding" and t.is_alive() for t in threading.enumerate())


def test_an_encoder_that_cannot_load_leaves_the_lexical_matcher(tmp_path):
    def broken(cache_dir):
        raise EncoderUnavailable("no model here")

    kb = KnowledgeBase.from_articles(ARTICLES, encoder=broken, cache_dir=tmp_path)
    kb.start_embedding()
    assert kb.wait_embedded(timeout=30) is False
    status = kb.embedding_status()
    assert "no model here" in status["error"] and status["ready"] is False
    assert kb.suggest("where is my parcel")[0].slug == "track-order"
    kb.close()


def test_sample_kb_examples_map_back_with_sentence_meaning(tmp_path, encoder):
    kb = KnowledgeBase.load(ROOT / "kb_articles", encoder=encoder, cache_dir=tmp_path)
    kb.embed_now()
    assert kb.embedding_status()["ready"]
    for slug, article in kb.articles.items():
        for question in article.questions:
            found = kb.suggest(question, limit=1)
            assert found and found[0].slug == slug, (question, [s.slug for s in found])
    kb.close()
