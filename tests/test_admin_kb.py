"""Admin → Knowledge base over HTTP: saving validates with the loader's rules, writes `<slug>.md` atomically into the
article folder (a copy under tmp_path) and the bot uses it at once; invalid input changes nothing on disk; renames
leave no duplicate; the preview is the visitors' rendering; "try it" explains the bot's choice."""
from __future__ import annotations

import pytest

from chatserver import keys
from triage import parse_article, render_markdown

from support.admin_client import field_error, form_of, snapshot

QUESTION = "Can I leave my parcel with the lighthouse keeper?"


async def test_saving_writes_the_file_and_the_bot_uses_it_at_once(kb_desk):
    server, admin, folder = kb_desk
    kb = server.app[keys.KB]
    status, answer = await admin.call("POST", "/admin/kb/try", {"question": QUESTION})
    # No article has this question yet (with sentence meaning the bot may already offer the delivery-address
    # article, on its nearest question "Can you send my parcel to a different address?").
    assert status == 200 and QUESTION not in [s["explanation"]["matched_question"] for s in answer["suggestions"]]

    article = kb.get("change-delivery-address")
    body = article.body + "\n\nNobody home? The driver can leave the parcel with the **lighthouse keeper**.\n"
    status, _, headers = await admin.post_form("/admin/kb/change-delivery-address", form_of(
        article, questions="\r\n".join(article.questions + [QUESTION]), body=body.replace("\n", "\r\n")))
    assert status == 303 and headers["Location"] == "/admin/kb/change-delivery-address?done=saved"

    saved = (folder / "change-delivery-address.md").read_text()
    reparsed = parse_article(saved, "change-delivery-address.md")
    assert reparsed.questions[-1] == QUESTION and "lighthouse keeper" in reparsed.body and "\r" not in saved
    assert (reparsed.title, reparsed.department, reparsed.tags) == (article.title, article.department, article.tags)
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".")]     # no temp file left behind
    assert kb.get("change-delivery-address").questions[-1] == QUESTION

    status, answer = await admin.call("POST", "/admin/kb/try", {"question": QUESTION})
    best = answer["suggestions"][0]
    assert best["slug"] == "change-delivery-address"
    assert best["explanation"]["matched_question"] == QUESTION and "lighthouse" in best["explanation"]["reason"]
    _, page, _ = await admin.get("/admin/kb/change-delivery-address?done=saved")
    assert "Saved. The bot uses this version" in page and "<strong>lighthouse keeper</strong>" in page


@pytest.mark.parametrize("changes, field, message", [
    ({"title": "   "}, "title", "Give the article a title"),
    ({"slug": "Bad Slug!"}, "slug", "lowercase letters"),
    ({"slug": "cancel-order"}, "slug", "already used by the article \"Cancel an order\""),
    ({"slug": "new"}, "slug", "reserved"),
    ({"body": "x" * 100_001}, "body", "at most 100,000 characters"),
    ({"questions": "\n".join(f"question {i}" for i in range(101))}, "questions", "at most 100 questions"),
])
async def test_invalid_input_is_shown_inline_and_changes_nothing_on_disk(kb_desk, changes, field, message):
    server, admin, folder = kb_desk
    before = snapshot(folder)
    article = server.app[keys.KB].get("track-order")
    status, page, _ = await admin.post_form("/admin/kb/track-order", form_of(article, **changes))
    assert status == 400
    assert message in field_error(page, field)
    assert "the article file was not changed" in page
    assert 'aria-invalid="true" aria-describedby="%s-error"' % field in page
    assert snapshot(folder) == before
    assert server.app[keys.KB].get("track-order").title == article.title


async def test_renaming_a_slug_moves_the_file_without_leaving_a_duplicate(kb_desk):
    server, admin, folder = kb_desk
    kb = server.app[keys.KB]
    article = kb.get("gift-cards")
    count = len(kb)
    status, _, headers = await admin.post_form("/admin/kb/gift-cards", form_of(article, slug="gift-vouchers",
                                                                               title="Gift vouchers"))
    assert status == 303 and headers["Location"] == "/admin/kb/gift-vouchers?done=saved"
    assert not (folder / "gift-cards.md").exists() and (folder / "gift-vouchers.md").exists()
    assert kb.get("gift-cards") is None and kb.get("gift-vouchers").title == "Gift vouchers"
    assert len(kb) == count and kb.errors == []
    status, _, _ = await admin.get("/admin/kb/gift-cards")
    assert status == 404
    # A slug whose file exists but does not load (so no article holds the slug) is refused too.
    (folder / "broken.md").write_text("---\ntitle: [unclosed\n---\nbody\n")
    kb.refresh()
    status, page, _ = await admin.post_form("/admin/kb/gift-vouchers", form_of(kb.get("gift-vouchers"), slug="broken"))
    assert status == 400 and "broken.md already exists" in field_error(page, "slug")


