"""Attachments in Chromium: the widget on a shop's site (another origin) sends files by button, paste and drop,
a refused type says why, an upload cut by the network is sent again once and stored once; the console sends one
back and shows the visitor's with a thumbnail; a hostile file never runs in any page. Screenshots at desktop and
phone sizes."""
from __future__ import annotations

import asyncio
import base64

import aiohttp
from playwright.async_api import expect

from support.browser import screenshot_path
from support.server import FIXTURE_KB
from support.widget_host import demo_page_for
from test_attachments import EXE, HTML, PDF, SVG, png
from test_console_browser import WAIT, console_page

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}


async def attachment_rows(server) -> int:
    return await server.store.read(lambda db: db.execute("SELECT count(*) FROM attachments").fetchone()[0])


async def widget_in_chat(server, host_site, browser, agent, viewport=DESKTOP):
    url = await host_site(demo_page_for(server.url), allowed_on=server)
    context = await browser.new_context(viewport=viewport)
    page = await context.new_page()
    page.set_default_timeout(WAIT)
    problems, dialogs = [], []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda d: (dialogs.append(d.message), asyncio.ensure_future(d.dismiss())))
    await page.goto(url)
    await page.locator(".launcher").click()
    await page.locator("textarea").fill("I need to send you a photo")
    await page.keyboard.press("Enter")
    await page.locator(".talk").click()
    assigned = await agent.wait_for("assigned", timeout=10)
    return context, page, problems, dialogs, assigned["conversation"]["id"]


def drop_or_paste(kind: str) -> str:
    """Script: build a File from base64 and paste it into the composer or drop it on the panel."""
    return """async ([kind, b64, name]) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const data = new DataTransfer();
        data.items.add(new File([bytes], name, { type: "image/png" }));
        const root = document.querySelector('[data-chat-widget]').shadowRoot;
        if (kind === "paste") {
            root.querySelector("textarea").dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
        } else {
            const panel = root.querySelector(".panel");
            for (const type of ["dragenter", "dragover", "drop"]) {
                panel.dispatchEvent(new DragEvent(type, { dataTransfer: data, bubbles: true, cancelable: true }));
            }
        }
    }"""


async def test_widget_sends_files_by_button_paste_and_drop_and_the_agent_sees_them(server_factory, host_site, browser):
    server = await server_factory(kb_dir=FIXTURE_KB)
    await server.create_agent("ana@example.com", "Ana")
    ana = await server.agent("ana@example.com")
    context, page, problems, dialogs, cid = await widget_in_chat(server, host_site, browser, ana)
    try:
        await page.locator("input[type=file]").set_input_files(
            {"name": "damage.png", "mimeType": "image/png", "buffer": png(640, 480)})
        thumb = page.locator(".log .attachment img.thumb")
        await expect(thumb).to_have_count(1)
        await page.wait_for_function("""() => { const img = document.querySelector('[data-chat-widget]').shadowRoot
            .querySelector('.log .attachment img.thumb'); return img && img.src.startsWith('blob:') && img.naturalWidth === 320; }""")
        first = await ana.wait_for("message", lambda m: m.get("kind") == "attachment", timeout=10)
        assert first["payload"]["attachment"]["name"] == "damage.png" and first["conversation_id"] == cid
        await page.evaluate(drop_or_paste("paste"), ["paste", base64.b64encode(png(30, 30, (0, 0, 200))).decode(), "pasted.png"])
        await ana.wait_for("message", lambda m: m.get("payload", {}).get("attachment", {}).get("name") == "pasted.png", timeout=10)
        await page.evaluate(drop_or_paste("drop"), ["drop", base64.b64encode(png(30, 30, (0, 200, 0))).decode(), "dropped.png"])
        await ana.wait_for("message", lambda m: m.get("payload", {}).get("attachment", {}).get("name") == "dropped.png", timeout=10)
        await expect(page.locator(".log .attachment")).to_have_count(3)
        # A renamed executable: refused by the server, the visitor is told why.
        await page.locator("input[type=file]").set_input_files(
            {"name": "invoice.pdf", "mimeType": "application/pdf", "buffer": EXE})
        await expect(page.locator(".outbox .failed .meta")).to_contain_text("this type of file cannot be sent")
        assert await attachment_rows(server) == 3
        await page.screenshot(path=screenshot_path("widget-attachments-desktop"), animations="disabled")
        # The agent's PDF reaches the widget as a download link.
        token = await server.login("ana@example.com", "agent-password-1")
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{server.url}/api/console/conversations/{cid}/attachments", data=PDF,
                                 headers={"Authorization": f"Bearer {token}", "X-Client-Id": "a1",
                                          "X-File-Name": "return-label.pdf"}) as resp:
                assert resp.status == 201
        await expect(page.locator(".log a.file", has_text="return-label.pdf")).to_be_visible()
        await page.set_viewport_size(PHONE)
        await page.screenshot(path=screenshot_path("widget-attachments-phone"), animations="disabled")
        assert problems == [] and dialogs == []
    finally:
        await context.close()


