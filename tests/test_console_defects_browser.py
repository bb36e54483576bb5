"""Defects of the agent console found when it was tried as a new agent would (issue 16), each in Chromium against a
real server and real visitor sockets: the transfer banner, the KB search's relevance cut-off and stale results,
avatar initials and grouped messages, compact queue cards, message direction."""
from __future__ import annotations

from playwright.async_api import expect

from support.browser import screenshot_path, sign_in

WAIT = 10_000
DESKTOP = {"width": 1280, "height": 800}


async def console_page(browser, server, email, password="agent-password-1", viewport=DESKTOP):
    context = await browser.new_context(viewport=viewport)
    page = await context.new_page()
    page.set_default_timeout(WAIT)
    problems: list[str] = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("console", lambda m: problems.append(m.text) if m.type == "error"
            and "/socket.io/" not in m.location.get("url", "") else None)
    await page.goto(server.url + "/console")
    await page.wait_for_url("**/login?next=/console")
    await sign_in(page, email, password)
    await page.wait_for_url("**/console")
    await expect(page.locator("#capacity")).to_contain_text("chats", timeout=WAIT)
    return context, page, problems


async def go_online(page):
    await page.click(".cs-status-btn[data-status=online]")
    await expect(page.locator(".cs-status-btn[data-status=online]")).to_have_attribute("aria-pressed", "true")


async def chat_with_person(server, question: str):
    """A visitor who asks a question and then asks for a person; returns the visitor's socket."""
    visitor = await server.visitor()
    assert (await visitor.call("message", {"client_id": "q1", "text": question}))["ok"]
    await visitor.wait_for("message", lambda m: m["author"] == "bot")
    assert (await visitor.call("request_agent", {}))["ok"]
    return visitor


async def test_transfer_banner_is_one_plain_sentence(server, browser):
    """Defect 14: the banner read "Transferred: transferred from Dana Scully to Admin by Dana Scully"."""
    await server.create_agent("dana@example.com", "Dana Scully")
    await server.create_agent("sam@example.com", "Sam Okafor")
    context, page, problems = await console_page(browser, server, "dana@example.com")
    await go_online(page)
    dana = await server.agent("dana@example.com", online=False)     # another console of Dana's, listening
    visitor = await chat_with_person(server, "Where is my parcel?")
    cid = (await dana.wait_for("assigned"))["conversation"]["id"]
    await expect(page.locator(f".cs-conv[data-cid='{cid}']")).to_be_visible(timeout=WAIT)
    sam = await server.agent("sam@example.com")
    await page.click(f".cs-conv[data-cid='{cid}']")
    await page.click("#transfer-open")
    await page.locator("#transfer-agents label", has_text="Sam Okafor").click()
    await page.click("#transfer-confirm")
    await sam.wait_for("assigned", lambda a: a["conversation"]["id"] == cid)
    await expect(page.locator("#pane-ended")).to_have_text("You transferred this chat to Sam Okafor.", timeout=WAIT)
    # The other console of Dana's hears it too, said the same way.
    moved = await dana.wait_for("unassigned")
    assert (moved["to_agent_name"], moved["by_agent_name"]) == ("Sam Okafor", "Dana Scully")
    await visitor.disconnect()
    assert not problems, problems
    await context.close()


async def test_reply_over_the_limit_is_refused_with_a_counter_never_cut(server, browser):
    """Defect 15 in the console: the reply box cut a paste at 4,000 characters without a word."""
    await server.create_agent("dana@example.com", "Dana Scully")
    context, page, problems = await console_page(browser, server, "dana@example.com")
    await go_online(page)
    visitor = await chat_with_person(server, "Where is my parcel?")
    await expect(page.locator(".cs-conv")).to_have_count(1, timeout=WAIT)
    await page.locator(".cs-conv").click()
    box = page.locator("#reply-text")
    await box.focus()
    await page.keyboard.insert_text("z" * 4100)
    assert await box.evaluate("el => el.value.length") == 4100
    await expect(page.locator("#reply-count")).to_have_text(
        "Too long by 100 characters: shorten it or send it in parts.")
    await page.keyboard.press("Enter")
    await box.fill("z" * 3990)
    await expect(page.locator("#reply-count")).to_have_text("3,990 / 4,000 characters")
    await page.keyboard.press("Enter")
    got = await visitor.wait_for("message", lambda m: m["author"] == "agent")
    assert len(got["text"]) == 3990
    assert [m for m in visitor.of("message") if m["author"] == "agent"] == [got]
    assert not problems, problems
    await context.close()


async def test_kb_search_has_a_cut_off_and_results_stay_with_their_conversation(server, browser):
    """Defect 9: the console's KB search offered an article at 18 % for nonsense, and old results stayed when the
    agent switched to another conversation."""
    await server.create_agent("dana@example.com", "Dana Scully")
    context, page, problems = await console_page(browser, server, "dana@example.com")
    await go_online(page)
    first = await chat_with_person(server, "Where is my parcel?")
    second = await chat_with_person(server, "How do I return shoes?")
    await expect(page.locator(".cs-conv")).to_have_count(2, timeout=WAIT)
    await page.locator(".cs-conv").first.click()
    await page.fill("#kb-query", "zzqx blorp warehouse")           # nonsense that only brushes an article's body
    await page.press("#kb-query", "Enter")
    await expect(page.locator("#kb-status")).to_have_text("No article matches.", timeout=WAIT)
    await expect(page.locator("#kb-results li")).to_have_count(0)
    await page.fill("#kb-query", "refund")
    await page.press("#kb-query", "Enter")
    await expect(page.locator("#kb-results li").first).to_be_visible(timeout=WAIT)
    # Another conversation starts with an empty search; nothing of the first one's results remains.
    await page.locator(".cs-conv").nth(1).click()
    await expect(page.locator("#kb-results li")).to_have_count(0)
    await expect(page.locator("#kb-query")).to_have_value("")
    await first.disconnect()
    await second.disconnect()
    assert not problems, problems
    await context.close()


