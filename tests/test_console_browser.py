"""The agent console in Chromium against a real server, real visitor sockets and the real SQLite file: a whole
shift (notification, bot suggestions, reply, canned reply, article, private note, transfer, close), a lost network
with resync, and hostile text that must stay inert."""
from __future__ import annotations

import asyncio
import shutil

import pytest
from playwright.async_api import expect

from chatserver import keys
from chatserver.store import agents as agent_queries
from chatserver.store import conversations as conv_queries
from chatserver.store import settings as settings_queries

from support.browser import screenshot_path, sign_in
from support.server import FIXTURE_KB
from support.browser_alerts import RECORD_ALERTS

WAIT = 10_000
DESKTOP = {"width": 1440, "height": 900}
LAPTOP = {"width": 1280, "height": 720}


async def console_page(browser, server, email, password="agent-password-1", record_alerts=True, viewport=DESKTOP):
    context = await browser.new_context(viewport=viewport)
    if record_alerts:
        await context.add_init_script(RECORD_ALERTS)
    page = await context.new_page()
    page.set_default_timeout(WAIT)
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    # Transport requests refused after the server dropped a session (a poll with a forgotten sid answers 400) are
    # the network, not the page: the tests that drop sessions check the console recovers from them.
    page.on("console", lambda m: problems.append(f"{m.text} {m.location.get('url')}")
            if m.type == "error" and not m.location.get("url", "").endswith("/favicon.ico")
            and "/socket.io/" not in m.location.get("url", "") else None)
    page.on("dialog", lambda d: (problems.append("dialog: " + d.message), asyncio.ensure_future(d.dismiss())))
    await page.goto(server.url + "/console")
    await page.wait_for_url("**/login?next=/console")
    await sign_in(page, email, password)
    await page.wait_for_url("**/console")
    await expect(page.locator("#capacity")).to_have_text("0 of 3 chats", timeout=WAIT)
    return context, page, problems


async def notifications(page) -> list[dict]:
    return await page.evaluate("window.__notifications")


async def wait_for_notification(page, title: str) -> dict:
    await page.wait_for_function("t => window.__notifications.some(n => n.title === t)", arg=title, timeout=WAIT)
    return [n for n in await notifications(page) if n["title"] == title][-1]


async def queued_chat(server, question: str):
    """A visitor asks the bot, says its first suggestion did not help, and asks for a person."""
    visitor = await server.visitor()
    ack = await visitor.call("message", {"client_id": "q1", "text": question})
    assert ack["ok"], ack
    suggestions = await visitor.wait_for("message", lambda m: m["kind"] in ("suggestions", "no_match"))
    articles = (suggestions.get("payload") or {}).get("articles") or []
    if articles:
        feedback = await visitor.call("article_feedback", {"slug": articles[0]["slug"], "helpful": False,
                                                           "reason": "my order is already packed"})
        assert feedback["ok"], feedback
    queued = await visitor.call("request_agent", {})
    assert queued["ok"], queued
    return visitor, ack["conversation_id"], articles


async def make_desk(server_factory, **overrides):
    server = await server_factory(kb_dir=FIXTURE_KB, **overrides)
    await server.create_agent("dana@example.com", "Dana Reyes")
    await server.create_agent("sam@example.com", "Sam Okafor")
    await server.store.write(settings_queries.add_canned_reply, "thanks", "Thanks for waiting! Let me check that for you.", 0)
    await server.store.write(settings_queries.add_canned_reply, "refund", "Refunds reach your account within 5 working days.", 0)
    return server


@pytest.fixture
async def desk(server_factory):
    return await make_desk(server_factory)


