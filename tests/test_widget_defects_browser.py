"""Defects of the widget found when it was tried as a new visitor would (issue 16), each in Chromium: who holds the
chat after a transfer and a reload, the stored joined/transferred/ended lines in the widget's language, what the
widget says when nobody is online, the header while a survey waits, the length limit, confirming "End chat", the
reasons for "Not what I need"."""
from __future__ import annotations

from playwright.async_api import expect

from support.browser import record_page_problems, screenshot_path
from support.server import ADMIN_EMAIL, ADMIN_PASSWORD
from support.widget_host import QUESTION, host_page

WAIT = 10_000


async def open_widget(browser, url, viewport=None):
    context = await browser.new_context(viewport=viewport or {"width": 1024, "height": 800})
    page = await context.new_page()
    problems = record_page_problems(page)
    await page.goto(url)
    await page.locator(".launcher").click()
    await expect(page.locator("textarea")).to_be_visible(timeout=WAIT)
    return page, problems


async def ask_for_person(page, talk="Talk to a person"):
    await page.locator("textarea").fill(QUESTION)
    await page.keyboard.press("Enter")
    await expect(page.locator(".cards .card").first).to_be_visible(timeout=WAIT)
    await page.get_by_role("button", name=talk).click()


async def test_transfer_then_reload_shows_the_holder_and_stored_lines_in_german(server, host_site, browser):
    """Defect 1: Admin answers, transfers to Dana Scully; before Dana writes, the visitor reloads: the header names
    Dana (the server's snapshot, not the last agent message's author) and the joined/transferred lines are still
    there, in German; the ended line is stored too and shows in the transcript after another reload."""
    await server.create_agent("dana@example.com", "Dana Scully")
    admin = await server.agent(ADMIN_EMAIL, ADMIN_PASSWORD)
    url = await host_site(host_page(server.url, attrs='data-language="de"'), allowed_on=server)
    page, problems = await open_widget(browser, url)
    await ask_for_person(page, talk="Mit einem Menschen sprechen")
    cid = (await admin.wait_for("assigned"))["conversation"]["id"]
    assert (await admin.call("message", {"conversation_id": cid, "client_id": "a1", "text": "Admin here."}))["ok"]
    await expect(page.locator(".log")).to_contain_text("Admin here.", timeout=WAIT)
    dana = await server.agent("dana@example.com")
    dana_id = (await dana.wait_for("session"))["agent"]["id"]
    ack = await admin.call("transfer", {"conversation_id": cid, "agent_id": dana_id})
    assert ack["ok"], ack
    await expect(page.locator(".log")).to_contain_text("Dana Scully hat den Chat übernommen", timeout=WAIT)

    await page.reload()
    await page.wait_for_function("() => window.ChatWidget")
    await page.evaluate("ChatWidget.open()")
    await expect(page.locator(".log")).to_contain_text("Admin here.", timeout=WAIT)
    await expect(page.locator(".head .title")).to_have_text("Dana Scully")
    log = page.locator(".log")
    await expect(log.locator(".sys").filter(has_text="Admin ist dem Chat beigetreten")).to_have_count(1)
    await expect(log.locator(".sys").filter(has_text="Dana Scully hat den Chat übernommen")).to_have_count(1)
    await page.screenshot(path=screenshot_path("widget-after-transfer-reload"), animations="disabled")

    assert (await dana.call("close", {"conversation_id": cid}))["ok"]
    await expect(log.locator(".sys").filter(has_text="Dieser Chat ist beendet")).to_have_count(1, timeout=WAIT)
    # The console hears the stored line too (English there).
    await dana.wait_for("message", lambda m: m["author"] == "system" and m["text"] == "This chat has ended")
    stored = (await dana.call("sync", {"conversation_id": cid, "after_seq": 0}))["messages"]
    assert [m["payload"]["say"] for m in stored if m["author"] == "system"] == ["joined", "transferred", "ended"]

    await page.reload()
    await page.wait_for_function("() => window.ChatWidget")
    await page.evaluate("ChatWidget.open()")
    await page.get_by_role("button", name="Überspringen").click(timeout=WAIT)     # the survey waits first
    past = page.get_by_role("button", name="Frühere Chats")
    await past.click(timeout=WAIT)
    await page.locator(f'.past-list .card[data-conversation="{cid}"]').click(timeout=WAIT)
    transcript = page.locator(".view:not([hidden]) .log")
    await expect(transcript).to_contain_text("Dieser Chat ist beendet", timeout=WAIT)
    await expect(transcript).to_contain_text("Admin ist dem Chat beigetreten")
    assert not problems, problems
    await page.context.close()


