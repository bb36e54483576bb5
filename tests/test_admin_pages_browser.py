"""The admin pages in Chromium: hostile article titles and agent names render inert, an admin invites an agent and
disables another whose console socket is dropped at once, and changes the settings; screenshots of each page."""
from __future__ import annotations

import asyncio

from chatserver import keys
from chatserver.store import settings as settings_queries

from support.admin_client import copy_kb
from support.browser import record_page_problems, screenshot_path, sign_in

HOSTILE = "<img src=x onerror=\"document.title='pwned'\"><script>document.title='pwned'</script> Returns"


async def test_admin_pages_render_hostile_text_inert_and_apply_changes(server_factory, tmp_path, browser):
    folder = copy_kb(tmp_path)
    (folder / "hostile.md").write_text(
        "---\ntitle: \"" + HOSTILE.replace('"', '\\"') + "\"\nquestions:\n- hostile?\n---\n\nBody <b>bold?</b>\n")
    server = await server_factory(kb_dir=folder)
    await server.create_agent("dana@example.com", "Dana Scully", departments=["billing"])
    await server.create_agent("mallory@example.com", HOSTILE, max_chats=2)
    dana = await server.agent("dana@example.com")

    page = await browser.new_page(viewport={"width": 1360, "height": 900})
    dialogs: list[str] = []
    problems = record_page_problems(page)

    def on_dialog(dialog):
        dialogs.append(f"{dialog.type}: {dialog.message}")
        asyncio.ensure_future(dialog.accept())      # only the "Disable …?" confirmation is expected

    page.on("dialog", on_dialog)
    await page.goto(server.url + "/login?next=/admin")
    await sign_in(page)
    await page.wait_for_url("**/admin/agents")

    # Hostile text is shown as text everywhere.
    await page.goto(server.url + "/admin/kb?q=returns")
    title_link = page.locator('tr[data-slug="hostile"] a.ad-strong')
    assert await title_link.inner_text() == HOSTILE
    await page.click('tr[data-slug="hostile"] a.ad-strong')
    await page.wait_for_url("**/admin/kb/hostile")
    assert await page.locator("#preview-title").inner_text() == HOSTILE
    assert await page.locator("#article-title").input_value() == HOSTILE
    assert "<b>bold?</b>" in await page.locator("#preview-body").inner_text()
    body = page.locator("#article-body")
    await body.fill("<img src=x onerror=\"document.title='pwned'\"> **now**")
    await page.locator("#preview-body strong", has_text="now").wait_for()
    await page.fill("#try-question", "hostile?")
    await page.click("#try-form button")
    await page.locator("#try-results .ad-try-card a", has_text="Returns").first.wait_for()
    assert await page.locator("#try-results .ad-try-card a").first.inner_text() == HOSTILE
    assert await page.locator("img").count() == 0
    assert await page.title() != "pwned"
    await page.goto(server.url + "/admin/agents")               # leaves the unsaved edit (confirmation accepted)
    assert HOSTILE in await page.locator("#agents-table").inner_text()
    assert await page.locator("#agents-table img").count() == 0

    # Invite an agent: the one-time password is shown once.
    form = page.locator("#invite-form")
    await form.locator("input[name=name]").fill("Fox Mulder")
    await form.locator("input[name=email]").fill("fox@example.com")
    await form.locator("select[name=role]").select_option("admin")
    await form.locator("input[name=max_chats]").fill("4")
    await form.locator("input[name=departments][value=billing]").check()
    await form.locator("button[type=submit]").click()
    password = await page.locator("#new-password").inner_text()
    assert len(password) >= 12
    assert await server.login("fox@example.com", password)

    # Disable Dana, whose console socket is connected: confirmed, signed out, disconnected at once.
    dana_row = page.locator("#agents-table tr", has_text="dana@example.com")
    await dana_row.locator("button", has_text="Disable").click()
    await page.wait_for_url("**/admin/agents?done=disabled")
    assert any(d.startswith("confirm: Disable Dana Scully?") for d in dialogs), dialogs
    assert "disabled" in await page.locator("#agents-table tr", has_text="dana@example.com").inner_text()
    for _ in range(100):
        if not dana.sio.connected:
            break
        await asyncio.sleep(0.05)
    assert not dana.sio.connected
    await page.screenshot(path=screenshot_path("admin-agents"), full_page=True)

    # Settings: a colour and a canned reply.
    await page.click("nav a[href='/admin/settings']")
    await page.wait_for_url("**/admin/settings")
    await page.fill("#setting-widget_colour", "#0a7d55")
    assert await page.locator("input[data-colour-for=widget_colour]").input_value() == "#0a7d55"
    await page.fill("textarea[name=widget_greeting]", "Hi! How can we help today?")
    await page.click("#settings-form button[type=submit]")
    await page.wait_for_url("**/admin/settings?done=saved")
    assert server.app[keys.SETTINGS].get("widget_colour") == "#0a7d55"
    await page.fill("#reply-form input[name=shortcut]", "refund-time")
    await page.fill("#reply-form textarea[name=text]", "Refunds reach your account within 3-5 working days.")
    await page.click("#reply-form button[type=submit]")
    await page.wait_for_url("**done=reply_added**")
    assert [r["shortcut"] for r in await server.store.read(settings_queries.canned_replies)] == ["refund-time"]
    await page.fill("#setting-widget_colour", "teal")
    await page.click("#settings-form button[type=submit]")
    await page.wait_for_selector("#widget_colour-error")
    assert server.app[keys.SETTINGS].get("widget_colour") == "#0a7d55"
    await page.screenshot(path=screenshot_path("admin-settings"), full_page=True)

    assert await page.title() != "pwned"
    assert not [d for d in dialogs if not d.startswith(("confirm: Disable", "beforeunload"))], dialogs
    assert not [p for p in problems if "Content Security Policy" in p or "pwned" in p], problems
    await page.close()
