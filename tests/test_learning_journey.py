"""Learning from solved chats over real sockets: "helpful" and an agent's "send article" propose the visitor's
question for the article (counted per conversation, personal data never learned); accepting one writes it into the
article file through the editor's save path and history and changes the bot's next answer; a rejected one is never
proposed again."""
from __future__ import annotations

import asyncio

import frontmatter

from chatserver import keys
from chatserver.store import article_versions
from chatserver.store import proposals as proposal_queries

TRACKING = "Could I get the tracking link for my parcel again?"
NEIGHBOURS = "a stranger downstairs took in my box while I was at work"


async def ready(server) -> None:
    """The sentence vectors are in and the threshold calibrated: the bot answers as it will from then on."""
    kb = server.app[keys.KB]
    assert await asyncio.to_thread(kb.wait_embedded, 60)
    assert await asyncio.to_thread(kb.calibrator.wait_idle, 60)


def bot_says(kind):
    return lambda m: m["author"] == "bot" and m["kind"] == kind


async def helpful(server, text: str, slug: str = "track-order") -> int:
    """A visitor asks, the bot suggests `slug`, the visitor marks it helpful; returns the conversation id."""
    visitor = await server.visitor()
    ack = await visitor.call("message", {"client_id": "q1", "text": text})
    suggestions = await visitor.wait_for("message", bot_says("suggestions"))
    assert slug in [card["slug"] for card in suggestions["payload"]["articles"]], suggestions
    answer = await visitor.call("article_feedback", {"slug": slug, "helpful": True})
    assert answer["ok"] and answer["next"] == "resolved_prompt"
    return ack["conversation_id"]


async def waiting(admin, slug: str | None = None) -> list[dict]:
    status, answer = await admin.call("GET", "/api/admin/proposals" + (f"?slug={slug}" if slug else ""))
    assert status == 200
    return answer["proposals"]


async def test_helpful_feedback_proposes_the_question_without_personal_data(kb_desk):
    server, admin, _ = kb_desk
    await ready(server)
    first = await helpful(server, TRACKING)
    second = await helpful(server, "could i get the TRACKING link for my parcel again")
    await helpful(server, "my email is dana@example.com, could I get the tracking link for my parcel again?")
    masked = await helpful(server, "where is parcel #10234, I need the tracking link")
    proposals = await waiting(admin, "track-order")
    assert [(p["text"], p["count"]) for p in proposals] == [
        (TRACKING, 2), ("where is parcel [number], I need the tracking link", 1)]
    assert {s["conversation_id"] for s in proposals[0]["sources"]} == {first, second}
    assert {s["source"] for s in proposals[0]["sources"]} == {"helpful"}
    assert proposals[1]["sources"][0]["conversation_id"] == masked
    assert not any("@" in p["text"] or "10234" in p["text"] for p in await waiting(admin))
    # Admins see them on the article's page and in the review list, with one-click buttons.
    _, page, _ = await admin.get("/admin/kb/track-order")
    assert "“Could I get the tracking link for my parcel again?”" in page and "2 chats" in page
    assert f'action="/admin/kb/proposals/{proposals[0]["id"]}/accept"' in page
    _, page, _ = await admin.get("/admin/kb/proposals")
    assert "where is parcel [number], I need the tracking link" in page and "Track your order" in page
    _, page, _ = await admin.get("/admin/kb")
    assert "Proposed example questions (2)" in page


async def test_an_agents_article_teaches_and_accepting_changes_the_next_answer(kb_desk):
    server, admin, folder = kb_desk
    await ready(server)
    await server.create_agent("kay@example.com", "Kay")
    agent = await server.agent("kay@example.com")
    visitor = await server.visitor()
    ack = await visitor.call("message", {"client_id": "n1", "text": NEIGHBOURS})
    await visitor.wait_for("message", bot_says("no_match"))       # the bot has no answer for this wording yet
    await visitor.call("request_agent", {})
    assigned = await agent.wait_for("assigned")
    cid = assigned["conversation"]["id"]
    assert cid == ack["conversation_id"]
    sent = await agent.call("send_article", {"conversation_id": cid, "slug": "missing-parcel", "client_id": "a1"})
    assert sent["ok"], sent
    [proposal] = await waiting(admin, "missing-parcel")
    assert proposal["text"] == NEIGHBOURS and proposal["sources"] == [
        {"conversation_id": cid, "source": "sent_by_agent", "created_at": proposal["sources"][0]["created_at"]}]

    # One click on the article page: saved into the file's front matter, in the history, used at once.
    status, _, headers = await admin.post_form(f"/admin/kb/proposals/{proposal['id']}/accept",
                                               {"next": "/admin/kb/missing-parcel"})
    assert status == 303 and headers["Location"] == "/admin/kb/missing-parcel?done=accepted"
    on_disk = frontmatter.loads((folder / "missing-parcel.md").read_text(encoding="utf-8"))
    assert on_disk["questions"][-1] == NEIGHBOURS and on_disk["title"] == "Missing, late or lost parcel"
    [latest, *_] = await server.store.read(article_versions.history, "missing-parcel")
    assert latest["action"] == "saved" and latest["author_email"] == "admin@localhost"
    assert await waiting(admin) == []
    _, page, _ = await admin.get("/admin/kb/missing-parcel?done=accepted")
    assert "Example question added" in page and NEIGHBOURS in page

    newcomer = await server.visitor()
    await newcomer.call("message", {"client_id": "n2", "text": NEIGHBOURS})
    suggestions = await newcomer.wait_for("message", bot_says("suggestions"))
    top = suggestions["payload"]["articles"][0]
    assert top["slug"] == "missing-parcel" and top["explanation"]["matched_question"] == NEIGHBOURS

    status, answer = await admin.call("POST", f"/api/admin/proposals/{proposal['id']}/accept", {})
    assert (status, answer["error"]) == (409, "proposal_decided")
    status, answer = await admin.call("POST", "/api/admin/proposals/999999/reject", {})
    assert (status, answer["error"]) == (404, "proposal_not_found")
    status, answer = await admin.call("POST", "/api/admin/proposals/abc/reject", {})
    assert (status, answer["error"]) == (404, "proposal_not_found")


async def test_a_rejected_question_is_never_proposed_again(kb_desk):
    server, admin, folder = kb_desk
    await ready(server)
    before = (folder / "track-order.md").read_text(encoding="utf-8")
    await helpful(server, TRACKING)
    [proposal] = await waiting(admin)
    status, _, headers = await admin.post_form(f"/admin/kb/proposals/{proposal['id']}/reject",
                                               {"next": "https://evil.example/"})
    assert status == 303 and headers["Location"] == "/admin/kb/proposals?done=rejected"   # same-site only
    await helpful(server, TRACKING)
    await helpful(server, "could I get the tracking link for my parcel again")
    assert await waiting(admin) == []
    rejected = await server.store.read(proposal_queries.get, proposal["id"])
    assert rejected["status"] == "rejected" and rejected["count"] == 1          # not even counted any more
    assert (folder / "track-order.md").read_text(encoding="utf-8") == before
    assert server.app[keys.KB].get("track-order").questions[-1] != TRACKING
    _, page, _ = await admin.get("/admin/kb/proposals")
    assert 'id="no-proposals"' in page
