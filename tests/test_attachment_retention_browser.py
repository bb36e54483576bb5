"""Attachment retention in Chromium: after the daily run removed an old file, the widget (reloaded) and the console
show its message as "file removed" (no link, no thumbnail, no page error), the newer file as before."""
from __future__ import annotations

import time

import aiohttp
from playwright.async_api import expect

from chatserver import keys
from chatserver.desk import privacy, settings as settings_ops
from support.server import FIXTURE_KB
from test_attachments import png
from test_attachments_browser import widget_in_chat
from test_console_browser import WAIT, console_page


async def expire(server, name: str) -> None:
    """Make the attachment called `name` 40 days old and run the retention (30 days)."""
    await server.store.write(lambda db: db.execute("UPDATE attachments SET created_at = ? WHERE filename = ?",
                                                   [time.time() - 40 * 86400, name]))
    desk = server.app[keys.DESK]
    await settings_ops.update_settings(desk, {"attachment_retention_days": 30})
    assert await privacy.apply_retention(desk) == {"conversations": 0, "attachments": 1, "audit_entries": 0}


async def test_the_widget_shows_a_removed_file_as_removed(server_factory, host_site, browser):
    server = await server_factory(kb_dir=FIXTURE_KB)
    await server.create_agent("ana@example.com", "Ana")
    ana = await server.agent("ana@example.com")
    context, page, problems, dialogs, cid = await widget_in_chat(server, host_site, browser, ana)
    try:
        for name in ("old-damage.png", "new-damage.png"):
            await page.locator("input[type=file]").set_input_files(
                {"name": name, "mimeType": "image/png", "buffer": png(64, 48)})
            await ana.wait_for("message", lambda m: m.get("payload", {}).get("attachment", {}).get("name") == name,
                               timeout=10)
        await expect(page.locator(".log .attachment img.thumb")).to_have_count(2)
        await expire(server, "old-damage.png")
        await page.reload()
        if not await page.locator("textarea").is_visible():
            await page.locator(".launcher").click()
        await expect(page.locator(".log .file.removed")).to_have_text("old-damage.png · file removed")
        await expect(page.locator(".log .attachment img.thumb")).to_have_count(1)
        await expect(page.locator(".log a.file", has_text="new-damage.png")).to_be_visible()
        assert problems == [] and dialogs == []
    finally:
        await context.close()


async def test_the_console_shows_a_removed_file_as_removed(server_factory, browser):
    server = await server_factory(kb_dir=FIXTURE_KB)
    await server.create_agent("ana@example.com", "Ana")
    context, page, problems = await console_page(browser, server, "ana@example.com")
    try:
        await page.click(".cs-status-btn[data-status=online]")
        visitor = await server.visitor()
        cid = (await visitor.call("message", {"client_id": "m1", "text": "Here are photos"}))["conversation_id"]
        await visitor.call("request_agent", {})
        await expect(page.locator("#pane-title")).to_be_visible(timeout=WAIT)
        token = visitor.of("session")[0]["visitor_token"]
        async with aiohttp.ClientSession() as http:
            for client_id, name in (("p1", "old-photo.png"), ("p2", "new-photo.png")):
                async with http.post(server.url + "/widget/attachments", data=png(64, 48), headers={
                        "Authorization": f"Bearer {token}", "X-Client-Id": client_id, "X-File-Name": name}) as resp:
                    assert resp.status == 201, await resp.text()
        await expect(page.locator("#messages .cs-thumb")).to_have_count(2, timeout=WAIT)
        await expire(server, "old-photo.png")
        await page.reload()
        await page.click(f".cs-conv[data-cid='{cid}']")
        await expect(page.locator("#messages .cs-file-removed")).to_have_text("old-photo.png · file removed")
        await expect(page.locator("#messages .cs-thumb")).to_have_count(1)
        await expect(page.locator("#messages a.cs-file", has_text="new-photo.png")).to_be_visible()
        assert problems == []
    finally:
        await context.close()