async def dot_colour(page) -> str:
    return await page.locator(".head .av").evaluate("el => getComputedStyle(el, '::after').backgroundColor")


GREEN = "rgb(50, 213, 131)"


async def test_nobody_online_the_words_and_the_dot_say_so(server, host_site, browser):
    """Defect 7: with no agent online the greeting promised "a person is one click away", the bot said "Connecting
    you with a person" right above "No one is online right now", and the avatar dot stayed green."""
    await server.create_agent("dana@example.com", "Dana Scully")          # exists, but is not online
    url = await host_site(host_page(server.url), allowed_on=server)
    page, problems = await open_widget(browser, url)
    greeting = page.locator(".body > .row.them .bubble")
    await expect(greeting).to_contain_text("No one is online right now", timeout=WAIT)
    await expect(greeting).not_to_contain_text("one click away")
    assert await dot_colour(page) != GREEN
    await ask_for_person(page)
    await expect(page.locator(".qcard")).to_contain_text("No one is online right now", timeout=WAIT)
    handoff = page.locator(".log .row.them").last
    await expect(handoff).to_contain_text("waiting for a person")
    await expect(page.locator(".log")).not_to_contain_text("Connecting you with a person")
    await expect(page.locator(".head .sub")).to_have_text("No one is online right now")
    assert await dot_colour(page) != GREEN
    await page.screenshot(path=screenshot_path("widget-nobody-online"), animations="disabled")

    # With a person online the greeting says so, and the dot is green.
    await server.agent("dana@example.com")
    other, more_problems = await open_widget(browser, url)
    await expect(other.locator(".body > .row.them .bubble")).to_contain_text("A person is one click away", timeout=WAIT)
    assert await dot_colour(other) == GREEN
    assert not problems and not more_problems, problems + more_problems
    await page.context.close()
    await other.context.close()


async def test_header_after_a_reload_with_a_survey_offline_dot_and_yes_no_to_a_person(server, host_site, browser):
    """Defect 16: a pending survey showed "Our assistant answers right away" instead of "Chat ended"; offline, the
    dot stayed green and the subtitle was cut; "Would you like to talk to a person?" had no Yes/No buttons."""
    await server.create_agent("dana@example.com", "Dana Scully")
    dana = await server.agent("dana@example.com")
    url = await host_site(host_page(server.url, attrs='data-language="de"'), allowed_on=server)
    page, problems = await open_widget(browser, url, viewport={"width": 360, "height": 740})
    await page.locator("textarea").fill("zzqx blorp")
    await page.keyboard.press("Enter")
    no_match = page.locator(".log .row.them").last
    yes = no_match.get_by_role("button", name="Ja, gerne")
    await expect(yes).to_be_visible(timeout=WAIT)
    await expect(no_match.get_by_role("button", name="Nein, danke")).to_be_visible()
    await yes.click()
    cid = (await dana.wait_for("assigned"))["conversation"]["id"]
    await expect(page.locator(".head .title")).to_have_text("Dana Scully", timeout=WAIT)

    # Offline: the dot is no longer green, and the subtitle is shown whole.
    await page.context.set_offline(True)
    await expect(page.locator(".conn")).to_be_visible(timeout=WAIT)
    assert await dot_colour(page) != GREEN
    sub = page.locator(".head .sub")
    assert await sub.evaluate("el => el.scrollWidth <= el.clientWidth && el.scrollHeight <= el.clientHeight + 1")
    await page.context.set_offline(False)
    await expect(page.locator(".conn")).to_be_hidden(timeout=WAIT)

    assert (await dana.call("close", {"conversation_id": cid}))["ok"]
    await expect(page.get_by_role("button", name="Überspringen")).to_be_visible(timeout=WAIT)
    await page.reload()
    await page.wait_for_function("() => window.ChatWidget")
    await page.evaluate("ChatWidget.open()")
    await expect(page.get_by_role("button", name="Überspringen")).to_be_visible(timeout=WAIT)
    await expect(page.locator(".head .sub")).to_have_text("Chat beendet")
    assert await dot_colour(page) != GREEN
    assert not problems, problems
    await page.context.close()


