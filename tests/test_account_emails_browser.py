"""Defect 12 of issue 16 in Chromium: "Forgot your password?" on the login page emails a reset link (real SMTP
server), and the agent follows it to choose a new password and sign in; the link works once."""
from __future__ import annotations

import re

from playwright.async_api import expect

from support.axe import violations
from support.browser import record_page_problems, sign_in
from support.smtp_server import SmtpServer

WAIT = 10_000


async def test_forgot_password_by_email_in_the_browser(server_factory, browser, tmp_path):
    mail = SmtpServer(tmp_path).start()
    try:
        server = await server_factory(smtp_url=mail.url(), email_from="support@shop.example")
        await server.create_agent("fox@example.com", "Fox Mulder", password="forgotten-password-1")
        page = await browser.new_page()
        problems = record_page_problems(page)
        await page.goto(server.url + "/login")
        await page.get_by_text("Forgot your password?").click()
        await page.get_by_role("link", name="Email me a reset link").click()
        await page.wait_for_url("**/account/forgot")
        assert await violations(page, "forgot password") == []
        await page.fill("input[name=email]", "fox@example.com")
        await page.get_by_role("button", name="Email me a reset link").click()
        await expect(page.locator("#forgot-sent")).to_contain_text("If fox@example.com is the login of an account")
        assert await violations(page, "reset email sent") == []

        [received] = await mail.wait_for(1)
        link = re.search(r"http://\S+/account/reset/[\w-]+", received.part("text/plain")).group(0)
        await page.goto(link)
        await expect(page.locator("main")).to_contain_text("Fox Mulder")
        await page.fill("input[name=new_password]", "a-brand-new-password")
        await page.fill("input[name=repeat_password]", "a-brand-new-password")
        await page.click("button[type=submit]")
        await page.wait_for_url("**/login?reset=1")
        await sign_in(page, "fox@example.com", "a-brand-new-password")
        await page.wait_for_url("**/console")
        await expect(page.locator("#capacity")).to_contain_text("chats", timeout=WAIT)
        await page.goto(link)
        await expect(page.locator(".error")).to_contain_text("no longer valid")
        assert [p for p in problems if "404" not in p] == [], problems
        await page.close()
    finally:
        mail.stop()
