"""A new chat starts clean: after a chat with an agent ends, "Start a new chat" empties the log and the header, and
the next conversation shows only its own messages (the one reset of the shown conversation, conversation.js)."""
from __future__ import annotations

from playwright.async_api import expect

from support.widget_host import QUESTION, host_page, shown_messages

WAIT = 10_000


async def test_start_a_new_chat_after_an_agent_closed_one(server, host_site, browser):
    await server.create_agent("ana@example.com", "Ana")
    agent = await server.agent("ana@example.com")
    url = await host_site(host_page(server.url), allowed_on=server)
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    problems = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    await page.goto(url)
    await page.locator(".launcher").click()

    # A first chat: the bot, then Ana, who closes it.
    await page.get_by_role("textbox", name="Message").fill(QUESTION)
    await page.keyboard.press("Enter")
    await expect(page.locator(".card").first).to_be_visible(timeout=WAIT)
    await page.get_by_role("button", name="Talk to a person").click()
    first = (await agent.wait_for("assigned"))["conversation"]["id"]
    await expect(page.locator(".title")).to_have_text("Ana", timeout=WAIT)
    await expect(page.locator(".log")).to_contain_text("Ana joined the chat")
    await agent.call("message", {"conversation_id": first, "client_id": "ana-1", "text": "Found it, it ships today."})
    await expect(page.locator(".log")).to_contain_text("ships today", timeout=WAIT)
    assert (await agent.call("close", {"conversation_id": first}))["ok"]
    await page.get_by_role("button", name="Skip").click()      # the survey the close offers
    await expect(page.locator(".log")).to_contain_text("This chat has ended")

    # A new chat: nothing of the first one is left, and the bot answers again.
    await page.get_by_role("button", name="Start a new chat").click()
    assert await page.locator(".log > *").count() == 0
    await expect(page.locator(".title")).to_have_text("Support")
    await expect(page.get_by_role("button", name="Talk to a person")).to_be_visible()
    await expect(page.locator(".typing")).to_be_hidden()
    assert await page.evaluate("k => JSON.parse(localStorage.getItem(k)).cid", "chat-widget:" + server.url) is None

    await page.get_by_role("textbox", name="Message").fill("How do I return a jacket?")
    await page.keyboard.press("Enter")
    await expect(page.locator(".log [data-author=bot]").first).to_be_visible(timeout=WAIT)
    shown = await shown_messages(page)
    assert shown[0] == {"seq": 1, "author": "visitor", "text": "How do I return a jacket?"}
    assert not any("ships today" in m["text"] or m["text"] == QUESTION for m in shown)
    assert await page.locator(".log .sys").count() == 0
    cid = await page.evaluate("k => JSON.parse(localStorage.getItem(k)).cid", "chat-widget:" + server.url)
    assert cid > first
    assert not problems, problems
    await context.close()
