"""Serving the widget: the /widget.js bundle (caching, gzip, size, the wrapped client), /widget/config.json (allowed
origins, admin settings) and the /widget/demo host page."""
from __future__ import annotations

import gzip
import json
import re

import aiohttp

from chatserver import keys
from chatserver.views.public import VENDOR_CLIENT

from support.server import ROOT

SIZE_LIMIT = 40 * 1024   # the whole widget, client included, gzipped (product requirement)


async def get(url: str, headers: dict | None = None, auto_decompress: bool = True):
    async with aiohttp.ClientSession(auto_decompress=auto_decompress) as http:
        async with http.get(url, headers=headers or {}) as resp:
            return resp.status, resp.headers, await resp.read()


async def test_widget_js_is_one_cached_gzipped_bundle_under_the_size_limit(server, capsys):
    status, headers, raw = await get(server.url + "/widget.js", {"Accept-Encoding": "gzip"}, auto_decompress=False)
    assert status == 200
    assert headers["Content-Type"].startswith("application/javascript")
    assert headers["Content-Encoding"] == "gzip"
    assert re.fullmatch(r"public, max-age=\d+", headers["Cache-Control"])
    assert "Accept-Encoding" in headers["Vary"]
    assert "Content-Security-Policy" not in headers           # embeddable, unlike the console's pages
    text = gzip.decompress(raw).decode()

    with capsys.disabled():
        print(f"\nwidget.js: {len(text.encode()) / 1024:.1f} KB raw, {len(raw) / 1024:.1f} KB gzipped "
              f"(the socket.io client alone, as the console loads it: {len(gzip.compress(VENDOR_CLIENT.read_bytes(), 9)) / 1024:.1f} KB)")
    assert len(raw) < SIZE_LIMIT

    # One response: the pinned official client (no source map reference), the widget, its stylesheet.
    assert "Socket.IO v4.8.4" in text
    assert "sourceMappingURL" not in text
    assert re.search(r"window\.ChatWidget\s*=\s*Object\.freeze\(", text)   # minified by esbuild: no spaces
    assert ":host{" in text
    # Clients that do not take gzip get the same bytes uncompressed; a known ETag gets 304.
    status, plain_headers, plain = await get(server.url + "/widget.js", {"Accept-Encoding": "identity"})
    assert status == 200 and plain.decode() == text and "Content-Encoding" not in plain_headers
    status, again, body = await get(server.url + "/widget.js", {"If-None-Match": headers["ETag"]})
    assert status == 304 and body == b"" and again["ETag"] == headers["ETag"]


async def test_config_follows_admin_settings_and_allowed_origins(server_factory):
    server = await server_factory(allowed_origins=["https://shop.example.com"])
    status, headers, body = await get(server.url + "/widget/config.json", {"Origin": "https://shop.example.com"})
    assert status == 200
    assert headers["Access-Control-Allow-Origin"] == "https://shop.example.com"
    assert headers["Cache-Control"] == "no-cache"
    config = json.loads(body)["config"]
    assert config["greeting"].startswith("Hi!") and config["colour"] == "#2457d6"
    assert config["business_hours"] and config["max_message_chars"] == 4000 and config["agents_online"] == 0

    # An admin's change reaches the widget on its next load.
    await server.app[keys.SETTINGS].update({"widget_greeting": "Welcome to Acme!", "widget_colour": "#0a7"})
    status, _, body = await get(server.url + "/widget/config.json", {"Origin": "https://shop.example.com"})
    config = json.loads(body)["config"]
    assert (config["greeting"], config["colour"]) == ("Welcome to Acme!", "#0a7")

    # A site that is not allowed gets a readable refusal, so the widget stays hidden there.
    status, headers, body = await get(server.url + "/widget/config.json", {"Origin": "https://evil.example.net"})
    assert status == 403
    refusal = json.loads(body)
    assert refusal["ok"] is False and refusal["error"] == "forbidden_origin"
    assert headers["Access-Control-Allow-Origin"] == "https://evil.example.net"
    # The server's own pages (the demo) are always allowed.
    host = server.url.split("//")[1]
    status, _, _ = await get(server.url + "/widget/config.json", {"Origin": f"http://{host}"})
    assert status == 200


async def test_demo_page_embeds_the_widget_with_one_tag(server):
    status, headers, body = await get(server.url + "/widget/demo")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    page = body.decode()
    assert re.findall(r"<script\b[^>]*>", page) == ['<script src="/widget.js" async>']
    assert page == (ROOT / "chatserver" / "widget" / "demo.html").read_text()
