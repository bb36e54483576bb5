"""The embeddable visitor widget: /widget.js (the bundle built from chatserver/widget/src: the socket.io client, the
widget code and its stylesheet), /widget/config.json (the admin settings the widget shows) and /widget/demo (a host
page to try it). See docs/widget.md."""
from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from .. import keys
from ..desk import hours, outbox
from ..security.origins import origin_checker

WIDGET_DIR = Path(__file__).resolve().parent.parent / "widget"
# Built by chatserver/widget/build.mjs (esbuild) and committed, so the server needs no Node.
BUILT_WIDGET = WIDGET_DIR / "dist" / "widget.js"
# The URL has no version in it, so caches revalidate (ETag) after an hour to pick up a new release.
BUNDLE_MAX_AGE = 3600


@dataclass(frozen=True)
class Bundle:
    text: bytes
    gzipped: bytes
    etag: str


BUNDLE = web.AppKey("widget_bundle", Bundle)


def build_bundle(defaults: dict) -> str:
    """widget.js as served: the built widget inside a function that hands it the server's defaults (base URL,
    greeting, colour), so they need no global and the widget's only global stays window.ChatWidget."""
    try:
        built = BUILT_WIDGET.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RuntimeError(f"{BUILT_WIDGET} is missing: run `npm ci && npm run build` in {WIDGET_DIR}") from None
    return f"(function (WIDGET_DEFAULTS) {{\n{built}}})({json.dumps(defaults)});\n"


def make_bundle(app: web.Application) -> Bundle:
    settings = app[keys.SETTINGS]
    defaults = {"base_url": app[keys.CONFIG].base_url, "greeting": settings.get("widget_greeting"),
                "colour": settings.get("widget_colour")}
    text = build_bundle(defaults).encode("utf-8")
    return Bundle(text=text, gzipped=gzip.compress(text, compresslevel=9, mtime=0),
                  etag='"' + hashlib.sha256(text).hexdigest()[:20] + '"')


async def widget_js(request: web.Request) -> web.Response:
    bundle = request.app[BUNDLE]
    headers = {"Cache-Control": f"public, max-age={BUNDLE_MAX_AGE}", "ETag": bundle.etag, "Vary": "Accept-Encoding",
               # Any site may load the script itself; which sites may chat is decided by allowed_origins.
               "Access-Control-Allow-Origin": "*", "Cross-Origin-Resource-Policy": "cross-origin",
               "X-Content-Type-Options": "nosniff"}
    if bundle.etag in request.headers.get("If-None-Match", ""):
        return web.Response(status=304, headers=headers)
    body = bundle.text
    if "gzip" in request.headers.get("Accept-Encoding", ""):
        body = bundle.gzipped
        headers["Content-Encoding"] = "gzip"
    return web.Response(body=body, headers=headers, content_type="application/javascript", charset="utf-8")


async def widget_config(request: web.Request) -> web.Response:
    """The settings the widget shows, for the sites allowed to embed it (CORS), never cached."""
    origin = request.headers.get("Origin")
    headers = {"Cache-Control": "no-cache", "Vary": "Origin"}
    if origin:
        headers["Access-Control-Allow-Origin"] = origin
    allowed = origin_checker(request.app[keys.SETTINGS])(origin, {"HTTP_HOST": request.host})
    if not allowed:
        return web.json_response({"ok": False, "error": "forbidden_origin",
                                  "message": f"{origin} is not allowed to embed the chat widget "
                                             "(allowed origins in the admin settings)"},
                                 status=403, headers=headers)
    settings = request.app[keys.SETTINGS]
    config = request.app[keys.CONFIG]
    return web.json_response({"ok": True, "config": {
        "greeting": settings.get("widget_greeting"),
        "colour": settings.get("widget_colour"),
        "business_hours": settings.get("business_hours"),
        "max_message_chars": config.max_message_chars,
        "attachment_max_bytes": config.attachment_max_bytes,
        "attachment_types": config.attachment_types,
        "agents_online": await request.app[keys.DESK].live.agents_online(),
        "email": outbox.email_settings(request.app[keys.DESK])[0] is not None,   # offer transcripts by email
        "hours": hours.status(request.app[keys.DESK]),      # {open, next_open_at, timezone}
        "quality": bool(settings.get("quality_enabled")),
    }}, headers=headers)


async def demo_page(request: web.Request) -> web.StreamResponse:
    return web.FileResponse(WIDGET_DIR / "demo.html", headers={"Cache-Control": "no-cache",
                                                               "Content-Type": "text/html; charset=utf-8"})


async def build_on_startup(app: web.Application) -> None:
    # After the settings are loaded, so the built-in defaults are the admins' current greeting and colour.
    app[BUNDLE] = make_bundle(app)


def setup(app: web.Application) -> None:
    app.on_startup.append(build_on_startup)
    app.router.add_get("/widget.js", widget_js)
    app.router.add_get("/widget/config.json", widget_config)
    app.router.add_get("/widget/demo", demo_page)
