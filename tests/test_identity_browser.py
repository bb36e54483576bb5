"""Verified identity in Chromium: the shop page calls ChatWidget.identify with its server's signature; the same
customer on a second browser context sees their conversation; a page with a forged signature sees nothing of it;
the agent's console shows "verified" and the customer id."""
from __future__ import annotations

import json

from playwright.async_api import expect

from chatserver import keys
from chatserver.desk import settings as settings_ops
from support.browser import record_page_problems, sign_in
from support.widget_host import host_page
from test_identity import SECRET, signature

WAIT = 10_000


def shop_page(chat_url: str, identity: dict) -> str:
    script = ("<script>window.addEventListener('chatwidget:ready', () => ChatWidget.identify("
              + json.dumps(identity) + "));</script>")
    return host_page(chat_url, head=script)


async def test_a_verified_customer_sees_their_chat_in_another_browser(server_factory, host_site, browser):
    server = await server_factory(bot_enabled=False)
    await settings_ops.update_settings(server.app[keys.DESK], {"identity_secret": SECRET})
    await server.create_agent("kim@example.com", "Kim", password="kim-password-1")
    dana = {"id": "cust-42", "name": "Dana", "email": "dana@example.com",
            "signature": signature("cust-42", "dana@example.com")}
    url = await host_site(shop_page(server.url, dana), allowed_on=server)
    forged_url = await host_site(shop_page(server.url, {**dana, "signature": signature("cust-42", secret="x" * 20)}),
                                 allowed_on=server)

    laptop = await (await browser.new_context()).new_page()
    problems = record_page_problems(laptop)
    await laptop.goto(url)
    await laptop.locator(".launcher").click()
    await laptop.locator("textarea").fill("Is my order 1001 on its way?")
    await laptop.keyboard.press("Enter")
    await expect(laptop.locator(".log")).to_contain_text("Is my order 1001 on its way?", timeout=WAIT)

    phone = await (await browser.new_context()).new_page()
    await phone.goto(url)
    await phone.locator(".launcher").click()
    await expect(phone.locator(".log")).to_contain_text("Is my order 1001 on its way?", timeout=WAIT)

    stranger = await (await browser.new_context()).new_page()
    await stranger.goto(forged_url)
    await stranger.locator(".launcher").click()
    await expect(stranger.locator("textarea")).to_be_visible(timeout=WAIT)
    await stranger.wait_for_timeout(500)
    assert "order 1001" not in await stranger.locator(".log").inner_text()

    console = await (await browser.new_context()).new_page()
    await console.goto(server.url + "/console")
    await console.wait_for_url("**/login?next=/console")
    await sign_in(console, "kim@example.com", "kim-password-1")
    await console.wait_for_url("**/console")
    await expect(console.locator("#capacity")).to_have_text("0 of 3 chats", timeout=WAIT)
    await console.click(".cs-status-btn[data-status=online]")       # the waiting chat comes to Kim
    await expect(console.locator(".cs-status-btn[data-status=online]")).to_have_attribute("aria-pressed", "true",
                                                                                         timeout=WAIT)
    await console.locator("#conversation-list .cs-conv").first.click(timeout=WAIT)
    panel = console.locator("#visitor-details")
    await expect(panel).to_contain_text("cust-42", timeout=WAIT)
    await expect(panel.locator(".cs-verified").first).to_have_text("verified")
    assert not problems, problems
    for page in (laptop, phone, stranger, console):
        await page.context.close()