async def test_agent_shift_from_notification_to_close(desk, browser):
    server = desk
    context, page, problems = await console_page(browser, server, "dana@example.com")
    await expect(page).to_have_title("Support console")

    # Allow notifications through the button (a user gesture).
    await page.click("#enable-notifications")
    await expect(page.locator("#enable-notifications")).to_be_hidden()
    await expect(page.locator("#notifications-state")).to_have_text("Notifications on")
    await expect(page.locator(".cs-status-btn[data-status=away]")).to_have_attribute("aria-pressed", "true")

    # Dana is away: a visitor the bot could not help asks for a person and waits in the queue, where Dana sees
    # the wait, the department, the question, what the bot suggested and what the visitor thought of it.
    visitor, cid, articles = await queued_chat(server, "How do I cancel my order?")
    assert articles, "the fixture KB should suggest an article"
    waiting = page.locator(f".cs-queue-item[data-cid='{cid}']")
    await expect(waiting.locator(".cs-question")).to_have_text("How do I cancel my order?")
    await expect(waiting.locator(".cs-wait")).to_contain_text("Waiting 0:")
    await expect(waiting).to_contain_text(articles[0]["department"])
    await expect(waiting).to_contain_text(f"{articles[0]['slug']} {round(articles[0]['score'] * 100)}%")
    await expect(waiting).to_contain_text("did not help")
    await expect(page.locator("#queue-count")).to_have_text("1")
    await page.screenshot(path=screenshot_path("console-queue"))

    # She claims it: it opens, and is hers.
    await waiting.locator("button", has_text="Claim").click()
    note = await wait_for_notification(page, "New chat assigned")
    assert "How do I cancel my order?" in note["body"]
    assert await page.evaluate("window.__beeps") >= 1
    await expect(page.locator("#capacity")).to_have_text("1 of 3 chats")
    await expect(page.locator("#queue-empty")).to_be_visible()
    await expect(page.locator("#pane-title")).to_have_text(f"Visitor #{cid}")

    # The pane shows the whole history: visitor, bot (with its scored suggestions), the hand-off.
    messages = page.locator("#messages")
    await expect(messages.locator(".cs-msg-visitor").first).to_contain_text("How do I cancel my order?", timeout=WAIT)
    await expect(messages.locator(".cs-msg-bot.cs-kind-suggestions .cs-card").first).to_contain_text(articles[0]["title"])
    await expect(messages.locator(".cs-msg-bot.cs-kind-handoff")).to_have_count(1)
    suggestion = page.locator("#bot-suggestions .cs-suggestion").first
    await expect(suggestion).to_contain_text(articles[0]["title"])
    await expect(suggestion.locator(".cs-score")).to_have_text(f"{round(articles[0]['score'] * 100)}%")
    await expect(suggestion).to_contain_text("said it did not help")
    await expect(suggestion).to_contain_text("my order is already packed")
    await expect(page.locator("#visitor-details")).to_contain_text("First seen")

    # Typing, both ways.
    await visitor.call("typing", {"typing": True})
    await expect(page.locator("#typing")).to_be_visible(timeout=WAIT)
    await visitor.call("typing", {"typing": False})
    await expect(page.locator("#typing")).to_be_hidden(timeout=WAIT)
    await page.click("#reply-text")
    await page.keyboard.type("Hi, I")
    typing = await visitor.wait_for("typing", lambda t: t["typing"] is True)
    assert typing["agent_name"] == "Dana Reyes"

    # Reply: Shift+Enter makes a new line, Enter sends; the visitor gets it and the console says it was stored.
    await page.keyboard.press("Shift+Enter")
    await page.keyboard.type("can help with that.")
    await page.keyboard.press("Enter")
    reply = await visitor.wait_for("message", lambda m: m["author"] == "agent" and m["kind"] == "text")
    assert reply["text"] == "Hi, I\ncan help with that."
    own = messages.locator(".cs-msg-agent").last
    await expect(own.locator(".cs-msg-status")).to_have_text("Sent", timeout=WAIT)
    await expect(page.locator("#reply-text")).to_have_value("")

    # Canned reply: "/" opens the list, typing filters it, Enter picks it, Enter sends it.
    await page.keyboard.type("/ref")
    await expect(page.locator("#canned-popup")).to_be_visible()
    await expect(page.locator("#canned-popup .cs-canned-item")).to_have_count(1)
    await page.keyboard.press("Enter")
    await expect(page.locator("#reply-text")).to_have_value("Refunds reach your account within 5 working days.")
    await page.keyboard.press("Enter")
    await visitor.wait_for("message", lambda m: m["text"] == "Refunds reach your account within 5 working days.")

    # Send an article found by the KB search.
    await page.fill("#kb-query", "where is my refund")
    await page.click("#kb-form button[type=submit]")
    result = page.locator("#kb-results .cs-kb-result").first
    await expect(result).to_be_visible(timeout=WAIT)
    title = await result.locator(".cs-card-title").inner_text()
    await result.locator("button", has_text="Send article").click()
    sent = await visitor.wait_for("message", lambda m: m["kind"] == "article")
    assert sent["payload"]["title"] == title
    await expect(messages.locator(".cs-msg-article .cs-card-title")).to_have_text(title, timeout=WAIT)

    # A private note: shown as such in the console, stored, never sent to the visitor.
    await page.click("label.cs-mode-note")
    await page.fill("#reply-text", "Customer seems upset, offer a voucher")
    await page.keyboard.press("Enter")
    await expect(messages.locator(".cs-msg-note")).to_contain_text("Customer seems upset", timeout=WAIT)
    await expect(messages.locator(".cs-msg-note .cs-msg-status")).to_have_text("Sent", timeout=WAIT)
    stored = await server.store.read(conv_queries.messages_after, cid, 0, True)
    assert any(m.get("private") and m["text"] == "Customer seems upset, offer a voucher" for m in stored)
    await page.get_by_text("Reply", exact=True).click()

    await page.screenshot(path=screenshot_path("console-conversation"))

    # Dana goes online. A second chat is routed to her while she reads the first: a notification, an unread badge
    # and the tab title.
    await page.click(".cs-status-btn[data-status=online]")
    await expect(page.locator(".cs-status-btn[data-status=online]")).to_have_attribute("aria-pressed", "true")
    assigned_before = len(await notifications(page))
    second, cid2, _ = await queued_chat(server, "I want a refund for a broken blender")
    await page.wait_for_function("n => window.__notifications.length > n", arg=assigned_before)
    assert (await notifications(page))[assigned_before]["title"] == "New chat assigned"
    await expect(page.locator("#capacity")).to_have_text("2 of 3 chats", timeout=WAIT)
    await second.call("message", {"client_id": "q2", "text": "Hello? Anyone there?"})
    note = await wait_for_notification(page, "New message from Visitor #%d" % cid2)
    assert note["body"] == "Hello? Anyone there?"
    background = page.locator(f".cs-conv[data-cid='{cid2}']")
    await expect(background.locator(".cs-unread")).to_have_text("2", timeout=WAIT)
    await expect(page).to_have_title("(2) Support console")
    await page.screenshot(path=screenshot_path("console-two-chats"))

    # Transfer the second chat to Sam, who is online with a free slot.
    sam = await server.agent("sam@example.com")
    await background.click()
    await expect(page).to_have_title("Support console")
    await page.click("#transfer-open")
    option = page.locator("#transfer-agents label", has_text="Sam Okafor")
    await expect(option).to_contain_text("online · 0 of 3 chats", timeout=WAIT)
    await page.screenshot(path=screenshot_path("console-transfer"))
    await option.click()
    await page.click("#transfer-confirm")
    moved = await sam.wait_for("assigned", lambda a: a["conversation"]["id"] == cid2)
    assert "transferred from Dana Reyes to Sam Okafor" in moved["reason"]
    await expect(page.locator("#pane-ended")).to_have_text("You transferred this chat to Sam Okafor.", timeout=WAIT)
    await expect(page.locator("#capacity")).to_have_text("1 of 3 chats", timeout=WAIT)

    # Close the first chat (two clicks: close, confirm).
    await page.click(f".cs-conv[data-cid='{cid}']")
    await page.click("#close-chat")
    await expect(page.locator("#close-chat")).to_have_text("Confirm close")
    await page.click("#close-chat")
    closed = await visitor.wait_for("conversation_closed")
    assert closed["closed_by"] == "agent"
    await expect(page.locator("#pane-ended")).to_contain_text("closed by you", timeout=WAIT)
    await expect(page.locator("#capacity")).to_have_text("0 of 3 chats", timeout=WAIT)
    await expect(page.locator("#reply-text")).to_be_disabled()

    # The same visitor comes back later: the earlier chat is listed with the visitor and opens read-only.
    await visitor.call("message", {"client_id": "back", "text": "Me again, about the same order"})
    await visitor.call("request_agent", {})
    await expect(page.locator("#visitor-previous li")).to_have_count(1, timeout=WAIT)
    await page.locator("#visitor-previous button", has_text=f"#{cid}").click()
    await expect(page.locator("#history-messages")).to_contain_text("Customer seems upset")
    await expect(page.locator("#history-messages")).to_contain_text("Hi, I\ncan help with that.")
    await page.click("#history-close")

    # The visitor never received the note.
    assert not [m for _, m in visitor.events if isinstance(m, dict) and m.get("private")]
    assert not [m for _, m in visitor.events if isinstance(m, dict) and "voucher" in str(m.get("text", ""))]
    assert not problems, problems
    await context.close()


