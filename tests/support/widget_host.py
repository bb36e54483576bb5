"""Helpers of the widget's browser tests: a customer's site on another origin that embeds the widget with the one
script tag, and small readers of the widget's shadow DOM (Playwright's CSS locators pierce open shadow roots)."""
from __future__ import annotations

import html

import pytest
from aiohttp import web

from chatserver import keys

from .server import ROOT, free_port

QUESTION = "My parcel has not arrived yet, where is it?"


def host_page(chat_url: str, head: str = "", attrs: str = "", body: str = "") -> str:
    """A small shop page: the widget is embedded exactly as the README tells customers to."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,"><title>Shop</title>{head}</head>
<body><main><h1>Acme Shop</h1><p>Our best products.</p><a href="#top">A link</a> <button>Add to cart</button></main>
{body}
<script src="{html.escape(chat_url)}/widget.js" async {attrs}></script>
</body></html>"""


def demo_page_for(chat_url: str) -> str:
    """The realistic demo shop page (chatserver/widget/demo.html), its one tag pointing at the chat server."""
    page = (ROOT / "chatserver" / "widget" / "demo.html").read_text()
    tag = '<script src="/widget.js" async></script>'
    assert page.count(tag) == 1
    return page.replace(tag, f'<script src="{html.escape(chat_url)}/widget.js" async></script>')


@pytest.fixture
async def host_site():
    """Serve one host page from its own aiohttp server (another port, so another origin); returns its URL.
    `allowed_on=server` adds the page's origin to that chat server's allowed origins, as a shop's admin would
    (no other site may open visitor chats by default)."""
    runners: list[web.AppRunner] = []

    async def serve(page: str, allowed_on=None) -> str:
        async def index(request):
            return web.Response(text=page, content_type="text/html")

        app = web.Application()
        app.router.add_get("/", index)
        runner = web.AppRunner(app, handle_signals=False)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
        if allowed_on is not None:
            settings = allowed_on.app[keys.SETTINGS]
            await settings.update({"allowed_origins": [*settings.get("allowed_origins"), f"http://127.0.0.1:{port}"]})
        return f"http://127.0.0.1:{port}/"

    yield serve
    for runner in runners:
        await runner.cleanup()


async def shown_messages(page) -> list[dict]:
    """The stored messages the widget shows, in screen order: [{seq, author, text}]."""
    return await page.locator(".log [data-seq]").evaluate_all(
        """rows => rows.map(r => ({seq: Number(r.dataset.seq), author: r.dataset.author,
            text: !r.querySelector('.bubble') ? r.textContent :   // a stored system line ("Dana joined the chat")
                  [...r.querySelector('.bubble').childNodes].filter(n => !(n.classList && n.classList.contains('sr')))
                      .map(n => n.textContent).join('')}))""")


async def focused_in_widget(page) -> str | None:
    """The class of the element focused inside the widget's shadow root, if any."""
    return await page.evaluate("""() => {
        const host = document.querySelector('[data-chat-widget]');
        const el = host && host.shadowRoot.activeElement;
        return el ? (el.className || el.tagName.toLowerCase()) : null;
    }""")
