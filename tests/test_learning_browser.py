"""Reviewing what the bot learned, in Chromium: a visitor's question marked helpful shows in the review list; one
click on Accept saves it into the article (listed in its editor and history); a proposal rejected on the article's
page is gone. Visitors' text is shown as text, never as markup."""
from __future__ import annotations

import asyncio

from chatserver import keys

from support.admin_client import copy_kb
from support.browser import record_page_problems, screenshot_path, sign_in

QUESTION = "Could I get the tracking link for my parcel again?"
HOSTILE = "could you <b>track</b> my parcel for me please"


def bot_says(kind):
    return lambda m: m["author"] == "bot" and m["kind"] == kind


async def helpful(server, text: str, slug: str = "track-order") -> None:
    visitor = await server.visitor()
    await visitor.call("message", {"client_id": "q1", "text": text})
    suggestions = await visitor.wait_for("message", bot_says("suggestions"))
    assert slug in [c["slug"] for c in suggestions["payload"]["articles"]]
    assert (await visitor.call("article_feedback", {"slug": slug, "helpful": True}))["ok"]


async def test_admin_accepts_and_rejects_proposals_in_one_click(server_factory, tmp_path, browser):
    folder = copy_kb(tmp_path)
    server = await server_factory(kb_dir=folder)
    kb = server.app[keys.KB]
    assert await asyncio.to_thread(kb.wait_embedded, 60)
    await helpful(server, QUESTION)
    await helpful(server, HOSTILE)

    page = await browser.new_page(viewport={"width": 1300, "height": 900})
    problems = record_page_problems(page)
    bad = []
    page.on("response", lambda r: bad.append((r.status, r.url)) if r.status >= 400 else None)
    await page.goto(server.url + "/admin/kb")
    await sign_in(page)
    await page.wait_for_url("**/admin/kb")
    await page.click("#proposals-link")
    await page.wait_for_url("**/admin/kb/proposals")
    assert await page.locator("#proposals li").count() == 2
    assert await page.locator("#proposals li b").count() == 0               # shown as text
    assert "<b>track</b>" in await page.locator("#proposals").inner_text()
    await page.screenshot(path=screenshot_path("admin-kb-proposals"), full_page=True)

    wanted = page.locator("#proposals li", has_text=QUESTION)
    await wanted.locator("button[name=accept]").click()
    await page.wait_for_url("**/admin/kb/proposals?done=accepted")
    assert await page.locator("#proposals li").count() == 1
    assert QUESTION in (folder / "track-order.md").read_text(encoding="utf-8")

    await page.goto(server.url + "/admin/kb/track-order")
    assert QUESTION in await page.locator("#article-questions").input_value()
    assert "by admin@localhost" in await page.locator("#article-history li").first.inner_text()
    await page.locator("#proposals li").first.locator("button[name=reject]").click()
    await page.wait_for_url("**/admin/kb/track-order?done=rejected")
    assert "will not be proposed again" in await page.locator(".ad-notice").inner_text()
    assert await page.locator("#proposals li").count() == 0
    assert kb.suggest(QUESTION)[0].explanation["matched_question"] == QUESTION
    # (Chromium's own /favicon.ico request answers 404 without a response event; our pages and scripts: none.)
    assert bad == [] and not [p for p in problems if "404" not in p], problems