async def test_a_new_draft_is_listed_but_never_suggested_until_published(kb_desk):
    server, admin, folder = kb_desk
    fields = {"title": "Lighthouse deliveries", "slug": "", "department": "shipping", "tags": "lighthouse, remote",
              "questions": QUESTION, "body": "We deliver to lighthouses on Tuesdays."}
    status, _, headers = await admin.post_form("/admin/kb/new", fields)                  # unticked: a draft
    assert status == 303 and headers["Location"] == "/admin/kb/lighthouse-deliveries?done=saved"
    assert parse_article((folder / "lighthouse-deliveries.md").read_text(), "x.md").published is False
    _, page, _ = await admin.get("/admin/kb?state=draft")
    assert "Lighthouse deliveries" in page and "Cancel an order" not in page
    _, page, _ = await admin.get("/admin/kb?q=lighthouse")
    assert 'data-slug="lighthouse-deliveries"' in page
    status, answer = await admin.call("POST", "/admin/kb/try", {"question": QUESTION})
    assert "lighthouse-deliveries" not in [s["slug"] for s in answer["suggestions"]]
    drafts = [c for c in answer["closest"] if c["slug"] == "lighthouse-deliveries"]
    assert not drafts or "draft" in drafts[0]["why_not"]

    status, _, _ = await admin.post_form("/admin/kb/lighthouse-deliveries", {**fields, "slug": "lighthouse-deliveries",
                                                                             "published": "on"})
    assert status == 303
    status, answer = await admin.call("POST", "/admin/kb/try", {"question": QUESTION})
    assert answer["suggestions"][0]["slug"] == "lighthouse-deliveries"
    # Creating it again under the same slug is refused.
    status, page, _ = await admin.post_form("/admin/kb/new", {**fields, "slug": "lighthouse-deliveries"})
    assert status == 400 and "already used" in field_error(page, "slug")


async def test_preview_is_the_visitors_sanitised_rendering(kb_desk):
    _, admin, _ = kb_desk
    body = ("# Hi\n\n**bold** <script>alert(1)</script> [x](javascript:alert(1)) "
            "<img src=x onerror=alert(1)>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n")
    status, answer = await admin.call("POST", "/admin/kb/preview", {"body": body})
    assert status == 200 and answer["html"] == render_markdown(body)
    assert "<strong>bold</strong>" in answer["html"] and "<table>" in answer["html"]
    assert "<script" not in answer["html"] and "<img" not in answer["html"] and 'href="javascript' not in answer["html"]
    assert "&lt;script&gt;" in answer["html"]
    status, answer = await admin.call("POST", "/admin/kb/preview", {"body": 5})
    assert (status, answer["error"]) == (400, "invalid_payload")
    status, answer = await admin.call("POST", "/admin/kb/preview", {"body": "x" * 100_001})
    assert (status, answer["error"]) == (400, "text_too_long")


async def test_try_it_explains_why_nothing_was_suggested(kb_desk):
    _, admin, _ = kb_desk
    status, answer = await admin.call("POST", "/admin/kb/try", {"question": "Do you sell lighthouse keepers?"})
    assert status == 200 and answer["suggestions"] == []
    assert all(c["why_not"] for c in answer["closest"])
    status, answer = await admin.call("POST", "/admin/kb/try", {"question": "How do I cancel my order?"})
    assert answer["suggestions"][0]["slug"] == "cancel-order"
    assert answer["suggestions"][0]["explanation"]["reason"].startswith("matches the example question")
    status, answer = await admin.call("POST", "/admin/kb/try", {"question": "  "})
    assert (status, answer["error"]) == (400, "empty_text")


async def test_try_it_answers_with_the_unsaved_draft_and_saves_nothing(kb_desk):
    server, admin, folder = kb_desk
    kb = server.app[keys.KB]
    before = snapshot(folder)
    article = kb.get("change-delivery-address")
    draft = {**form_of(article, questions="\n".join(article.questions + [QUESTION])), "original": article.slug}
    status, answer = await admin.call("POST", "/admin/kb/try", {"question": QUESTION, "draft": draft})
    assert status == 200 and answer["with_draft"] is True, answer
    best = answer["suggestions"][0]
    assert best["slug"] == "change-delivery-address" and best["explanation"]["matched_question"] == QUESTION
    # Nothing was saved or changed: the file, the live knowledge base, and the answer without the draft.
    assert snapshot(folder) == before and QUESTION not in kb.get("change-delivery-address").questions
    status, plain = await admin.call("POST", "/admin/kb/try", {"question": QUESTION})
    assert plain["with_draft"] is False
    assert QUESTION not in [s["explanation"]["matched_question"] for s in plain["suggestions"]]
    # A draft with errors is not used, and the answer says so; a malformed draft is refused.
    status, answer = await admin.call("POST", "/admin/kb/try", {"question": QUESTION,
                                                                 "draft": {**draft, "title": ""}})
    assert answer["with_draft"] is False and answer["draft_not_used"] == "the draft has errors"
    status, answer = await admin.call("POST", "/admin/kb/try", {"question": QUESTION, "draft": ["x"]})
    assert status == 400 and answer["error"] == "invalid_payload", answer
