"""Receipts in Chromium: the widget reports a message seen only once it was shown in a visible tab with the chat
open, and shows "Seen" once the agent read the visitor's message; the console reports the chat seen only while
its tab is visible, and shows "Seen" under the reply the visitor saw. The widget's quality record counts the
reply that arrived in the hidden tab.

Headless Chromium keeps every tab visible, so the pages get a switch for `document.visibilityState` (and fire
`visibilitychange` as a real tab switch does); everything else is the real widget, console and server."""
from __future__ import annotations

import asyncio

from playwright.async_api import expect

from chatserver.store import quality as quality_queries
from chatserver.store import receipts as receipt_queries

from support.browser import screenshot_path, sign_in
from support.server import FIXTURE_KB
from support.widget_host import host_page

WAIT = 15_000
VISIBILITY_SWITCH = """
(() => {
  let hidden = false;
  Object.defineProperty(Document.prototype, "visibilityState", { configurable: true, get: () => (hidden ? "hidden" : "visible") });
  Object.defineProperty(Document.prototype, "hidden", { configurable: true, get: () => hidden });
  window.__setHidden = (value) => { hidden = value; document.dispatchEvent(new Event("visibilitychange")); };
})();
"""


async def test_widget_reports_seen_only_when_shown_visible_and_shows_the_agents_read(server_factory, host_site,
                                                                                    browser):
    server = await server_factory(kb_dir=FIXTURE_KB, bot_enabled=False)
    await server.create_agent("sam@example.com", "Sam")
    agent = await server.agent("sam@example.com")
    url = await host_site(host_page(server.url), allowed_on=server)
    context = await browser.new_context(viewport={"width": 1024, "height": 768})
    await context.add_init_script(VISIBILITY_SWITCH)
    page = await context.new_page()
    await page.goto(url)
    await page.locator(".launcher").click()
    await page.locator("textarea").fill("Hello, where is my parcel?")
    await page.keyboard.press("Enter")
    cid = (await agent.wait_for("assigned"))["conversation"]["id"]
    await expect(page.locator(".log .row.me[data-seq]")).to_have_count(1, timeout=WAIT)

    # The tab goes to the background; the agent answers: delivered, not seen.
    await page.evaluate("window.__setHidden(true)")
    reply = await agent.call("message", {"conversation_id": cid, "client_id": "a1", "text": "Hi, Sam here."})
    await expect(page.locator(f".log [data-seq='{reply['seq']}']")).to_have_count(1, timeout=WAIT)
    delivered = await agent.wait_for("receipt", lambda r: r["delivered_seq"] == reply["seq"], timeout=WAIT / 1000)
    assert delivered["seen_seq"] < reply["seq"]
    await asyncio.sleep(2.5)       # more than the widget's one-second pacing: a seen report would be here by now
    assert all(r["seen_seq"] < reply["seq"] for r in agent.of("receipt"))
    assert (await server.store.read(receipt_queries.current, cid))["seen_seq"] < reply["seq"]

    # Visible, but the panel closed: still not seen.
    await page.locator(".launcher").click()
    await page.evaluate("window.__setHidden(false)")
    await asyncio.sleep(2.5)
    assert all(r["seen_seq"] < reply["seq"] for r in agent.of("receipt"))

    # The visitor opens the chat in the visible tab: seen.
    await page.locator(".launcher").click()
    seen = await agent.wait_for("receipt", lambda r: r["seen_seq"] == reply["seq"], timeout=WAIT / 1000)
    assert seen["seen_at"] is not None

    # The visitor's side: "Seen" only after the agent read the visitor's message.
    await page.locator("textarea").fill("Order 1234")
    await page.keyboard.press("Enter")
    second = await agent.wait_for("message", lambda m: m["text"] == "Order 1234", timeout=WAIT / 1000)
    mine = page.locator(f".log [data-seq='{second['seq']}']")
    await expect(mine).to_have_count(1, timeout=WAIT)
    await expect(page.locator(".log .seen")).to_have_count(0)
    ack = await agent.call("receipt", {"conversation_id": cid, "seen_seq": second["seq"]})
    assert ack["ok"], ack
    await expect(mine.locator(".seen")).to_have_text("Seen", timeout=WAIT)
    await expect(page.locator(".log .seen")).to_have_count(1)
    await page.screenshot(path=screenshot_path("widget-seen-receipt"))

    # The quality record counts the reply that arrived while the tab was hidden (one of one so far).
    assert (await agent.call("close", {"conversation_id": cid}))["ok"]
    for _ in range(100):
        record = await server.store.read(quality_queries.get_record, cid)
        if record and record["reports"] and record["replies"] == 1:
            break
        await asyncio.sleep(0.2)
    assert (record["replies"], record["hidden_replies"]) == (1, 1), record
    await context.close()


async def test_console_reports_seen_only_while_visible_and_shows_the_visitors_read(server_factory, browser):
    server = await server_factory(kb_dir=FIXTURE_KB, bot_enabled=False)
    await server.create_agent("dana@example.com", "Dana Reyes")
    context = await browser.new_context(viewport={"width": 1440, "height": 900})
    await context.add_init_script(VISIBILITY_SWITCH)
    page = await context.new_page()
    page.set_default_timeout(WAIT)
    await page.goto(server.url + "/console")
    await page.wait_for_url("**/login?next=/console")
    await sign_in(page, "dana@example.com", "agent-password-1")
    await page.wait_for_url("**/console")
    await page.locator(".cs-status-btn[data-status=online]").click()
    await expect(page.locator(".cs-status-btn[data-status=online]")).to_have_attribute("aria-pressed", "true")

    await page.evaluate("window.__setHidden(true)")
    visitor = await server.visitor()
    ack = await visitor.call("message", {"client_id": "v1", "text": "Is anyone there?"})
    cid = ack["conversation_id"]
    await expect(page.locator("#messages .cs-msg-visitor")).to_contain_text("Is anyone there?")
    await asyncio.sleep(1.5)
    assert visitor.of("receipt") == []                 # on screen, but in a hidden tab: not read
    await page.evaluate("window.__setHidden(false)")
    read = await visitor.wait_for("receipt", timeout=WAIT / 1000)
    # Read up to the newest line on screen: the visitor's message, or the stored "joined" line after it.
    assert read["reader"] == "agent" and read["seen_seq"] >= ack["seq"] and read["conversation_id"] == cid

    await page.locator("#reply-text").fill("Yes, Dana here.")
    await page.keyboard.press("Enter")
    reply = await visitor.wait_for("message", lambda m: m["author"] == "agent")
    await expect(page.locator(f"#messages [data-seq='{reply['seq']}']")).to_have_count(1)
    await expect(page.locator("#messages .cs-seen")).to_have_count(0)
    seen = await visitor.call("receipt", {"conversation_id": cid, "seen_seq": reply["seq"]})
    assert seen["ok"], seen
    await expect(page.locator(f"#messages [data-seq='{reply['seq']}'] .cs-seen")).to_have_text("Seen")
    await page.screenshot(path=screenshot_path("console-seen-receipt"))
    await context.close()
