"""Defect 11 of issue 16: errors said "'max_chats' must be between 1 and 50", "missing required 'title'" and
"'from' is after 'to'", and an invalid report range silently reset the dates. In Chromium: each error says what
to do, in plain words, next to its field, and the refused dates stay as typed."""
from __future__ import annotations

from playwright.async_api import expect

from support.browser import record_page_problems, sign_in

WAIT = 10_000


async def admin_page(browser, server, path):
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    problems = record_page_problems(page)
    await page.goto(server.url + path)
    await sign_in(page)
    await page.wait_for_url("**" + path)
    return page, problems


async def test_errors_say_what_to_do_next_to_the_field(server, browser):
    page, problems = await admin_page(browser, server, "/admin/agents")
    await page.fill("input[name=email]", "dana@example.com")
    await page.fill("input[name=name]", "Dana Scully")
    await page.fill("input[name=max_chats]", "80")
    await page.locator("#invite-form button[type=submit]").click()
    error = page.locator("#max_chats-error")
    await expect(error).to_have_text(
        "Enter a whole number from 1 to 50: how many chats this agent can take at once.", timeout=WAIT)
    assert "'max_chats'" not in await page.content()

    await page.goto(server.url + "/admin/kb/new")
    await page.fill("textarea[name=body]", "Some text")
    await page.click("#save-article")
    await expect(page.locator("#title-error")).to_contain_text("Give the article a title", timeout=WAIT)

    await page.goto(server.url + "/admin/reports?from=2025-03-05&to=2025-03-04")
    range_error = page.locator("#range-error")
    await expect(range_error).to_contain_text(
        "The start date is after the end date: choose a start date on or before 2025-03-04.")
    # The dates stay as typed, and the error sits in the form next to them.
    await expect(page.locator("input[name=from]")).to_have_value("2025-03-05")
    await expect(page.locator("input[name=to]")).to_have_value("2025-03-04")
    assert await page.locator("form.rp-range #range-error").count() == 1
    assert await page.locator("input[name=from]").get_attribute("aria-describedby") == "range-error"
    assert [p for p in problems if "400" not in p] == [], problems
    await page.close()
