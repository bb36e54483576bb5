"""The widget in Chromium on a customer's site (another origin), against a real server, a real agent socket and
the real SQLite file: suggestions, an article, feedback, the queue, the agent, a reload, hostile text, the survey."""
from __future__ import annotations

from playwright.async_api import expect

from chatserver.store import bot_log
from chatserver.store import conversations as conv_queries
from chatserver.store import surveys as survey_queries

from support.browser import screenshot_path
from support.widget_host import QUESTION, demo_page_for, focused_in_widget, shown_messages

WAIT = 10_000
HOSTILE = "<img src=x onerror=alert(1)> is this safe?"
DESKTOP = {"width": 1280, "height": 800}


async def test_visitor_journey_on_another_origin(server, host_site, browser):
    await server.create_agent("dana@example.com", "Dana", max_chats=1)
    agent = await server.agent("dana@example.com")
    # Dana is busy with someone else, so our visitor waits in line with a real position and estimate.
    other = await server.visitor()
    other_chat = await other.call("request_agent", {})
    await agent.wait_for("assigned", lambda a: a["conversation"]["id"] == other_chat["conversation_id"])

    url = await host_site(demo_page_for(server.url), allowed_on=server)
    assert url.split("/")[2] != server.url.split("/")[2]          # really another origin (port)
    context = await browser.new_context(viewport=DESKTOP)
    page = await context.new_page()
    problems, dialogs = [], []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    await page.goto(url)

    launcher = page.locator(".launcher")
    await expect(launcher).to_be_visible(timeout=WAIT)
    await expect(launcher).to_have_attribute("aria-expanded", "false")
    await page.screenshot(path=screenshot_path("widget-launcher-desktop"), animations="disabled")

    # Keyboard only: the launcher opens the dialog, focus moves in; Escape closes, focus returns.
    await launcher.focus()
    await page.keyboard.press("Enter")
    panel = page.get_by_role("dialog", name="Support chat")
    await expect(panel).to_be_visible()
    await expect(launcher).to_have_attribute("aria-expanded", "true")
    assert await focused_in_widget(page) == "textarea"
    await page.keyboard.press("Escape")
    await expect(panel).to_be_hidden()
    assert await focused_in_widget(page) == "launcher"
    await page.keyboard.press("Enter")
    await expect(panel).to_be_visible()
    assert await page.locator(".log").get_attribute("aria-live") == "polite"

    # A question: the bot's suggestions come as cards.
    await page.keyboard.type(QUESTION)
    await page.keyboard.press("Enter")
    cards = page.locator(".card")
    await expect(cards.first).to_be_visible(timeout=WAIT)
    await expect(cards.first).to_contain_text("Track your order")
    await page.screenshot(path=screenshot_path("widget-suggestions-desktop"), animations="disabled")

    # Open one inside the widget, then say it is not what we need.
    await cards.first.click()
    article = page.locator(".kb")
    await expect(article).to_contain_text("tracking link", timeout=WAIT)
    assert await page.locator(".scroll h2").inner_text() == "Track your order"
    await page.screenshot(path=screenshot_path("widget-article-desktop"), animations="disabled")
    await page.get_by_role("button", name="Not what I need").click()
    await page.get_by_role("button", name="Skip").click()                 # why not: one tap, or skip
    await expect(page.locator(".log")).to_contain_text("Sorry", timeout=WAIT)
    cid = await _conversation_of(server, QUESTION)
    events = await server.store.read(bot_log.article_events, cid)
    assert [(e["slug"], e["type"]) for e in events if e["type"] in ("opened", "not_helpful")] == [
        ("track-order", "opened"), ("track-order", "not_helpful")]

    # Ask for a person: an honest place in line.
    await page.get_by_role("button", name="Talk to a person").click()
    queue = page.locator(".qcard")
    await expect(queue).to_contain_text("You are number 1 in line", timeout=WAIT)
    await expect(queue).to_contain_text("Estimated wait")
    await expect(page.get_by_role("button", name="Talk to a person")).to_be_hidden()
    await page.screenshot(path=screenshot_path("widget-queue-desktop"), animations="disabled")

    # Dana finishes the other chat; ours is next.
    await agent.call("close", {"conversation_id": other_chat["conversation_id"]})
    await agent.wait_for("assigned", lambda a: a["conversation"]["id"] == cid)
    await expect(page.locator(".title")).to_have_text("Dana", timeout=WAIT)
    await expect(page.locator(".log")).to_contain_text("Dana joined the chat")
    await expect(queue).to_be_hidden()

    assert (await agent.call("typing", {"conversation_id": cid, "typing": True}))["ok"]
    await expect(page.locator(".typing")).to_contain_text("Dana is typing", timeout=WAIT)
    assert (await agent.call("message", {"conversation_id": cid, "client_id": "dana-1",
                                         "text": "Hi, I'm Dana. Let me look at your parcel."}))["ok"]
    await expect(page.locator(".log")).to_contain_text("Let me look at your parcel", timeout=WAIT)
    await expect(page.locator(".typing")).to_be_hidden()

    # The visitor's typing reaches Dana (throttled), then a hostile message is shown as text and runs nothing.
    await page.locator("textarea").press_sequentially("Thanks! ", delay=20)
    await agent.wait_for("typing", lambda e: e["conversation_id"] == cid and e["typing"])
    await page.locator("textarea").fill(HOSTILE)
    await page.keyboard.press("Enter")
    got = await agent.wait_for("message", lambda m: m["author"] == "visitor" and "onerror" in m["text"])
    assert got["text"] == HOSTILE
    mine = page.locator(".row.me[data-seq]").last
    await expect(mine.locator(".meta")).to_contain_text("Sent", timeout=WAIT)
    assert [m for m in await shown_messages(page) if m["author"] == "visitor"][-1]["text"] == HOSTILE
    assert await page.locator("[data-chat-widget] img").count() == 0
    await page.screenshot(path=screenshot_path("widget-chat-desktop"), animations="disabled")

    # Reload mid-conversation: the same conversation with its full history, nothing twice.
    before = await shown_messages(page)
    await page.reload()
    await expect(panel).to_be_visible(timeout=WAIT)                 # it stays open in this tab
    await expect(page.locator(".log [data-seq]")).to_have_count(len(before), timeout=WAIT)
    after = await shown_messages(page)
    assert after == before
    seqs = [m["seq"] for m in after]
    assert seqs == sorted(set(seqs))
    stored = await server.store.read(conv_queries.messages_after, cid, 0, False, 1000)
    assert [(m["seq"], m["text"]) for m in stored] == [(m["seq"], m["text"]) for m in after]
    await expect(page.locator(".title")).to_have_text("Dana")

    # Dana closes the chat: the survey, in the widget.
    assert (await agent.call("close", {"conversation_id": cid}))["ok"]
    survey = page.locator(".survey")
    await expect(survey).to_be_visible(timeout=WAIT)
    assert await survey.locator("fieldset[data-question]").count() == 3     # CSAT, CES and NPS (on by default)
    await page.screenshot(path=screenshot_path("widget-survey-desktop"), animations="disabled")
    await survey.get_by_role("group", name="How satisfied").get_by_role("radio", name="5, Very satisfied").click()
    await survey.get_by_role("group", name="made it easy").get_by_role("radio", name="6", exact=True).click()
    await survey.get_by_role("group", name="recommend").get_by_role("radio", name="9", exact=True).click()
    await survey.locator("textarea").fill("Quick and friendly <b>thanks</b>")
    await page.get_by_role("button", name="Send feedback").click()
    await expect(page.locator(".done")).to_contain_text("Thank you", timeout=WAIT)
    answer = await server.store.read(survey_queries.get_survey, cid)
    assert (answer["csat"], answer["ces"], answer["nps"], answer["comment"]) == (5, 6, 9, "Quick and friendly <b>thanks</b>")

    assert not problems, problems
    assert not dialogs, dialogs
    await context.close()


async def _conversation_of(server, first_text: str) -> int:
    """The conversation the widget's visitor opened with `first_text`."""
    def find(db):
        return db.execute("SELECT conversation_id FROM messages WHERE author = 'visitor' AND text = ? "
                          "ORDER BY id DESC LIMIT 1", [first_text]).fetchone()[0]
    return await server.store.read(find)
