"""One webhook request: signed (HMAC-SHA256 over `<timestamp>.<body>` with the endpoint's secret), sent by an aiohttp
client with short timeouts, to an address the guard allows (no loopback, link-local, private or other special
addresses unless the admin setting allows them; checked on every connection, so a DNS answer that changes after
the endpoint was saved cannot point a delivery inside). Only a small excerpt of the response is read."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import socket
import time
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

EXCERPT_BYTES = 200
SIGNATURE_HEADER = "X-Chat-Signature"
TIMESTAMP_HEADER = "X-Chat-Timestamp"
EVENT_ID_HEADER = "X-Chat-Event-Id"
EVENT_HEADER = "X-Chat-Event"


class RefusedAddress(OSError):
    """The URL's host is (or resolves to) an address webhooks may not reach."""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "v1=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str) -> tuple[str, int]:
    """(host, port) of an http(s) URL, or ValueError saying what is wrong with it."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError("not a URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("only http:// and https:// URLs")
    if parts.username or parts.password:
        raise ValueError("no user name or password in the URL (use the signature)")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


class GuardedResolver(AbstractResolver):
    """Resolves as aiohttp would, then refuses when any address is not public (unless allowed now)."""

    def __init__(self, allow_private: Callable[[], bool]):
        self._resolver = ThreadedResolver()
        self._allow_private = allow_private

    async def resolve(self, host: str, port: int = 0, family: int = socket.AF_INET) -> list[ResolveResult]:
        found = await self._resolver.resolve(host, port, family)
        if not self._allow_private():
            refused = [r["host"] for r in found if not is_public(r["host"])]
            if refused:
                raise RefusedAddress(f"{host} is {refused[0]}: a loopback, link-local or private address")
        return found

    async def close(self) -> None:
        await self._resolver.close()


@dataclass
class Outcome:
    status_code: int | None
    error: str | None
    excerpt: str | None
    duration_ms: int


class WebhookSender:
    """Made by the app factory; the domain calls `check` when an endpoint is saved and `send` for each attempt."""

    def __init__(self, allow_private: Callable[[], bool], timeout_seconds: float):
        self._allow_private = allow_private
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds, connect=min(3.0, timeout_seconds))
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(resolver=GuardedResolver(self._allow_private), limit=20,
                                         use_dns_cache=False)
        self._session = aiohttp.ClientSession(connector=connector, timeout=self._timeout, auto_decompress=False)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def check(self, url: str) -> None:
        """ValueError when the URL is not http(s) or its host is an address webhooks may not reach."""
        host, port = check_url(url)
        if self._allow_private():
            return
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror:
            raise ValueError(f"{host} does not resolve") from None
        for info in infos:
            if not is_public(info[4][0]):
                raise ValueError(f"{host} is {info[4][0]}: loopback, link-local and private addresses are refused "
                                 "(an admin setting allows them)")

    async def send(self, url: str, secret: str, event_id: str, event_type: str, body: str) -> Outcome:
        started = time.monotonic()
        data = body.encode()
        timestamp = str(int(time.time()))
        headers = {"Content-Type": "application/json", "User-Agent": "chatserver-webhooks/1",
                   EVENT_ID_HEADER: event_id, EVENT_HEADER: event_type, TIMESTAMP_HEADER: timestamp,
                   SIGNATURE_HEADER: sign(secret, timestamp, data)}
        try:
            host, _ = check_url(url)
            if not self._allow_private() and _is_literal(host) and not is_public(host):
                # aiohttp connects to an IP literal without asking the resolver: checked here instead
                raise RefusedAddress(f"{host} is a loopback, link-local or private address")
            async with self._session.post(url, data=data, headers=headers, allow_redirects=False) as resp:
                excerpt = (await resp.content.read(EXCERPT_BYTES)).decode("utf-8", "replace")
                return Outcome(resp.status, None, excerpt, _ms(started))
        except RefusedAddress as exc:
            return Outcome(None, f"refused: {exc}"[:300], None, _ms(started))
        except asyncio.TimeoutError:
            return Outcome(None, "timed out", None, _ms(started))
        except (aiohttp.ClientError, ValueError, OSError) as exc:
            cause = exc.__cause__ or exc
            if isinstance(cause, RefusedAddress) or isinstance(getattr(exc, "os_error", None), RefusedAddress):
                return Outcome(None, f"refused: {getattr(exc, 'os_error', None) or cause}"[:300], None, _ms(started))
            return Outcome(None, f"{type(exc).__name__}: {cause}"[:300], None, _ms(started))


def _is_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