async def test_end_chat_with_a_person_asks_first(server, host_site, browser):
    """Defect 3: "End chat" ended a live chat in one click, right next to the close button."""
    await server.create_agent("dana@example.com", "Dana Scully")
    dana = await server.agent("dana@example.com")
    url = await host_site(host_page(server.url), allowed_on=server)
    page, problems = await open_widget(browser, url)
    await ask_for_person(page)
    cid = (await dana.wait_for("assigned"))["conversation"]["id"]
    await expect(page.locator(".head .title")).to_have_text("Dana Scully", timeout=WAIT)
    await page.locator(".head").get_by_role("button", name="End chat").click()
    confirm = page.locator(".confirm")
    await expect(confirm).to_contain_text("End the chat with Dana Scully?")
    await page.screenshot(path=screenshot_path("widget-end-confirm"), animations="disabled")
    await confirm.get_by_role("button", name="Keep chatting").click()
    await expect(confirm).to_be_hidden()
    assert not dana.of("conversation_closed")
    # Still live: a message gets through.
    await page.locator("textarea").fill("Still here")
    await page.keyboard.press("Enter")
    await dana.wait_for("message", lambda m: m["text"] == "Still here")
    await page.locator(".head").get_by_role("button", name="End chat").click()
    await confirm.get_by_role("button", name="End chat").click()
    closed = await dana.wait_for("conversation_closed", lambda e: e["conversation_id"] == cid)
    assert closed["closed_by"] == "visitor"
    assert not problems, problems
    await page.context.close()


async def test_not_what_i_need_asks_why_and_shows_the_answer_in_the_chat(server, host_site, browser):
    """Defect 4: "Not what I need" never asked why; the bot's "Sorry about that" followed nothing the visitor
    could see. Now one tap gives a reason (skippable), the chat shows it, and the reports' data has it."""
    url = await host_site(host_page(server.url), allowed_on=server)
    page, problems = await open_widget(browser, url)
    await page.locator("textarea").fill(QUESTION)
    await page.keyboard.press("Enter")
    card = page.locator(".cards .card").first
    await expect(card).to_be_visible(timeout=WAIT)
    title = (await card.locator("b").text_content()).strip()
    slug = await card.get_attribute("data-slug")
    await card.click()
    await page.get_by_role("button", name="Not what I need").click(timeout=WAIT)
    why = page.locator(".vfoot")
    await expect(why).to_contain_text("Why not?")
    await expect(why.get_by_role("button", name="Skip")).to_be_visible()
    await page.screenshot(path=screenshot_path("widget-why-not-helpful"), animations="disabled")
    await why.get_by_role("button", name="My case is different").click()
    mine = page.locator(".log .row.me").last
    await expect(mine).to_contain_text(f"Not what I need: My case is different (“{title}”)", timeout=WAIT)
    # The bot's reply comes after the visitor's line.
    await expect(page.locator(".log .row").last).to_contain_text("Sorry", timeout=WAIT)
    from chatserver.store import bot_log
    cid = await page.evaluate("JSON.parse(localStorage.getItem(Object.keys(localStorage)"
                              ".find(k => k.startsWith('chat')))).cid")
    events = await server.store.read(bot_log.article_events, cid)
    assert [(e["slug"], e["reason"]) for e in events if e["type"] == "not_helpful"] == \
        [(slug, "my case is different")]
    assert not problems, problems
    await page.context.close()


