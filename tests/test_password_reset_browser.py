"""Defect 12 of issue 16 in Chromium: the login page names the product, has a styled button and says how to get a
forgotten password reset; an admin's reset link lets the agent choose a new password once; a one-time password
from an admin must be changed at the first sign-in before any page of the desk opens."""
from __future__ import annotations

import re

from playwright.async_api import expect

from chatserver.store import agents as agent_queries

from support.browser import record_page_problems, screenshot_path, sign_in

WAIT = 10_000


async def test_login_page_names_the_product_and_says_how_to_reset(server, browser):
    page = await browser.new_page()
    await page.goto(server.url + "/login")
    await expect(page.locator(".login-brand")).to_have_text("Support desk")
    button = page.get_by_role("button", name="Sign in")
    assert await button.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(36, 87, 214)"
    await page.get_by_text("Forgot your password?").click()
    await expect(page.locator(".login-help")).to_contain_text("Ask an admin of this desk for a reset link")
    await page.screenshot(path=screenshot_path("login"))
    await page.close()


async def test_one_time_password_must_be_changed_at_first_sign_in(server, browser):
    admin = await browser.new_page()
    await admin.goto(server.url + "/admin/agents")
    await sign_in(admin)
    await admin.fill("#invite-form input[name=email]", "fox@example.com")
    await admin.fill("#invite-form input[name=name]", "Fox Mulder")
    await admin.click("#invite-form button[type=submit]")
    one_time = (await admin.locator("#new-password").text_content(timeout=WAIT)).strip()

    page = await browser.new_page()
    problems = record_page_problems(page)
    await page.goto(server.url + "/console")
    await sign_in(page, "fox@example.com", one_time)
    await page.wait_for_url("**/account/password?first=1")
    await expect(page.locator("h1")).to_have_text("Choose your own password")
    await page.goto(server.url + "/console")                    # no way around it
    await page.wait_for_url("**/account/password?first=1")
    await page.fill("input[name=current_password]", one_time)
    await page.fill("input[name=new_password]", one_time)
    await page.fill("input[name=repeat_password]", one_time)
    await page.click("button[type=submit]")
    await expect(page.locator(".error")).to_contain_text("not the one-time password")
    await page.fill("input[name=current_password]", one_time)
    await page.fill("input[name=new_password]", "my-own-password-1")
    await page.fill("input[name=repeat_password]", "my-own-password-1")
    await page.click("button[type=submit]")
    await expect(page.locator(".notice")).to_contain_text("Your password was changed")
    await page.goto(server.url + "/console")
    await page.wait_for_url("**/console")
    await expect(page.locator("#capacity")).to_contain_text("chats", timeout=WAIT)
    assert [p for p in problems if "400" not in p] == [], problems
    await admin.close()
    await page.close()


async def test_admin_reset_link_sets_a_new_password_once(server, browser):
    fox = await server.create_agent("fox@example.com", "Fox Mulder", password="forgotten-password-1")
    fox_token = await server.login("fox@example.com", "forgotten-password-1")
    admin = await browser.new_page()
    await admin.goto(server.url + f"/admin/agents/{fox['id']}")
    await sign_in(admin)
    await admin.wait_for_url(f"**/admin/agents/{fox['id']}")
    await admin.click("#create-reset-link")
    link = (await admin.locator("#reset-link").text_content(timeout=WAIT)).strip()
    assert re.fullmatch(re.escape(server.url) + r"/account/reset/[A-Za-z0-9_-]{40,}", link), link
    # Only a hash of the token is stored.
    stored = await server.store.read(lambda db: [r[0] for r in db.execute("SELECT token_hash FROM password_resets")])
    assert stored and link.rsplit("/", 1)[1] not in stored

    page = await browser.new_page()
    problems = record_page_problems(page)
    await page.goto(link)
    await expect(page.locator("h1")).to_have_text("Choose a new password")
    await expect(page.locator("main")).to_contain_text("Fox Mulder")
    await page.fill("input[name=new_password]", "a-brand-new-password")
    await page.fill("input[name=repeat_password]", "a-brand-new-passw0rd")
    await page.click("button[type=submit]")
    await expect(page.locator(".error")).to_contain_text("The two passwords differ")
    await page.fill("input[name=new_password]", "a-brand-new-password")
    await page.fill("input[name=repeat_password]", "a-brand-new-password")
    await page.click("button[type=submit]")
    await page.wait_for_url("**/login?reset=1")
    await expect(page.locator(".notice")).to_contain_text("Your new password is set")
    await sign_in(page, "fox@example.com", "a-brand-new-password")
    await page.wait_for_url("**/console")
    # The old password and the old session no longer work; the link works once.
    assert await server.store.read(agent_queries.agent_for_session, fox_token, 1e10) is None
    await page.goto(link)
    await expect(page.locator(".error")).to_contain_text("no longer valid")
    assert [p for p in problems if "400" not in p and "404" not in p] == [], problems
    await admin.close()
    await page.close()


async def test_reset_link_refuses_a_short_password_and_unknown_tokens(server):
    import aiohttp

    from chatserver.desk import agents as agent_ops
    from chatserver import keys

    fox = await server.create_agent("fox@example.com", "Fox Mulder", password="forgotten-password-1")
    token = await agent_ops.issue_reset_link(server.app[keys.DESK], fox["id"])
    async with aiohttp.ClientSession() as http:
        form = {"new_password": "short", "repeat_password": "short"}
        async with http.post(f"{server.url}/account/reset/{token}", data=form, allow_redirects=False) as resp:
            assert resp.status == 400 and "10 to 200 characters" in await resp.text()
        async with http.get(f"{server.url}/account/reset/not-a-token") as resp:
            assert resp.status == 404 and "no longer valid" in await resp.text()
        form = {"new_password": "long-enough-pass", "repeat_password": "long-enough-pass"}
        async with http.post(f"{server.url}/account/reset/not-a-token", data=form, allow_redirects=False) as resp:
            assert resp.status == 404 and "no longer valid" in await resp.text()
    # The short attempt changed nothing: the old password still works, the link still works.
    assert await server.login("fox@example.com", "forgotten-password-1")
    assert await server.store.read(agent_queries.reset_link_agent, token, 1.0) is not None
