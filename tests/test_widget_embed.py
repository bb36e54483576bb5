"""Embedding options in Chromium: the script tag's data- attributes and the API object; a site that is not in the
allowed origins gets no widget."""
from __future__ import annotations

from playwright.async_api import expect

from chatserver.store import visitors as visitor_queries

from support.widget_host import host_page

WAIT = 10_000


async def test_data_attributes_and_api(server, host_site, browser):
    attrs = 'data-colour="#c2410c" data-position="left" data-greeting="Moin! Wie können wir helfen?" data-language="de"'
    url = await host_site(host_page(server.url, attrs=attrs, body="""<script>
        window.widgetEvents = [];
        addEventListener('chatwidget:ready', () => {
          ChatWidget.on('open', () => widgetEvents.push('open'));
          ChatWidget.on('close', () => widgetEvents.push('close'));
        });
    </script>"""), allowed_on=server)
    page = await (await browser.new_context(viewport={"width": 1024, "height": 700})).new_page()
    await page.goto(url)
    launcher = page.get_by_role("button", name="Chat öffnen")
    await expect(launcher).to_be_visible(timeout=WAIT)
    box = await launcher.bounding_box()
    assert box["x"] < 100                                           # bottom left
    assert await launcher.evaluate("el => getComputedStyle(el).backgroundColor") == "rgb(194, 65, 12)"

    await page.evaluate("ChatWidget.open()")
    panel = page.get_by_role("dialog", name="Support-Chat")
    await expect(panel).to_be_visible()
    await expect(panel).to_contain_text("Moin! Wie können wir helfen?")
    await expect(page.get_by_role("button", name="Mit einem Menschen sprechen")).to_be_visible()
    # identify(): a signed-in customer's details reach the visitor record (what agents see).
    await page.evaluate("ChatWidget.identify({name: 'Pat Doe', email: 'pat@example.com'})")
    key = "chat-widget:" + server.url
    await page.wait_for_function("k => (JSON.parse(localStorage.getItem(k) || '{}').contact || {}).sent", arg=key)
    visitor_id = await page.evaluate("k => JSON.parse(localStorage.getItem(k)).token.split('.')[1]", key)
    visitor = await server.store.read(visitor_queries.get_visitor, visitor_id)
    assert (visitor["name"], visitor["email"]) == ("Pat Doe", "pat@example.com")
    # The bot's own lines are shown in the widget's language (stored in English, named by payload.say).
    await page.locator("textarea").fill("Where is my order?")
    await page.keyboard.press("Enter")
    await expect(page.locator(".log")).to_contain_text("Diese Artikel könnten Ihre Frage beantworten:", timeout=WAIT)
    assert "These articles may answer" not in await page.locator(".log").inner_text()
    await page.evaluate("ChatWidget.close()")
    await expect(panel).to_be_hidden()
    assert await page.evaluate("window.widgetEvents") == ["open", "close"]
    assert await page.evaluate("Object.isFrozen(ChatWidget) && Object.keys(ChatWidget).sort().join()") == \
        "close,identify,on,open,version"
    await page.context.close()


async def test_a_site_not_allowed_gets_no_widget(server_factory, host_site, browser):
    server = await server_factory(allowed_origins=["https://shop.example.com"])
    url = await host_site(host_page(server.url))
    page = await (await browser.new_context()).new_page()
    warnings = []
    page.on("console", lambda m: warnings.append(m.text) if m.type == "warning" else None)
    async with page.expect_response(lambda r: r.url.endswith("/widget/config.json")) as config:
        await page.goto(url)
    assert (await config.value).status == 403
    await expect(page.locator("[data-chat-widget]")).to_have_count(0, timeout=WAIT)
    assert any("not allowed to embed" in w for w in warnings), warnings
    await page.context.close()
