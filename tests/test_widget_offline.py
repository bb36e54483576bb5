"""Delivery on a flaky network, in Chromium: messages typed offline wait in the outbox and reach the agent exactly
once, in order, when the connection returns, even after the tab that typed them was closed; a refused message says
so and can be retried."""
from __future__ import annotations

import asyncio
import json

from playwright.async_api import expect

from chatserver import keys
from chatserver.desk import sessions
from chatserver.store import conversations as conv_queries

from support.widget_host import host_page, shown_messages

WAIT = 15_000
OFFLINE_TEXTS = ["First, typed offline", "Second, typed offline"]


async def chat_with_sam(server, host_site, browser):
    """A visitor on a host page who asked for a person and has Sam: (agent socket, page URL, context, page, cid)."""
    await server.create_agent("sam@example.com", "Sam")
    agent = await server.agent("sam@example.com")
    url = await host_site(host_page(server.url), allowed_on=server)
    context = await browser.new_context(viewport={"width": 1024, "height": 768})
    page = await context.new_page()
    await page.goto(url)
    await page.locator(".launcher").click()
    await page.get_by_role("button", name="Talk to a person").click()
    cid = (await agent.wait_for("assigned"))["conversation"]["id"]
    await expect(page.locator(".title")).to_have_text("Sam", timeout=WAIT)
    return agent, url, context, page, cid


async def test_messages_typed_offline_arrive_once_in_order(server, host_site, browser):
    agent, url, context, page, cid = await chat_with_sam(server, host_site, browser)

    await context.set_offline(True)
    await expect(page.locator(".conn")).to_contain_text("offline", timeout=WAIT)
    for text in OFFLINE_TEXTS:
        await page.locator("textarea").fill(text)
        await page.keyboard.press("Enter")
    pending = page.locator(".outbox .row")
    await expect(pending).to_have_count(2)
    await expect(pending.first.locator(".meta")).to_contain_text("Waiting for connection")
    outbox = await _stored_outbox(page, server.url)
    assert [item["text"] for item in outbox] == OFFLINE_TEXTS
    assert not [m for m in agent.of("message") if m["text"] in OFFLINE_TEXTS]

    await context.set_offline(False)
    await expect(pending).to_have_count(0, timeout=WAIT)
    for text in OFFLINE_TEXTS:
        await agent.wait_for("message", lambda m, text=text: m["text"] == text, timeout=WAIT / 1000)
    assert await _stored_outbox(page, server.url) == []
    received = [m["text"] for m in agent.of("message") if m["text"] in OFFLINE_TEXTS]
    assert received == OFFLINE_TEXTS                                   # once each, in order
    stored = await server.store.read(conv_queries.messages_after, cid, 0, False, 1000)
    assert [m["text"] for m in stored if m["text"] in OFFLINE_TEXTS] == OFFLINE_TEXTS
    visitor_rows = [m for m in await shown_messages(page) if m["author"] == "visitor"]
    assert [m["text"] for m in visitor_rows] == OFFLINE_TEXTS
    await expect(page.locator(".row.me[data-seq] .meta").last).to_contain_text("Sent")

    # A message typed offline survives closing the tab: the next tab sends it, once.
    await context.set_offline(True)
    await expect(page.locator(".conn")).to_contain_text("offline", timeout=WAIT)
    await page.locator("textarea").fill("Third, typed before the tab closed")
    await page.keyboard.press("Enter")
    await expect(page.locator(".outbox .row")).to_have_count(1)
    await page.close()
    await context.set_offline(False)
    page = await context.new_page()
    await page.goto(url)
    await agent.wait_for("message", lambda m: m["text"] == "Third, typed before the tab closed", timeout=WAIT / 1000)
    await page.locator(".launcher").click()
    await expect(page.locator(".log")).to_contain_text("Third, typed before the tab closed", timeout=WAIT)
    stored = await server.store.read(conv_queries.messages_after, cid, 0, False, 1000)
    visitor_texts = [m["text"] for m in stored if m["author"] == "visitor"]
    assert visitor_texts == OFFLINE_TEXTS + ["Third, typed before the tab closed"]
    shown = await shown_messages(page)
    assert [(m["seq"], m["text"]) for m in shown] == [(m["seq"], m["text"]) for m in stored]
    await context.close()


