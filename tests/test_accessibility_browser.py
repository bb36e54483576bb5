"""Accessibility in Chromium with axe-core (pinned in tests/a11y/package.json, injected by Playwright): no violation
of impact serious or critical in the widget's main states (closed, suggestions, article, queue, chat, survey,
nobody online), the login, password and reset pages, the console empty and with a conversation open, every admin
page (agents, agent edit, knowledge base list, editor, settings) and the reports page."""
from __future__ import annotations

from playwright.async_api import expect

from support.axe import violations
from support.browser import sign_in
from support.server import ADMIN_EMAIL, ADMIN_PASSWORD
from support.widget_host import QUESTION, host_page

WAIT = 10_000


async def new_page(browser, viewport=None):
    # Strict CSP pages (console, admin) refuse inline scripts: the test's own axe-core may run anyway. Reduced
    # motion: the colours are measured as they stay, not halfway through the panel's opening animation.
    context = await browser.new_context(bypass_csp=True, reduced_motion="reduce",
                                        viewport=viewport or {"width": 1280, "height": 900})
    return await context.new_page()


async def test_widget_states_have_no_serious_violations(server, host_site, browser):
    found: list[str] = []
    url = await host_site(host_page(server.url), allowed_on=server)

    # Nobody online (an agent exists but is away): greeting, then the queue card with the contact form.
    await server.create_agent("dana@example.com", "Dana Scully", max_chats=1)
    page = await new_page(browser)
    await page.goto(url)
    await expect(page.locator(".launcher")).to_be_visible(timeout=WAIT)
    found += await violations(page, "widget closed")
    await page.locator(".launcher").click()
    await expect(page.locator("textarea")).to_be_visible(timeout=WAIT)
    found += await violations(page, "widget open, nobody online")
    await page.locator("textarea").fill(QUESTION)
    await page.keyboard.press("Enter")
    await expect(page.locator(".cards .card").first).to_be_visible(timeout=WAIT)
    found += await violations(page, "widget suggestions")
    await page.locator(".cards .card").first.click()
    await expect(page.locator(".kb")).to_contain_text("tracking", timeout=WAIT)
    found += await violations(page, "widget article")
    await page.get_by_role("button", name="Not what I need").click()
    found += await violations(page, "widget article: why not")
    await page.get_by_role("button", name="Skip").click()
    await page.get_by_role("button", name="Talk to a person", exact=True).click()
    await expect(page.locator(".qcard")).to_contain_text("No one is online", timeout=WAIT)
    found += await violations(page, "widget nobody online (queue card)")
    await page.context.close()

    # Queue with a person online but busy (she takes the chat left waiting above, her only slot), then the chat
    # with her, then the survey.
    dana = await server.agent("dana@example.com")
    held = (await dana.wait_for("assigned"))["conversation"]["id"]
    page = await new_page(browser)
    await page.goto(url)
    await page.locator(".launcher").click()
    await page.locator("textarea").fill(QUESTION)
    await page.keyboard.press("Enter")
    await page.get_by_role("button", name="Talk to a person", exact=True).click(timeout=WAIT)
    await expect(page.locator(".qcard")).to_contain_text("You are number 1 in line", timeout=WAIT)
    found += await violations(page, "widget queue")
    assert (await dana.call("close", {"conversation_id": held}))["ok"]
    cid = (await dana.wait_for("assigned", lambda a: a["conversation"]["id"] != held))["conversation"]["id"]
    assert (await dana.call("message", {"conversation_id": cid, "client_id": "a1", "text": "Hi, Dana here."}))["ok"]
    await expect(page.locator(".log")).to_contain_text("Dana here", timeout=WAIT)
    found += await violations(page, "widget chat")
    await page.locator(".head").get_by_role("button", name="End chat").click()
    found += await violations(page, "widget chat: confirm end")
    assert (await dana.call("close", {"conversation_id": cid}))["ok"]
    await expect(page.get_by_role("button", name="Skip")).to_be_visible(timeout=WAIT)
    found += await violations(page, "widget survey")
    await page.context.close()
    assert not found, "\n".join(found)


async def test_pages_have_no_serious_violations(server, browser):
    found: list[str] = []
    fox = await server.create_agent("fox@example.com", "Fox Mulder")
    page = await new_page(browser)
    await page.goto(server.url + "/login")
    found += await violations(page, "login")
    await page.goto(server.url + "/console")
    await sign_in(page, ADMIN_EMAIL, ADMIN_PASSWORD)
    await page.wait_for_url("**/console")
    await expect(page.locator("#capacity")).to_contain_text("chats", timeout=WAIT)
    found += await violations(page, "console empty")

    # A conversation open in the console.
    await page.click(".cs-status-btn[data-status=online]")
    visitor = await server.visitor()
    assert (await visitor.call("message", {"client_id": "q1", "text": "Where is my parcel?"}))["ok"]
    await visitor.wait_for("message", lambda m: m["author"] == "bot")
    assert (await visitor.call("request_agent", {}))["ok"]
    await expect(page.locator(".cs-conv")).to_have_count(1, timeout=WAIT)
    await page.locator(".cs-conv").click()
    await expect(page.locator("#messages .cs-msg-visitor")).to_have_count(1, timeout=WAIT)
    await page.fill("#kb-query", "refund")
    await page.press("#kb-query", "Enter")
    await expect(page.locator("#kb-results li").first).to_be_visible(timeout=WAIT)
    found += await violations(page, "console with a conversation open")

    for path, name in [("/account/password", "password page"), ("/admin/agents", "admin agents"),
                       (f"/admin/agents/{fox['id']}", "admin agent edit"), ("/admin/kb", "admin KB list"),
                       ("/admin/kb/track-order", "admin KB editor"), ("/admin/kb/new", "admin KB new article"),
                       ("/admin/settings", "admin settings"), ("/admin/reports", "reports")]:
        response = await page.goto(server.url + path)
        assert response.status == 200, (path, response.status)
        found += await violations(page, name)

    # The reset page an admin's link opens (signed out).
    await page.goto(server.url + f"/admin/agents/{fox['id']}")
    await page.click("#create-reset-link")
    link = (await page.locator("#reset-link").text_content(timeout=WAIT)).strip()
    other = await new_page(browser)
    await other.goto(link)
    found += await violations(other, "reset page")
    await other.context.close()
    await visitor.disconnect()
    await page.context.close()
    assert not found, "\n".join(found)


async def test_reports_with_data_have_no_serious_violations(server_factory, tmp_path, browser):
    """The reports page full of figures (demo data): badges, tables, charts, links in text."""
    import asyncio

    from chatserver import Config
    from chatserver.demo_data import fill_demo_data

    from support.server import ROOT, on_test_database

    data_dir = tmp_path / "desk"
    await asyncio.to_thread(fill_demo_data, on_test_database(Config(data_dir=data_dir, kb_dir=ROOT / "kb_articles",
                                                                    admin_password=ADMIN_PASSWORD)))
    server = await server_factory(data_dir=data_dir, kb_dir=ROOT / "kb_articles")
    page = await new_page(browser)
    await page.goto(server.url + "/admin/reports")
    await sign_in(page)
    await page.wait_for_url("**/admin/reports")
    found = await violations(page, "reports with data")
    await page.context.close()
    assert not found, "\n".join(found)
