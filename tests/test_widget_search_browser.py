"""A visitor searches their previous chats in the widget (Chromium, on a shop's site): a word from a closed chat
is found with its matching line; another visitor's chat, and an agent's private note, are never found."""
from __future__ import annotations

from playwright.async_api import expect

from support.browser import record_page_problems, screenshot_path
from support.server import FIXTURE_KB
from support.widget_host import host_page

WAIT = 10_000


async def closed_chat(server, agent, visitor, text, reply, note=None):
    cid = (await visitor.call("message", {"client_id": "m-" + text[:8].replace(" ", "_"), "text": text}))["conversation_id"]
    await visitor.call("request_agent", {})
    await agent.wait_for("assigned", lambda a: a["conversation"]["id"] == cid, timeout=10)
    await agent.call("message", {"conversation_id": cid, "client_id": "r-" + str(cid), "text": reply})
    if note:
        await agent.call("note", {"conversation_id": cid, "text": note})
    await agent.call("close", {"conversation_id": cid})
    return cid


async def test_visitor_searches_only_their_own_previous_chats(server_factory, host_site, browser):
    server = await server_factory(kb_dir=FIXTURE_KB)
    await server.create_agent("dana@example.com", "Dana")
    agent = await server.agent("dana@example.com")
    url = await host_site(host_page(server.url), allowed_on=server)
    context = await browser.new_context(viewport={"width": 1024, "height": 800})
    page = await context.new_page()
    problems = record_page_problems(page)
    try:
        me = await server.visitor()
        token = me.of("session")[0]["visitor_token"]
        mine = await closed_chat(server, agent, me, "The kettle lid cracked", "A new lid is on its way",
                                 note="customer mentioned zebra pattern")
        await me.call("survey", {"conversation_id": mine})          # dismissed: no survey waits in the widget
        someone_else = await server.visitor()
        await closed_chat(server, agent, someone_else, "My kettle whistles loudly", "Try descaling it")
        # This browser is that visitor (the widget keeps its token in the shop's localStorage).
        await context.add_init_script(
            f"localStorage.setItem({('chat-widget:' + server.url)!r}, JSON.stringify({{token: {token!r}, past: true}}))")
        await page.goto(url)
        await page.wait_for_function("() => window.ChatWidget")
        await page.evaluate("ChatWidget.open()")
        await page.get_by_role("button", name="Previous chats").click(timeout=WAIT)
        box = page.get_by_role("searchbox", name="Search your chats")
        await box.fill("kettle")
        await page.keyboard.press("Enter")
        results = page.locator(".past-list .card")
        await expect(results).to_have_count(1, timeout=WAIT)
        await expect(results.first).to_have_attribute("data-conversation", str(mine))
        await expect(results.first.locator(".match")).to_have_text("The kettle lid cracked")
        await page.screenshot(path=screenshot_path("widget-search-desktop"), animations="disabled")
        await page.set_viewport_size({"width": 360, "height": 740})
        await page.screenshot(path=screenshot_path("widget-search-phone"), animations="disabled")
        for words in ("whistles", "zebra"):                     # another visitor's chat; a private note
            await box.fill(words)
            await page.keyboard.press("Enter")
            await expect(page.locator(".past-list + .lead")).to_have_text("No chat holds those words.", timeout=WAIT)
            await expect(results).to_have_count(0)
        assert problems == []
    finally:
        await context.close()
