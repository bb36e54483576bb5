"""The gap list grouped by meaning: paraphrases that share few words ("Can I collect my order in person?" and "pick
up my order myself") are one group with its most typical wording, count, trend and closest article; different
requests stay apart; on a real server the report and page show it, and "Start an article" opens the editor
prefilled with the group's wordings."""
from __future__ import annotations

import asyncio
import html
import re

import numpy as np
import pytest

from chatserver import keys
from chatserver.reports import figures
from chatserver.reports.meaning import KnowledgeBaseMeaning
from triage import KnowledgeBase
from triage.encoder import SentenceEncoder
from triage.grouping import group_by_meaning, most_typical

from support.admin_client import AdminClient
from support.server import FIXTURE_KB

DAY = 86400.0
START = 1_700_000_000.0
PERIOD = (START, START + 10 * DAY)

# (wording, times asked early in the range, times asked late)
ASKED = [("Can I collect my order in person?", 2, 9), ("pick up my order myself", 1, 2),
         ("can I come and get my parcel from your warehouse", 0, 1),
         ("do you ship to Canada", 3, 1), ("can you deliver to canada", 2, 0),
         ("is there a physical store I can visit", 1, 1), ("where is your nearest store", 0, 1)]


def unanswered() -> list[dict]:
    out = []
    for text, early, late in ASKED:
        for k in range(early):
            out.append({"text": text, "created_at": START + DAY + k * 60})
        for k in range(late):
            out.append({"text": text, "created_at": START + 8 * DAY + k * 60})
    return [{**q, "id": i, "conversation_id": i, "best_slug": None, "best_score": None} for i, q in enumerate(out)]


@pytest.fixture(scope="module")
def fixture_kb(sentence_vector_cache, tmp_path_factory):
    kb = KnowledgeBase.load(FIXTURE_KB, encoder=SentenceEncoder.load(sentence_vector_cache),
                            cache_dir=tmp_path_factory.mktemp("vectors"))
    kb.embed_now()
    yield kb
    kb.close()


def test_paraphrases_are_one_group_with_its_typical_wording_trend_and_closest_article(fixture_kb):
    gaps = figures.gap_list(unanswered(), KnowledgeBaseMeaning(fixture_kb), PERIOD)
    assert [(g["question"], g["count"]) for g in gaps] == [
        ("Can I collect my order in person?", 15), ("do you ship to Canada", 6),
        ("is there a physical store I can visit", 3)]
    collect, canada, store = gaps
    assert set(collect["examples"]) == {"pick up my order myself", "can I come and get my parcel from your warehouse"}
    assert (collect["trend"], collect["earlier_half"], collect["later_half"]) == ("rising", 3, 12)
    assert (canada["trend"], canada["earlier_half"], canada["later_half"]) == ("falling", 5, 1)
    assert store["trend"] == "steady" and all(g["grouped_by"] == "meaning" for g in gaps)
    best = fixture_kb.search("Can I collect my order in person?", limit=1)[0]
    assert (collect["closest_article"], collect["closest_score"]) == (best.slug, round(best.score, 3))
    assert collect["start_article_url"].startswith("/admin/kb/new?title=Can+I+collect+my+order+in+person%3F")


def test_by_words_alone_the_paraphrases_were_apart():
    """What the gap list did before (and still does without sentence vectors): "pick up my order myself" shares
    too few words with "Can I collect my order in person?"."""
    gaps = figures.gap_list(unanswered(), None, PERIOD)
    labels = [g["question"] for g in gaps]
    assert "Can I collect my order in person?" in labels and "pick up my order myself" in labels
    assert all(g["grouped_by"] == "words" for g in gaps)


def test_grouping_follows_centroids_and_the_typical_member_is_central():
    vectors = np.array([[1, 0, 0], [0.9, 0.44, 0], [0, 1, 0], [0.95, 0.3, 0.1], [0, 0.1, 1]], dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    groups = group_by_meaning(vectors, cutoff=0.8)
    assert groups == [[0, 1, 3], [2], [4]]
    assert most_typical(vectors, groups[0]) == 3
    # A second opinion (string similarity) can join what meaning alone keeps apart.
    assert group_by_meaning(vectors, cutoff=0.8, also=lambda i, j: {i, j} == {2, 0}) == [[0, 1, 2, 3], [4]]


def bot_says(kind):
    return lambda m: m["author"] == "bot" and m["kind"] == kind


async def test_the_report_and_page_group_by_meaning_and_start_an_article(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB)
    kb = server.app[keys.KB]
    assert await asyncio.to_thread(kb.wait_embedded, 60)
    assert await asyncio.to_thread(kb.calibrator.wait_idle, 60)
    for text in ["do you ship to Canada", "do you ship to Canada", "can you deliver to canada",
                 "is there a physical store I can visit", "where is your nearest store"]:
        visitor = await server.visitor()
        await visitor.call("message", {"client_id": "g1", "text": text})
        await visitor.wait_for("message", bot_says("no_match"))
    admin = await AdminClient.login(server)
    try:
        status, report = await admin.call("GET", "/api/reports/gaps")
        assert status == 200
        rows = {g["question"]: g for g in report["gaps"]}
        assert rows["do you ship to Canada"]["count"] == 3 and rows["do you ship to Canada"]["grouped_by"] == "meaning"
        assert rows["do you ship to Canada"]["examples"] == ["can you deliver to canada"]
        # Two wordings asked once each: either is the most typical.
        store = [g for q, g in rows.items() if "store" in q]
        assert len(rows) == 2 and store[0]["count"] == 2, rows
        assert rows["do you ship to Canada"]["closest_article"] and rows["do you ship to Canada"]["closest_score"] > 0
        _, page, _ = await admin.get("/admin/reports")
        links = [html.unescape(u) for u in re.findall(r'<a class="start-article" href="([^"]+)"', page)]
        canada = next(u for u in links if "Canada" in u)
        _, editor, _ = await admin.get(canada)
        assert 'value="do you ship to Canada"' in editor
        assert re.search(r"<textarea[^>]*name=\"questions\"[^>]*>do you ship to Canada\ncan you deliver to canada"
                         r"</textarea>", editor)
    finally:
        await admin.close()
