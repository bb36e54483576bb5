"""A real HTTP receiver for webhooks: an aiohttp server on a free port that keeps every request (headers, raw body)
and answers with the status the test sets (`answer`), or a scripted list of statuses."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time

from aiohttp import web

from .server import free_port


def verify(secret: str, headers, body: bytes, tolerance: float = 300) -> bool:
    """The receiver side as docs/webhooks.md shows it: HMAC-SHA256 of `<timestamp>.<body>`, and a fresh timestamp."""
    timestamp = headers.get("X-Chat-Timestamp", "")
    expected = "v1=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    fresh = timestamp.isdigit() and abs(time.time() - int(timestamp)) < tolerance
    return fresh and hmac.compare_digest(expected, headers.get("X-Chat-Signature", ""))


class Receiver:
    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/hooks"
        self.requests: list[tuple[dict, bytes, int]] = []
        self.answer = 200
        self.script: list[int] = []     # statuses answered first, one per request
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        status = self.script.pop(0) if self.script else self.answer
        self.requests.append((dict(request.headers), body, status))
        self._changed.set()
        return web.Response(status=status, text=f"answered {status} " + "x" * 500)

    async def start(self) -> "Receiver":
        app = web.Application()
        app.router.add_post("/hooks", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def events(self, accepted_only: bool = False) -> list[dict]:
        """Bodies received (as JSON), in arrival order; `accepted_only`: those answered 2xx."""
        return [json.loads(body) for _, body, status in self.requests if not accepted_only or 200 <= status < 300]

    async def wait_until(self, predicate, timeout: float = 15.0):
        deadline = time.monotonic() + timeout
        while not predicate():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"receiver: condition not met; got {[e['type'] for e in self.events()]}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))
            except asyncio.TimeoutError:
                pass
