"""The widget on a 360 px phone, on a host page with hostile CSS and AMD/CommonJS globals: it still shows and works
(article, helpful, end chat, survey, then nobody online with an email for a reply, then an agent), and adds no
global but window.ChatWidget."""
from __future__ import annotations

from playwright.async_api import expect

from chatserver.store import surveys as survey_queries
from chatserver.store import visitors as visitor_queries

from support.browser import screenshot_path
from support.widget_host import QUESTION, focused_in_widget, host_page

WAIT = 10_000
PHONE = {"width": 360, "height": 740}

HOSTILE_CSS = """<style>
  html { font-size: 2px; }
  body { font: 2px/1 serif; color: red; letter-spacing: 6px; text-transform: uppercase; }
  body > *:not(main), div, span, p, section, aside, button, input, textarea, form, label, svg, h2, h3 {
    display: none !important; font-size: 2px !important; line-height: 1px !important; }
  *, *::before, *::after { box-sizing: content-box !important; border: 3px dashed red !important;
    position: relative; z-index: 0 !important; transition: none !important; }
</style>"""

# A page that uses an AMD loader and CommonJS-style globals: the bundled client must not register with them.
HOSTILE_GLOBALS = """<script>
  window.amdCalls = 0;
  window.define = function () { window.amdCalls += 1; };
  window.define.amd = {};
  window.module = {exports: {}};
  window.exports = window.module.exports;
  window.globalsBefore = Object.getOwnPropertyNames(window);
</script>"""


async def test_phone_with_hostile_host_page(server, host_site, browser):
    url = await host_site(host_page(server.url, head=HOSTILE_CSS + HOSTILE_GLOBALS), allowed_on=server)
    context = await browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page = await context.new_page()
    problems = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    await page.goto(url)

    launcher = page.locator(".launcher")
    await expect(launcher).to_be_visible(timeout=WAIT)
    box = await launcher.bounding_box()
    assert box["width"] >= 48 and box["x"] + box["width"] <= PHONE["width"] and box["y"] + box["height"] <= PHONE["height"]
    new_globals = await page.evaluate(
        "Object.getOwnPropertyNames(window).filter(n => !window.globalsBefore.includes(n) && n !== 'globalsBefore')")
    assert new_globals == ["ChatWidget"]
    assert await page.evaluate("window.amdCalls") == 0
    assert await page.evaluate("typeof window.io") == "undefined"
    assert await page.evaluate("Object.keys(window.module.exports).length") == 0
    await page.screenshot(path=screenshot_path("widget-launcher-phone"), animations="disabled")

    await launcher.tap()
    panel = page.get_by_role("dialog", name="Support chat")
    await expect(panel).to_be_visible()
    await panel.evaluate("el => Promise.all(el.getAnimations().map(a => a.finished))")   # the slide-in
    box = await panel.bounding_box()
    assert [round(box[k]) for k in ("x", "y", "width", "height")] == [0, 0, PHONE["width"], PHONE["height"]]
    await expect(launcher).to_be_hidden()                   # the panel's own close button takes over
    textarea = page.locator("textarea")
    assert await textarea.evaluate("el => getComputedStyle(el).fontSize") == "16px"   # the page's 2px does not leak in

    await textarea.fill(QUESTION)
    await page.get_by_role("button", name="Send").tap()
    cards = page.locator(".card")
    await expect(cards.first).to_be_visible(timeout=WAIT)
    assert await cards.first.evaluate("el => getComputedStyle(el).borderTopStyle") == "solid"
    await page.screenshot(path=screenshot_path("widget-suggestions-phone"), animations="disabled")

    await cards.first.tap()
    await expect(page.locator(".kb")).to_contain_text("tracking link", timeout=WAIT)
    await page.screenshot(path=screenshot_path("widget-article-phone"), animations="disabled")
    await page.get_by_role("button", name="This solved my question").tap()
    await expect(page.locator(".log")).to_contain_text("Glad that helped", timeout=WAIT)
    await page.locator(".log .actions").get_by_role("button", name="End chat").tap()

    survey = page.locator(".survey")
    await expect(survey).to_be_visible(timeout=WAIT)
    await page.screenshot(path=screenshot_path("widget-survey-phone"), animations="disabled")
    await survey.get_by_role("radio", name="4", exact=True).first.check()
    await page.get_by_role("button", name="Send feedback").tap()
    await expect(page.locator(".done")).to_be_visible(timeout=WAIT)
    visitor_id = await page.evaluate("k => JSON.parse(localStorage.getItem(k)).token.split('.')[1]",
                                     "chat-widget:" + server.url)
    closed = await server.store.read(_last_conversation_of, visitor_id)
    assert closed["resolution"] == "deflected"
    answer = await server.store.read(survey_queries.get_survey, closed["id"])
    assert (answer["csat"], answer["ces"], answer["nps"]) == (4, None, None)

    # A new chat; nobody is online: said honestly, with an email address for a reply.
    await page.get_by_role("button", name="Back to chat").last.tap()
    await page.get_by_role("button", name="Start a new chat").tap()
    await page.get_by_role("button", name="Talk to a person").tap()
    queue = page.locator(".qcard")
    await expect(queue).to_contain_text("No one is online right now", timeout=WAIT)
    await expect(queue).to_contain_text("Mon-Fri")
    await page.screenshot(path=screenshot_path("widget-queue-phone"), animations="disabled")
    await queue.get_by_role("textbox", name="Email address").fill("pat@example.com")
    await queue.get_by_role("button", name="Send").tap()
    await expect(queue).to_contain_text("We will reply to pat@example.com", timeout=WAIT)
    assert (await server.store.read(visitor_queries.get_visitor, visitor_id))["email"] == "pat@example.com"

    # An agent comes online and takes the chat.
    await server.create_agent("ana@example.com", "Ana")
    agent = await server.agent("ana@example.com")
    cid = (await agent.wait_for("assigned"))["conversation"]["id"]
    await expect(page.locator(".title")).to_have_text("Ana", timeout=WAIT)
    await agent.call("message", {"conversation_id": cid, "client_id": "ana-1",
                                 "text": "Hi, Ana here. I have your email, but I can help right now."})
    await expect(page.locator(".log")).to_contain_text("I can help right now", timeout=WAIT)
    await textarea.fill("Great, thank you!")
    await page.keyboard.press("Enter")
    await agent.wait_for("message", lambda m: m["text"] == "Great, thank you!")
    await page.screenshot(path=screenshot_path("widget-chat-phone"), animations="disabled")

    # The full-screen panel keeps keyboard focus inside: Tab from its last control goes to its first.
    await page.get_by_role("button", name="Send").focus()
    await page.keyboard.press("Tab")
    assert await focused_in_widget(page) == "hbtn"                   # "End chat" in the header
    await page.keyboard.press("Escape")
    await expect(panel).to_be_hidden()
    await expect(launcher).to_have_attribute("aria-expanded", "false")
    assert await focused_in_widget(page) == "launcher"
    assert not problems, problems
    await context.close()


def _last_conversation_of(db, visitor_id: str) -> dict:
    row = db.execute("SELECT id, resolution FROM conversations WHERE visitor_id = ? ORDER BY id DESC LIMIT 1",
                     [visitor_id]).fetchone()
    return {"id": row[0], "resolution": row[1]}