async def test_lost_network_then_resync_without_reload(server_factory, browser):
    # Short heartbeats, so a connection that silently stops answering is noticed within ~2 s.
    server = await make_desk(server_factory, ping_interval_seconds=1.0, ping_timeout_seconds=1.0)
    live = server.app[keys.DESK].live
    context, page, problems = await console_page(browser, server, "dana@example.com", viewport=LAPTOP)
    dana_id = int(await page.locator(".cs-main").get_attribute("data-agent-id"))
    await page.click("#enable-notifications")
    await page.click(".cs-status-btn[data-status=online]")
    await expect(page.locator(".cs-status-btn[data-status=online]")).to_have_attribute("aria-pressed", "true")
    visitor, cid, _ = await queued_chat(server, "Where is my parcel?")
    messages = page.locator("#messages")
    await expect(messages.locator(".cs-msg-visitor")).to_have_count(1, timeout=WAIT)
    await page.evaluate("window.__sameDocument = true")

    await context.set_offline(True)
    await expect(page.locator("#connection-banner")).to_be_visible()
    await expect(page.locator("#connection-banner")).to_contain_text("offline")
    # The server really lost the agent's socket: what follows can only reach the page by resyncing.
    for _ in range(100):
        if not live.agent_sids.get(dana_id):
            break
        await asyncio.sleep(0.1)
    assert not live.agent_sids.get(dana_id)

    for n, text in enumerate(["Are you still there?", "The tracking page says 'returned to sender'"]):
        ack = await visitor.call("message", {"client_id": f"off-{n}", "text": text})
        assert ack["ok"], ack
    newcomer, cid2, _ = await queued_chat(server, "I was charged twice")
    assert cid2 in live.queue                       # nobody online to take it
    await asyncio.sleep(0.5)
    await expect(messages.locator(".cs-msg-visitor")).to_have_count(1)   # nothing arrived while offline
    await page.screenshot(path=screenshot_path("console-offline-laptop"))

    await context.set_offline(False)
    await expect(page.locator("#connection-banner")).to_be_hidden(timeout=WAIT)
    await expect(messages.locator(".cs-msg-visitor")).to_have_count(3, timeout=WAIT)
    await expect(messages.locator(".cs-msg-visitor .cs-bubble").nth(2)).to_have_text(
        "The tracking page says 'returned to sender'")
    # The chat that queued meanwhile is routed to Dana once she is back, with a notification.
    await expect(page.locator(f".cs-conv[data-cid='{cid2}']")).to_be_visible(timeout=WAIT)
    await wait_for_notification(page, "New chat assigned")
    await expect(page.locator("#capacity")).to_have_text("2 of 3 chats")
    assert await page.evaluate("window.__sameDocument") is True   # no reload
    await page.click(f".cs-conv[data-cid='{cid}']")
    await page.screenshot(path=screenshot_path("console-after-resync-laptop"))

    # Live delivery works again, without duplicates.
    await visitor.call("message", {"client_id": "after", "text": "Hello again"})
    await expect(messages.locator(".cs-msg-visitor")).to_have_count(4, timeout=WAIT)
    seqs = await messages.locator("[data-seq]").evaluate_all("els => els.map(e => Number(e.dataset.seq))")
    assert seqs == sorted(set(seqs))

    # The server forgets the connection without the browser being told (a half-open socket, as after a proxy or
    # NAT timeout): the heartbeat notices, socket.io reconnects by itself and the console resyncs.
    sio = server.app[keys.SIO]
    [old_sid] = live.agent_sids[dana_id]
    await sio.eio.disconnect(sio.manager.eio_sid_from_sid(old_sid, "/agent"))
    assert not live.agent_sids.get(dana_id)        # the next message is not delivered live
    await visitor.call("message", {"client_id": "drop", "text": "Sent around a dropped connection"})
    await expect(messages.locator(".cs-msg-visitor")).to_have_count(5, timeout=WAIT)
    assert live.agent_sids.get(dana_id) and old_sid not in live.agent_sids[dana_id]
    assert await page.evaluate("window.__sameDocument") is True

    # Logged out elsewhere while the connection was down: the console says so instead of retrying silently.
    [session_cookie] = [c for c in await context.cookies() if c["name"] == "chat_session"]
    await server.store.write(agent_queries.delete_session, session_cookie["value"])
    [sid] = live.agent_sids[dana_id]
    await sio.eio.disconnect(sio.manager.eio_sid_from_sid(sid, "/agent"))
    banner = page.locator("#connection-banner")
    await expect(banner).to_contain_text("Your session has ended", timeout=WAIT)
    await expect(banner.get_by_role("link", name="Log in")).to_have_attribute("href", "/login?next=/console")
    assert not problems, problems
    await context.close()


