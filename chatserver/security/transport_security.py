"""What every response says about the connection it travels on: whether it came over TLS (Secure cookies, HSTS),
that private pages are never cached, and a `Server:` header that names no library version.

A request counts as HTTPS when the server itself terminates TLS, when a trusted proxy (CHAT_TRUSTED_PROXIES)
says so in `X-Forwarded-Proto`, or when CHAT_PUBLIC_URL is an https:// address (then the server is only ever
meant to be reached through TLS, even if the proxy does not say so).
"""
from __future__ import annotations

from aiohttp import web, web_response

from .. import keys
from . import client_address

SERVER_NAME = "chatserver"
# A year, the usual HSTS lifetime. No includeSubDomains: other hosts of the same domain are not ours to pin.
HSTS = "max-age=31536000"
# Pages and JSON that show conversations, accounts or reports: never kept by a browser or a shared cache.
PRIVATE_PREFIXES = ("/admin", "/api/", "/console", "/account")


def is_https(request: web.BaseRequest) -> bool:
    """Whether the client reached us over TLS (directly, or through a trusted proxy that says so)."""
    if request.secure or request.app[keys.CONFIG].public_url.lower().startswith("https://"):
        return True
    if not client_address.from_trusted_proxy(request):
        return False
    forwarded = request.headers.getall("X-Forwarded-Proto", [])
    # The last value is the one the proxy nearest to us set; anything left of it came from further out.
    last = forwarded[-1].split(",")[-1].strip().lower() if forwarded else ""
    return last == "https"


async def _decorate(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Server"] = SERVER_NAME
    if is_https(request):
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if request.path.startswith(PRIVATE_PREFIXES) and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"


def setup(app: web.Application) -> None:
    # on_response_prepare reaches every response the app sends: handlers', raised HTTP errors, files, WebSocket
    # upgrades and Engine.IO's polling answers alike.
    app.on_response_prepare.append(_decorate)


def hide_server_software() -> None:
    """Also name no version in the answers aiohttp gives on its own (to requests too malformed to reach the app):
    its default `Server:` value is a module constant, so this is process-wide; run.py calls it once."""
    web_response.SERVER_SOFTWARE = SERVER_NAME
