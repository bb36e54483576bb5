"""The agents' tools in Chromium: labels and priority in the console, the transfer note, search and the
Mine / Unassigned / All views, attachments; screenshots of the new views at desktop and phone (360 px) sizes."""
from __future__ import annotations

import pytest
from playwright.async_api import expect

from chatserver.store import agents as agent_queries
from chatserver.store import conversations as conv_queries
from chatserver.store import labels as label_queries

from support.browser import screenshot_path, sign_in
from support.server import FIXTURE_KB
from test_console_browser import DESKTOP, WAIT, console_page

PHONE = {"width": 360, "height": 740}


async def queued_visitor(server, text="Where is my parcel?", client_id="v1"):
    visitor = await server.visitor()
    ack = await visitor.call("message", {"client_id": client_id, "text": text})
    await visitor.call("request_agent", {})
    return visitor, ack["conversation_id"]


async def no_sideways_scroll(page):
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")


async def test_console_sets_priority_and_labels(browser, server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB)
    await server.create_agent("ana@example.com", "Ana")
    billing = await server.store.write(label_queries.add_label, "billing", "#b42318", 0.0)
    await server.store.write(label_queries.add_label, "vip", "#4856d6", 0.0)
    context, page, problems = await console_page(browser, server, "ana@example.com")
    try:
        await page.click(".cs-status-btn[data-status=online]")
        visitor, cid = await queued_visitor(server)
        await expect(page.locator("#pane-title")).to_have_text(f"Visitor #{cid}", timeout=WAIT)
        await expect(page.locator("#label-chips")).to_have_text("No labels")
        await page.select_option("#priority-select", "high")
        for _ in range(100):                 # up to 10 s
            if (await server.store.read(conv_queries.get_conversation, cid))["priority"] == "high":
                break
            await page.wait_for_timeout(100)
        assert (await server.store.read(conv_queries.get_conversation, cid))["priority"] == "high"
        await page.click("#label-menu > summary")
        await page.check(f"#label-options input[value='{billing['id']}']")
        await page.click("#label-save")
        await expect(page.locator("#label-chips .cs-label-chip")).to_have_text(["billing"])
        assert [label["name"] for label in await server.store.read(label_queries.labels_of, cid)] == ["billing"]
        await page.screenshot(path=screenshot_path("console-labels-desktop"))
        # (The console's layout at 360 px is issue 16's defect 6, fixed elsewhere: only the screenshot here.)
        await page.set_viewport_size(PHONE)
        await page.screenshot(path=screenshot_path("console-labels-phone"))
        # A reload shows what is stored.
        await page.set_viewport_size(DESKTOP)
        await page.reload()
        await expect(page.locator("#label-chips .cs-label-chip")).to_have_text(["billing"], timeout=WAIT)
        await expect(page.locator("#priority-select")).to_have_value("high")
        assert problems == []
    finally:
        await context.close()


async def test_transfer_note_reaches_the_receiving_agents_console(browser, server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB)
    await server.create_agent("ana@example.com", "Ana")
    await server.create_agent("ben@example.com", "Ben")
    ana = await server.agent("ana@example.com")
    visitor, cid = await queued_visitor(server)
    await ana.wait_for("assigned", timeout=10)
    context, page, problems = await console_page(browser, server, "ben@example.com")
    try:
        await page.click(".cs-status-btn[data-status=online]")
        await expect(page.locator(".cs-status-btn[data-status=online]")).to_have_attribute("aria-pressed", "true")
        note = "<img src=x onerror=alert(1)> Refund approved; send the bank reference."
        ben_id = (await server.store.read(agent_queries.password_hash_for, "ben@example.com"))[0]
        ack = await ana.call("transfer", {"conversation_id": cid, "agent_id": ben_id, "note": note})
        assert ack["ok"], ack
        await expect(page.locator("#pane-transfer-note")).to_be_visible(timeout=WAIT)
        await expect(page.locator("#transfer-note-from")).to_have_text("Note from Ana:")
        await expect(page.locator("#transfer-note-text")).to_have_text(note)
        assert await page.locator("#pane-transfer-note img").count() == 0      # text, never markup
        await page.screenshot(path=screenshot_path("console-transfer-note-desktop"))
        await page.set_viewport_size(PHONE)
        await page.screenshot(path=screenshot_path("console-transfer-note-phone"))
        await page.set_viewport_size(DESKTOP)
        await page.reload()
        await expect(page.locator("#transfer-note-text")).to_have_text(note, timeout=WAIT)
        assert problems == []
    finally:
        await context.close()


