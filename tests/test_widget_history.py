"""Previous chats in Chromium: after a chat has ended (and after a reload), the visitor opens the list of their own
earlier conversations and reads one, read-only, with the bot's lines and an agent's replies; another browser (another
visitor) has none."""
from __future__ import annotations

from playwright.async_api import expect

from support.browser import record_page_problems, screenshot_path
from support.widget_host import QUESTION, host_page

WAIT = 10_000


async def test_previous_chats_list_and_transcript(server, host_site, browser):
    await server.create_agent("dana@example.com", "Dana")
    agent = await server.agent("dana@example.com")
    url = await host_site(host_page(server.url), allowed_on=server)
    context = await browser.new_context(viewport={"width": 1024, "height": 800})
    page = await context.new_page()
    problems = record_page_problems(page)
    await page.goto(url)
    await page.locator(".launcher").click()
    past = page.get_by_role("button", name="Previous chats")
    await expect(page.locator("textarea")).to_be_visible(timeout=WAIT)
    await expect(past).to_be_hidden()                        # a first-time visitor has none

    # One chat: a question, the bot's suggestions, then a person answers and closes it.
    await page.locator("textarea").fill(QUESTION)
    await page.keyboard.press("Enter")
    await expect(page.locator(".cards .card").first).to_be_visible(timeout=WAIT)
    await page.get_by_role("button", name="Talk to a person").click()
    cid = (await agent.wait_for("assigned"))["conversation"]["id"]
    ack = await agent.call("message", {"conversation_id": cid, "client_id": "a1", "text": "Dana here: it ships today."})
    assert ack["ok"], ack
    await expect(page.locator(".log")).to_contain_text("it ships today", timeout=WAIT)
    assert (await agent.call("close", {"conversation_id": cid}))["ok"]
    await page.get_by_role("button", name="Skip").click(timeout=WAIT)

    # After a reload the chat view is empty but the earlier chat is one click away.
    connects = []                                  # namespace CONNECT packets, over polling or the WebSocket
    page.on("request", lambda r: connects.append(r.url) if "40/visitor" in (r.post_data or "") else None)
    page.on("websocket", lambda ws: ws.on(
        "framesent", lambda frame: connects.append(ws.url) if str(frame).startswith("40/visitor") else None))
    await page.reload()
    await page.wait_for_function("() => window.ChatWidget")
    await page.evaluate("ChatWidget.open()")                     # it may have stayed open across the reload
    await expect(past).to_be_visible(timeout=WAIT)
    await past.click()
    item = page.locator(f'.past-list .card[data-conversation="{cid}"]')
    await expect(item).to_contain_text(QUESTION, timeout=WAIT)
    await expect(item).to_contain_text("Dana")
    # Opening the panel while the resumed connection was still joining must not join twice (the server drops a
    # connection that sends a second CONNECT, and the list above would never have come).
    assert len(connects) == 1, connects
    await page.screenshot(path=screenshot_path("widget-previous-chats"), animations="disabled")
    await item.click()
    transcript = page.locator(".view:not([hidden]) .log")
    await expect(transcript).to_contain_text("Dana here: it ships today.", timeout=WAIT)
    await expect(transcript).to_contain_text(QUESTION)
    await expect(transcript).to_contain_text("These articles may answer your question:")
    assert await transcript.locator(".cards .card").count() >= 1
    assert await page.locator("form.composer").is_hidden()                 # read-only
    await page.screenshot(path=screenshot_path("widget-previous-transcript"), animations="disabled")
    # Back goes to the list, then to the chat.
    await page.locator(".view:not([hidden]) .vbar .hbtn").click()
    await expect(item).to_be_visible()
    await page.locator(".view:not([hidden]) .vbar .hbtn").click()
    await expect(page.get_by_role("button", name="Talk to a person")).to_be_visible()

    # Another browser is another visitor: nothing to list.
    stranger = await (await browser.new_context()).new_page()
    await stranger.goto(url)
    await stranger.locator(".launcher").click()
    await expect(stranger.locator("textarea")).to_be_visible(timeout=WAIT)
    await expect(stranger.get_by_role("button", name="Previous chats")).to_be_hidden()
    assert not problems, problems
    await stranger.context.close()
    await context.close()
