"""The live supervisor view in Chromium: a waiting chat counts down to its SLA target, crosses it, and the page shows
the breach, beeps and raises a desktop notification; screenshots before and after."""
from __future__ import annotations

from playwright.async_api import expect

from support.browser import record_page_problems, screenshot_path, sign_in
from support.server import FIXTURE_KB
from support.browser_alerts import RECORD_ALERTS

WAIT = 15_000


async def test_a_chat_crossing_its_sla_target_shows_as_a_breach_with_sound_and_notification(server_factory, browser):
    server = await server_factory(kb_dir=FIXTURE_KB, bot_enabled=False, sla_seconds=4)
    await server.create_agent("sue@example.com", "Sue Park", role="supervisor")
    await server.create_agent("dana@example.com", "Dana Reyes")
    dana = await server.agent("dana@example.com", online=False)
    context = await browser.new_context(viewport={"width": 1440, "height": 900})
    await context.add_init_script(RECORD_ALERTS)
    page = await context.new_page()
    page.set_default_timeout(WAIT)
    problems = record_page_problems(page)
    await page.goto(server.url + "/supervisor")
    await sign_in(page, "sue@example.com", "agent-password-1")
    await page.wait_for_url("**/supervisor")
    await expect(page.locator("#sv-connection")).to_have_text("Live")
    await page.click("#enable-notifications")
    await expect(page.locator("#notifications-state")).to_have_text("Notifications on")
    await expect(page.locator("#sv-agent-rows")).to_contain_text("Dana Reyes")
    await expect(page.locator("#sv-agent-rows")).to_contain_text("away")

    visitor = await server.visitor()
    ack = await visitor.call("message", {"client_id": "v1", "text": "Hello? My order never came."})
    cid = ack["conversation_id"]
    queued = page.locator("#sv-queue-rows tr", has_text=f"#{cid}")
    await expect(queued).to_contain_text("My order never came")
    await expect(queued.locator(".sv-countdown")).to_contain_text("left")
    await expect(page.locator("#sv-breach-empty")).to_be_visible()
    await page.screenshot(path=screenshot_path("supervisor-countdown"))
    assert await page.evaluate("window.__beeps") == 0

    # The target passes: the breach shows, with a beep and a notification.
    await expect(page.locator("#sv-breach-rows tr", has_text=f"#{cid}")).to_contain_text("in the queue", timeout=WAIT)
    await expect(page.locator("#sv-breach-count")).to_have_text("1")
    await expect(queued.locator(".sv-countdown")).to_contain_text("over")
    await page.wait_for_function("() => window.__notifications.length > 0")
    notes = await page.evaluate("window.__notifications")
    assert notes[0]["title"] == f"Chat #{cid} is over the target", notes
    assert await page.evaluate("window.__beeps") >= 1
    await page.screenshot(path=screenshot_path("supervisor-breach"))

    # Dana comes online and takes it, then the visitor goes away: the chat moves to "visitors to watch".
    await dana.call("status", {"status": "online"})
    await dana.wait_for("assigned")
    await visitor.disconnect()
    watched = page.locator("#sv-visitor-rows tr", has_text=f"#{cid}")
    await expect(watched).to_contain_text("disconnected", timeout=WAIT)
    await expect(page.locator("#sv-agent-rows")).to_contain_text("1 of 3")
    beeps = await page.evaluate("window.__beeps")
    await page.wait_for_timeout(2500)
    assert await page.evaluate("window.__beeps") == beeps          # the same breach alerts once
    html = await page.content()
    assert visitor.of("session")[0]["visitor_token"] not in html
    assert visitor.of("session")[0]["visitor_id"] not in html
    assert [p for p in problems if "404 (Not Found)" not in p] == []
    await context.close()