async def test_avatar_initials_tell_visitors_apart_and_messages_are_grouped(server, browser):
    """Defect 10: avatars read "V1" for Visitor #10, #11 and #17 alike; name and time were repeated on every
    consecutive message of one author."""
    await server.create_agent("dana@example.com", "Dana Scully")
    for _ in range(9):                                     # conversations 1-9 go to nobody (nobody online yet)
        visitor = await server.visitor()
        assert (await visitor.call("message", {"client_id": "x", "text": "hello"}))["ok"]
        await visitor.disconnect()
    context, page, problems = await console_page(browser, server, "dana@example.com")
    await go_online(page)
    tenth = await chat_with_person(server, "Where is my parcel?")
    eleventh = await chat_with_person(server, "How do I return shoes?")
    await expect(page.locator(".cs-conv")).to_have_count(2, timeout=WAIT)
    avatars = await page.locator(".cs-conv .cs-avatar").all_text_contents()
    assert sorted(avatars) == ["10", "11"], avatars
    conversation = page.locator(".cs-conv").filter(has_text="Visitor #10")
    await conversation.click()
    await expect(page.locator("#pane-avatar")).to_have_text("10")
    for i, text in enumerate(["One more thing", "and another", "and a third"]):
        assert (await tenth.call("message", {"client_id": f"more{i}", "text": text}))["ok"]
    visitor_rows = page.locator("#messages .cs-msg-visitor")
    await expect(visitor_rows).to_have_count(4, timeout=WAIT)
    # The question (then the bot's lines and "joined") and the first of the new run show name and time; the two
    # after it (same author, same minute) do not.
    visible_meta = [await row.locator(".cs-msg-meta").is_visible() and
                    (await row.locator(".cs-msg-meta").bounding_box())["width"] > 1
                    for row in await visitor_rows.all()]
    assert visible_meta == [True, True, False, False], visible_meta
    await expect(visitor_rows.nth(3).locator(".cs-msg-author")).to_have_text("Visitor #10")   # still read out
    for client in (tenth, eleventh):
        await client.disconnect()
    assert not problems, problems
    await context.close()


async def test_hebrew_message_text_has_its_own_direction_in_bubble_and_preview(server, browser):
    """Defect 2 in the console: Hebrew and Arabic messages had no dir="auto" (bubble and list preview)."""
    hebrew = "שלום, איפה החבילה שלי?"
    await server.create_agent("dana@example.com", "Dana Scully")
    context, page, problems = await console_page(browser, server, "dana@example.com")
    await go_online(page)
    visitor = await chat_with_person(server, "Where is my parcel?")
    await expect(page.locator(".cs-conv")).to_have_count(1, timeout=WAIT)
    await page.locator(".cs-conv").click()
    assert (await visitor.call("message", {"client_id": "he", "text": hebrew}))["ok"]
    bubble = page.locator("#messages .cs-msg-visitor .cs-bubble").last
    await expect(bubble).to_have_text(hebrew, timeout=WAIT)
    direction = "el => getComputedStyle(el).direction"
    assert await bubble.evaluate(direction) == "rtl"
    preview = page.locator(".cs-conv .cs-conv-preview [dir=auto]")
    await expect(preview).to_have_text(hebrew)
    assert await preview.evaluate(direction) == "rtl"
    await visitor.disconnect()
    assert not problems, problems
    await context.close()


async def test_queue_cards_are_compact_and_show_the_first_questions_department(server, browser):
    """Defect 8: queue cards took about 200 px each, so three waiting chats pushed "My conversations" below the
    fold at 1280x800; a card showed the first question but the department of a later one."""
    await server.create_agent("dana@example.com", "Dana Scully")
    context, page, problems = await console_page(browser, server, "dana@example.com")   # away: chats wait
    visitors = []
    first = await server.visitor()
    assert (await first.call("message", {"client_id": "q1", "text": "my package never came"}))["ok"]
    await first.wait_for("message", lambda m: m["author"] == "bot")
    assert (await first.call("message", {"client_id": "q2", "text": "I was charged twice for my order"}))["ok"]
    await first.wait_for("message", lambda m: m["author"] == "bot" and m["seq"] > 3)
    assert (await first.call("request_agent", {}))["ok"]
    visitors.append(first)
    for question in ("How do I return shoes?", "Can I change my delivery address?"):
        visitors.append(await chat_with_person(server, question))
    cards = page.locator(".cs-queue-item")
    await expect(cards).to_have_count(3, timeout=WAIT)
    card = cards.filter(has_text="my package never came")
    await expect(card.locator(".cs-chip").first).to_have_text("shipping")
    for box in [await c.bounding_box() for c in await cards.all()]:
        assert box["height"] <= 100, box
    mine = await page.locator("#mine-heading").bounding_box()
    assert mine["y"] + mine["height"] <= 800, mine
    await page.screenshot(path=screenshot_path("console-queue-compact"))
    for visitor in visitors:
        await visitor.disconnect()
    assert not problems, problems
    await context.close()