async def test_console_finds_a_closed_conversation_and_lists_mine_unassigned_all(browser, server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB)
    await server.create_agent("ana@example.com", "Ana")
    ana = await server.agent("ana@example.com")
    visitor, closed_cid = await queued_visitor(server, "My espresso machine leaks water", client_id="e1")
    await ana.wait_for("assigned", lambda a: a["conversation"]["id"] == closed_cid, timeout=10)
    await ana.call("message", {"conversation_id": closed_cid, "client_id": "r1", "text": "Please descale it <b>now</b>"})
    await ana.call("close", {"conversation_id": closed_cid})
    await ana.call("status", {"status": "away"})
    waiting_visitor, waiting_cid = await queued_visitor(server, "Another question about delivery", client_id="w1")
    context, page, problems = await console_page(browser, server, "ana@example.com")
    try:
        results = page.locator("#find-results .cs-find-item")
        await expect(results).to_have_count(1, timeout=WAIT)                        # Mine: the closed chat
        await expect(results.first).to_have_attribute("data-cid", str(closed_cid))
        await page.click(".cs-find-view[data-view=unassigned]")
        await expect(results).to_have_count(1)
        await expect(results.first).to_have_attribute("data-cid", str(waiting_cid))
        await page.click(".cs-find-view[data-view=all]")
        await expect(results).to_have_count(2)
        await page.fill("#find-query", "descale")
        await page.click("#find-form button[type=submit]")
        await expect(results).to_have_count(1)
        await expect(results.first.locator(".cs-find-text")).to_have_text("Please descale it <b>now</b>")
        assert await page.locator("#find-results b").count() == 0                  # text, never markup
        await page.click("#find-filters > summary")
        await page.select_option("#find-status", "open")
        await page.click("#find-form button[type=submit]")
        await expect(page.locator("#find-results .cs-empty")).to_have_text("No conversation holds those words.")
        await page.select_option("#find-status", "closed")
        await page.click("#find-form button[type=submit]")
        await expect(results).to_have_count(1)
        await page.screenshot(path=screenshot_path("console-search-desktop"))
        await results.first.click()
        await expect(page.locator("#history-dialog")).to_be_visible()
        await expect(page.locator("#history-messages")).to_contain_text("My espresso machine leaks water")
        await page.click("#history-close")
        await page.set_viewport_size(PHONE)
        await page.locator("#find-heading").scroll_into_view_if_needed()
        await page.screenshot(path=screenshot_path("console-search-phone"))
        assert problems == []
    finally:
        await context.close()


async def test_admin_adds_a_label_in_settings(browser, server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB)
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    page.set_default_timeout(WAIT)
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda d: d.accept())
    try:
        await page.goto(server.url + "/admin/settings")
        await sign_in(page)
        await page.wait_for_url("**/admin/settings")
        await page.fill("#label-form input[name=name]", "Billing")
        await page.fill("#label-form input[name=colour]", "#b42318")
        await page.click("#label-form button[type=submit]")
        await expect(page.locator("#labels-list .ad-label-chip")).to_have_text(["Billing"])
        colour = await page.locator("#labels-list .ad-label-chip").evaluate(
            "el => getComputedStyle(el, '::before').backgroundColor")
        assert colour == "rgb(180, 35, 24)"           # set through the CSSOM, under the strict CSP
        await page.fill("#label-form input[name=name]", "billing")
        await page.click("#label-form button[type=submit]")
        await expect(page.locator("#label-form")).to_contain_text("A label with that name exists already")
        await page.locator("#labels").scroll_into_view_if_needed()
        await page.screenshot(path=screenshot_path("admin-labels-desktop"), full_page=False)
        await page.set_viewport_size(PHONE)
        await page.locator("#labels").scroll_into_view_if_needed()
        await page.screenshot(path=screenshot_path("admin-labels-phone"))
        await page.set_viewport_size(DESKTOP)
        await page.click("#labels-list button:has-text('Delete')")
        await expect(page.locator("#labels-list .ad-empty")).to_have_text("No labels yet.")
        assert await server.store.read(label_queries.all_labels) == []
        assert problems == []
    finally:
        await context.close()