async def test_a_message_over_the_limit_is_refused_with_a_counter_never_cut(server, host_site, browser):
    """Defect 15: a pasted 4,100-character message was cut to 4,000 without a word."""
    await server.create_agent("dana@example.com", "Dana Scully")
    dana = await server.agent("dana@example.com")
    url = await host_site(host_page(server.url), allowed_on=server)
    page, problems = await open_widget(browser, url)
    box = page.locator("textarea")
    await box.fill("Hello")
    await expect(page.locator(".count")).to_be_hidden()
    await box.fill("")
    await box.focus()
    await page.keyboard.insert_text("x" * 4100)                       # as a paste arrives
    assert await box.evaluate("el => el.value.length") == 4100
    count = page.locator(".count")
    await expect(count).to_have_text("Too long by 100 characters: shorten it or send it in parts.")
    await page.screenshot(path=screenshot_path("widget-too-long"), animations="disabled")
    await page.keyboard.press("Enter")
    await expect(page.locator(".outbox .row")).to_have_count(0)
    assert await box.evaluate("el => el.value.length") == 4100       # kept, for the visitor to shorten
    await box.fill("y" * 4000)
    await expect(count).to_have_text("4000 / 4000 characters")
    await page.keyboard.press("Enter")
    await expect(count).to_be_hidden()
    stored = await server.store.read(lambda db: db.execute(
        "SELECT length(text) FROM messages WHERE author = 'visitor'").fetchall())
    for _ in range(50):
        if stored:
            break
        await page.wait_for_timeout(100)
        stored = await server.store.read(lambda db: db.execute(
            "SELECT length(text) FROM messages WHERE author = 'visitor'").fetchall())
    assert [row[0] for row in stored] == [4000]
    assert not problems, problems
    await page.context.close()
    await dana.disconnect()


HEBREW = "שלום, איפה החבילה שלי?"


async def test_direction_is_the_widgets_own_and_each_message_text_is_dir_auto(server, host_site, browser):
    """Defect 2: on a host page with <html dir="rtl"> the English widget was laid out right to left (".Hi
    there"); Hebrew messages had no dir="auto", so their punctuation landed on the wrong side."""
    await server.create_agent("dana@example.com", "Dana Scully")
    dana = await server.agent("dana@example.com")
    page_html = host_page(server.url).replace('<html lang="en">', '<html lang="en" dir="rtl">')
    url = await host_site(page_html, allowed_on=server)
    page, problems = await open_widget(browser, url)
    direction = "el => getComputedStyle(el).direction"
    assert await page.locator(".panel").evaluate(direction) == "ltr"
    assert await page.locator(".body > .row.them .bubble").evaluate(direction) == "ltr"
    await page.locator("textarea").fill(HEBREW)
    await page.keyboard.press("Enter")
    mine = page.locator(".log .row.me[data-seq] .txt").first
    await expect(mine).to_have_text(HEBREW, timeout=WAIT)
    assert await mine.get_attribute("dir") == "auto"
    assert await mine.evaluate(direction) == "rtl"          # the hidden "You:" before it does not decide
    await page.get_by_role("button", name="Talk to a person", exact=True).click()
    cid = (await dana.wait_for("assigned"))["conversation"]["id"]
    assert (await dana.call("message", {"conversation_id": cid, "client_id": "a1", "text": "Hello! How can I help?"}))["ok"]
    theirs = page.locator(".log .row.them[data-author=agent] .txt").last
    await expect(theirs).to_have_text("Hello! How can I help?", timeout=WAIT)
    assert await theirs.evaluate(direction) == "ltr"
    await page.screenshot(path=screenshot_path("widget-on-rtl-page"), animations="disabled")
    assert not problems, problems
    await page.context.close()