async def _stored_outbox(page, chat_url: str) -> list[dict]:
    raw = await page.evaluate("key => localStorage.getItem(key)", "chat-widget:" + chat_url)
    return json.loads(raw).get("outbox", []) if raw else []


async def test_a_refused_message_shows_failed_and_can_be_retried(server_factory, host_site, browser):
    # One message per hour: the second one is refused (rate_limited) even after the widget's automatic retries.
    server = await server_factory(rate_limit_messages=1, rate_limit_window_seconds=3600)
    url = await host_site(host_page(server.url), allowed_on=server)
    page = await (await browser.new_context()).new_page()
    await page.goto(url)
    await page.locator(".launcher").click()
    for text in ("Hello there", "Are you still there?"):
        await page.locator("textarea").fill(text)
        await page.keyboard.press("Enter")
    failed = page.locator(".outbox .row.failed")
    await expect(failed).to_contain_text("Not sent", timeout=WAIT)
    await expect(failed).to_contain_text("Are you still there?")
    assert [m["text"] for m in await shown_messages(page) if m["author"] == "visitor"] == ["Hello there"]

    # The window passes (for this visitor), the visitor presses Retry: sent, and stored once.
    visitor_id = await page.evaluate("k => JSON.parse(localStorage.getItem(k)).token.split('.')[1]",
                                     "chat-widget:" + server.url)
    await server.app[keys.DESK].live.reset_limit("visitor_messages", visitor_id)
    await failed.get_by_role("button", name="Retry").click()
    await expect(page.locator(".outbox .row")).to_have_count(0, timeout=WAIT)
    await expect(page.locator(".row.me[data-seq] .meta").last).to_contain_text("Sent")
    cid = (await server.store.read(conv_queries.open_conversation_of, visitor_id))["id"]
    stored = await server.store.read(conv_queries.messages_after, cid, 0, False, 1000)
    assert [m["text"] for m in stored if m["author"] == "visitor"] == ["Hello there", "Are you still there?"]
    await page.context.close()


async def test_a_chat_closed_while_reconnecting_stays_closed(server, host_site, browser, monkeypatch):
    """The agent closes the chat while the widget is reconnecting: `conversation_closed` can reach the widget before
    the `session` snapshot read just before the close. The stale snapshot must not reopen the chat."""
    agent, url, context, page, cid = await chat_with_sam(server, host_site, browser)

    store_read = server.store.read
    snapshot_read = asyncio.Event()

    async def slow_after_snapshot_read(query, *args):
        found = await store_read(query, *args)
        if query is sessions.visitor_view and found[0] is not None:
            snapshot_read.set()
            await asyncio.sleep(1.0)           # the row says "assigned"; the agent closes the chat meanwhile
        return found

    await context.set_offline(True)
    await expect(page.locator(".conn")).to_contain_text("offline", timeout=WAIT)
    monkeypatch.setattr(server.store, "read", slow_after_snapshot_read)
    await context.set_offline(False)
    await asyncio.wait_for(snapshot_read.wait(), WAIT / 1000)
    ack = await agent.call("close", {"conversation_id": cid})
    assert ack["ok"], ack
    await page.wait_for_timeout(1500)                                 # the stale session has arrived by now
    await expect(page.locator(".sub")).to_have_text("Chat ended")
    await page.get_by_role("button", name="Skip").click()             # the survey comes first; then the chat
    await expect(page.get_by_role("button", name="Start a new chat")).to_be_visible()
    await expect(page.locator("form.composer")).to_be_hidden()
    assert await page.locator(".sys", has_text="This chat has ended").count() == 1
    await context.close()