HOSTILE_TITLE = "<img src=x onerror=\"window.__pwned=1\"><script>window.__pwned=1</script> Gift cards"
HOSTILE_MESSAGE = "How do gift cards work? <img src=x onerror=\"window.__pwned=1\"><b>bold?</b>"
HOSTILE_NAME = "<script>window.__pwned=1</script>Mallory"


async def test_hostile_text_renders_inert(server_factory, tmp_path, browser):
    kb = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, kb)
    (kb / "gift-cards.md").write_text(
        "---\n"
        f"title: '{HOSTILE_TITLE}'\n"
        "department: billing\n"
        "questions:\n  - How do gift cards work?\n  - Can I pay with a gift card?\n"
        "---\nGift cards never expire.\n")
    server = await server_factory(kb_dir=kb)
    await server.create_agent("dana@example.com", "Dana Reyes")
    context, page, problems = await console_page(browser, server, "dana@example.com")
    await page.click(".cs-status-btn[data-status=online]")
    await expect(page.locator(".cs-status-btn[data-status=online]")).to_have_attribute("aria-pressed", "true")

    visitor = await server.visitor()
    await visitor.call("message", {"client_id": "h1", "text": HOSTILE_MESSAGE})
    suggestions = await visitor.wait_for("message", lambda m: m["kind"] == "suggestions")
    assert suggestions["payload"]["articles"][0]["title"] == HOSTILE_TITLE
    await visitor.call("contact", {"email": "mallory@example.com", "name": HOSTILE_NAME})
    await visitor.call("request_agent", {})

    messages = page.locator("#messages")
    await expect(messages.locator(".cs-msg-visitor .cs-bubble").first).to_have_text(HOSTILE_MESSAGE, timeout=WAIT)
    await expect(messages.locator(".cs-card-title").first).to_have_text(HOSTILE_TITLE)
    await expect(page.locator("#bot-suggestions .cs-card-title").first).to_have_text(HOSTILE_TITLE)
    await expect(page.locator("#pane-title")).to_have_text(HOSTILE_NAME)
    await expect(page.locator("#visitor-details")).to_contain_text(HOSTILE_NAME)

    await page.fill("#kb-query", "gift card")
    await page.click("#kb-form button[type=submit]")
    result = page.locator("#kb-results .cs-kb-result").first
    await expect(result.locator(".cs-card-title")).to_have_text(HOSTILE_TITLE, timeout=WAIT)
    await result.locator("button", has_text="Send article").click()
    await expect(messages.locator(".cs-msg-article .cs-card-title")).to_have_text(HOSTILE_TITLE, timeout=WAIT)
    await visitor.wait_for("message", lambda m: m["kind"] == "article")

    # Nothing was parsed as markup, nothing ran.
    injected = await page.locator(".cs-main img, .cs-main script, .cs-main b").count()
    assert injected == 0
    assert await page.evaluate("window.__pwned") is None
    await page.screenshot(path=screenshot_path("console-hostile-text"))
    assert not problems, problems
    await context.close()
