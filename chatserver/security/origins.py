"""Which web origins count as this server's own, and what start-up says about the sites allowed to embed the widget.

Visitor chats may be opened from this server's own pages (the demo page) and from the origins an admin lists
(CHAT_ALLOWED_ORIGINS or Admin → Settings). Nothing else is allowed by default: a site is allowed on purpose,
never because nobody changed the default. `*` (any site) still works for trying things out, with a warning.
"""
from __future__ import annotations

import logging
from urllib.parse import urlsplit

from aiohttp import web

from .. import keys
from ..config import Config

log = logging.getLogger(__name__)


def origin_of(url: str) -> str:
    """`scheme://host[:port]` of a URL, lower-cased, as browsers send it in `Origin`."""
    parts = urlsplit(url.strip())
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}" if parts.scheme and parts.netloc else ""


def is_own_origin(origin: str, config: Config, host: str | None) -> bool:
    """Whether a browser's Origin is this server: its public URL (CHAT_PUBLIC_URL), or the host the request was
    sent to under either scheme (a TLS-terminating proxy may not tell us which one the browser used)."""
    origin = origin.rstrip("/").lower()
    if origin == origin_of(config.base_url):
        return True
    return bool(host) and origin in (f"http://{host.lower()}", f"https://{host.lower()}")


async def announce(app: web.Application) -> None:
    """At start-up (after the saved settings are loaded): how to allow a site, or a warning that any site may."""
    allowed = app[keys.SETTINGS].get("allowed_origins")
    if "*" in allowed:
        log.warning("CHAT_ALLOWED_ORIGINS is '*': any web site can open visitor chats with this server. "
                    "List the sites that embed the widget instead (docs/operations.md, Security).")
    elif not allowed:
        print("Only this server's own pages may open visitor chats. To embed the widget on a site, allow it: "
              "CHAT_ALLOWED_ORIGINS=https://shop.example.com (comma-separated) or Admin → Settings → Allowed origins.",
              flush=True)


def setup(app: web.Application) -> None:
    app.on_startup.append(announce)


def origin_checker(settings):
    """Engine.IO-level check for every transport request (and the widget's config endpoint): the server's own
    pages, plus the sites allowed to embed the widget (CHAT_ALLOWED_ORIGINS, changeable in the admin settings;
    none by default). The agent namespace narrows this to same-origin only."""

    def check(origin, environ=None) -> bool:
        if origin is None:
            return True
        allowed = settings.get("allowed_origins")
        if "*" in allowed or origin.rstrip("/") in allowed:
            return True
        return is_own_origin(origin, settings.config, (environ or {}).get("HTTP_HOST"))

    return check
