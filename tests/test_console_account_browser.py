"""Signing in to the console in Chromium: failures that do not reveal whether an account exists, throttling,
the HttpOnly SameSite session cookie, changing one's own password, logging out."""
from __future__ import annotations

from playwright.async_api import expect

from support.browser import screenshot_path, sign_in

WAIT = 10_000
WRONG = "Wrong email or password."


async def test_sign_in_change_password_and_log_out(server, browser):
    await server.create_agent("dana@example.com", "Dana Reyes")
    await server.create_agent("lee@example.com", "Lee Park")
    context = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    page.set_default_timeout(WAIT)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    await page.goto(server.url + "/console")
    await page.wait_for_url("**/login?next=/console")

    # The same answer for a wrong password and for an account that does not exist.
    await sign_in(page, "dana@example.com", "not-her-password")
    await expect(page.get_by_role("alert")).to_have_text(WRONG)
    await sign_in(page, "nobody@example.com", "not-her-password")
    await expect(page.get_by_role("alert")).to_have_text(WRONG)
    await page.screenshot(path=screenshot_path("console-login-error"))

    # Repeated failures for one account are throttled: the sixth try is refused even with the right password.
    for _ in range(4):
        await sign_in(page, "lee@example.com", "guessing-1234")
        await expect(page.get_by_role("alert")).to_have_text(WRONG)
    await sign_in(page, "lee@example.com", "guessing-1234")
    await expect(page.get_by_role("alert")).to_have_text(WRONG)
    await sign_in(page, "lee@example.com", "agent-password-1")
    await expect(page.get_by_role("alert")).to_contain_text("Too many failed attempts")
    assert not [c for c in await context.cookies() if c["name"] == "chat_session"]

    # Dana signs in (her own failures were below the limit) and lands on the console.
    await page.goto(server.url + "/login?next=/console")
    await sign_in(page, "dana@example.com", "agent-password-1")
    await page.wait_for_url("**/console")
    await expect(page.locator(".topbar-name")).to_have_text("Dana Reyes")
    [cookie] = [c for c in await context.cookies() if c["name"] == "chat_session"]
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"
    assert "chat_session" not in await page.evaluate("document.cookie")    # scripts never see it

    # Change her password from the top bar link.
    await page.click(".topbar a[href='/account/password']")
    await page.fill("input[name=current_password]", "wrong-current-password")
    await page.fill("input[name=new_password]", "a-new-password-2")
    await page.fill("input[name=repeat_password]", "a-new-password-2")
    await page.click("button[type=submit]")
    await expect(page.get_by_role("alert")).to_have_text("Your current password is not right.")
    await page.fill("input[name=current_password]", "agent-password-1")
    await page.fill("input[name=new_password]", "a-new-password-2")
    await page.fill("input[name=repeat_password]", "a-new-password-2")
    await page.click("button[type=submit]")
    await expect(page.get_by_role("status")).to_contain_text("Your password was changed")

    # Log out from the console; the console is closed to her until she signs in again, with the new password.
    await page.goto(server.url + "/console")
    await page.locator(".topbar button", has_text="Log out").click()
    await page.wait_for_url("**/login")
    await page.goto(server.url + "/console")
    await page.wait_for_url("**/login?next=/console")
    await sign_in(page, "dana@example.com", "agent-password-1")
    await expect(page.get_by_role("alert")).to_have_text(WRONG)
    await sign_in(page, "dana@example.com", "a-new-password-2")
    await page.wait_for_url("**/console")
    await expect(page.locator("#capacity")).to_have_text("0 of 3 chats")
    assert not errors, errors
    await context.close()
