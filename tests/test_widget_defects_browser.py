"""Defects of the widget found when it was tried as a new visitor would (issue 16), each in Chromium: who holds the
chat after a transfer and a reload, the stored joined/transferred/ended lines in the widget's language, what the
widget says when nobody is online, the header while a survey waits, the length limit, confirming "End chat", the
reasons for "Not what I need"."""
from __future__ import annotations

from playwright.async_api import expect

from support.browser import record_page_problems, screenshot_path
from support.server import ADMIN_EMAIL, ADMIN_PASSWORD
from support.widget_host import QUESTION, host_page

WAIT = 10_000


async def open_widget(browser, url, viewport=None):
    context = await browser.new_context(viewport=viewport or {"width": 1024, "height": 800})
    page = await context.new_page()
    problems = record_page_problems(page)
    await page.goto(url)
    await page.locator(".launcher").click()
    await expect(page.locator("textarea")).to_be_visible(timeout=WAIT)
    return page, problems


async def ask_for_person(page, talk="Talk to a person"):
    await page.locator("textarea").fill(QUESTION)
    await page.keyboard.press("Enter")
    await expect(page.locator(".cards .card").first).to_be_visible(timeout=WAIT)
    await page.get_by_role("button", name=talk).click()


async def test_transfer_then_reload_shows_the_holder_and_stored_lines_in_german(server, host_site, browser):
    """Defect 1: Admin answers, transfers to Dana Scully; before Dana writes, the visitor reloads: the header names
    Dana (the server's snapshot, not the last agent message's author) and the joined/transferred lines are still
    there, in German; the ended line is stored too and shows in the transcript after another reload."""
    await server.create_agent("dana@example.com", "Dana Scully")
    admin = await server.agent(ADMIN_EMAIL, ADMIN_PASSWORD)
    url = await host_site(host_page(server.url, attrs='data-language="de"'), allowed_on=server)
    page, problems = await open_widget(browser, url)
    await ask_for_person(page, talk="Mit einem Menschen sprechen")
    cid = (await admin.wait_for("assigned"))["conversation"]["id"]
    assert (await admin.call("message", {"conversation_id": cid, "client_id": "a1", "text": "Admin here."}))["ok"]
    await expect(page.locator(".log")).to_contain_text("Admin here.", timeout=WAIT)
    dana = await server.agent("dana@example.com")
    dana_id = (await dana.wait_for("session"))["agent"]["id"]
    ack = await admin.call("transfer", {"conversation_id": cid, "agent_id": dana_id})
    assert ack["ok"], ack
    await expect(page.locator(".log")).to_contain_text("Dana Scully hat den Chat übernommen", timeout=WAIT)

    await page.reload()
    await page.wait_for_function("() => window.ChatWidget")
    await page.evaluate("ChatWidget.open()")
    await expect(page.locator(".log")).to_contain_text("Admin here.", timeout=WAIT)
    await expect(page.locator(".head .title")).to_have_text("Dana Scully")
    log = page.locator(".log")
    await expect(log.locator(".sys").filter(has_text="Admin ist dem Chat beigetreten")).to_have_count(1)
    await expect(log.locator(".sys").filter(has_text="Dana Scully hat den Chat übernommen")).to_have_count(1)
    await page.screenshot(path=screenshot_path("widget-after-transfer-reload"), animations="disabled")

    assert (await dana.call("close", {"conversation_id": cid}))["ok"]
    await expect(log.locator(".sys").filter(has_text="Dieser Chat ist beendet")).to_have_count(1, timeout=WAIT)
    # The console hears the stored line too (English there).
    await dana.wait_for("message", lambda m: m["author"] == "system" and m["text"] == "This chat has ended")
    stored = (await dana.call("sync", {"conversation_id": cid, "after_seq": 0}))["messages"]
    assert [m["payload"]["say"] for m in stored if m["author"] == "system"] == ["joined", "transferred", "ended"]

    await page.reload()
    await page.wait_for_function("() => window.ChatWidget")
    await page.evaluate("ChatWidget.open()")
    await page.get_by_role("button", name="Überspringen").click(timeout=WAIT)     # the survey waits first
    past = page.get_by_role("button", name="Frühere Chats")
    await past.click(timeout=WAIT)
    await page.locator(f'.past-list .card[data-conversation="{cid}"]').click(timeout=WAIT)
    transcript = page.locator(".view:not([hidden]) .log")
    await expect(transcript).to_contain_text("Dieser Chat ist beendet", timeout=WAIT)
    await expect(transcript).to_contain_text("Admin ist dem Chat beigetreten")
    assert not problems, problems
    await page.context.close()