async def test_an_upload_cut_by_the_network_is_sent_again_and_stored_once(server_factory, host_site, browser):
    server = await server_factory(kb_dir=FIXTURE_KB)
    await server.create_agent("ana@example.com", "Ana")
    ana = await server.agent("ana@example.com")
    context, page, problems, dialogs, cid = await widget_in_chat(server, host_site, browser, ana)
    posts: list[str] = []

    async def cut_twice(route):
        posts.append(route.request.headers.get("x-client-id"))
        if len(posts) == 1:
            await route.abort("connectionreset")    # cut before the server has it
        elif len(posts) == 2:
            await route.fetch()                      # the server receives and stores it...
            await route.abort("connectionreset")    # ...and its answer never reaches the widget
        else:
            await route.continue_()

    try:
        await page.route("**/widget/attachments", cut_twice)
        await page.locator("input[type=file]").set_input_files(
            {"name": "receipt.png", "mimeType": "image/png", "buffer": png(50, 50)})
        await expect(page.locator(".log .attachment")).to_have_count(1, timeout=WAIT)
        await expect(page.locator(".outbox [data-client-id]")).to_have_count(0)
        # Sent again after each cut, always with the same client id; after the second cut the stored copy comes back
        # on the socket (or, if a third try goes first, the server answers it as a duplicate).
        assert len(posts) >= 2 and len(set(posts)) == 1, posts
        assert await attachment_rows(server) == 1
        await expect(page.locator(".log .attachment")).to_have_count(1)
        await asyncio.sleep(0.5)
        assert len([m for m in ana.of("message") if m.get("kind") == "attachment"]) == 1
        messages = (await ana.call("sync", {"conversation_id": cid, "after_seq": 0}))["messages"]
        assert sum(1 for m in messages if m["kind"] == "attachment") == 1
        assert problems == []
    finally:
        await context.close()


async def test_console_sends_a_file_and_a_hostile_file_never_runs(server_factory, browser):
    server = await server_factory(kb_dir=FIXTURE_KB)
    await server.create_agent("ana@example.com", "Ana")
    context, page, problems = await console_page(browser, server, "ana@example.com")
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    try:
        await page.click(".cs-status-btn[data-status=online]")
        visitor = await server.visitor()
        await visitor.call("message", {"client_id": "m1", "text": "Here is a photo"})
        await visitor.call("request_agent", {})
        await expect(page.locator("#pane-title")).to_be_visible(timeout=WAIT)
        token = visitor.of("session")[0]["visitor_token"]
        # A PNG with a script after its image data: accepted (it is a PNG), served as one, never run.
        polyglot = png(64, 64) + b"<html><script>alert('polyglot')</script></html>"
        async with aiohttp.ClientSession() as http:
            for client_id, data, name in [("p1", polyglot, "photo.png"), ("p2", SVG, "logo.svg"), ("p3", HTML, "x.html")]:
                async with http.post(server.url + "/widget/attachments", data=data, headers={
                        "Authorization": f"Bearer {token}", "X-Client-Id": client_id, "X-File-Name": name}) as resp:
                    assert resp.status == (201 if client_id == "p1" else 415), await resp.text()
                    if client_id == "p1":
                        attachment_id = (await resp.json())["attachment"]["id"]
        await expect(page.locator("#messages .cs-thumb")).to_have_count(1, timeout=WAIT)
        await page.wait_for_function("() => document.querySelector('#messages .cs-thumb').naturalWidth > 0")
        # The agent sends a PDF by the button.
        await page.locator("#attach-input").set_input_files(
            {"name": "label.pdf", "mimeType": "application/pdf", "buffer": PDF})
        await visitor.wait_for("message", lambda m: m.get("kind") == "attachment" and m["author"] == "agent", timeout=10)
        await expect(page.locator("#messages a.cs-file", has_text="label.pdf")).to_be_visible()
        await page.screenshot(path=screenshot_path("console-attachments-desktop"))
        await page.set_viewport_size(PHONE)
        await page.screenshot(path=screenshot_path("console-attachments-phone"))
        # Opened on its own, the hostile file is an image under a CSP that runs nothing.
        response = await page.goto(f"{server.url}/attachments/{attachment_id}")
        assert response.headers["content-type"] == "image/png"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "sandbox" in response.headers["content-security-policy"]
        await page.wait_for_timeout(300)
        assert dialogs == [] and problems == []
    finally:
        await context.close()
