"""Server-side tuning measured by the benchmarks (docs/performance.md); opt-in, wired in by the app factory / run.py.

- `disable_websocket_compression(sio)`: aiohttp accepts permessage-deflate whenever a client offers it (every
  browser does) and python-engineio has no switch for it. A deflate context costs ~90 KB of RSS per connection
  (zlib windows for both directions), which is most of what an idle visitor costs. Chat messages are short, so
  compression saves little bandwidth. This swaps the Engine.IO WebSocket wrapper of ONE server instance for one
  that answers the handshake without the extension.
- `tune_gc()`: freeze everything alive at start-up (templates, the KB index, modules) out of the collector's
  reach and raise the generation-0 threshold, so full collections (which walk every live object, i.e. every
  connection's state) run far less often: those were the p99 spikes at 1,000 visitors.
"""
from __future__ import annotations

import gc

import socketio
from aiohttp.web import WebSocketResponse
from engineio.async_drivers import aiohttp as engineio_aiohttp

# Collect generation 0 after this many net allocations (CPython's default is 700 in 3.11).
GC_THRESHOLDS = (50_000, 20, 100)


class UncompressedWebSocket(engineio_aiohttp.WebSocket):
    """engineio's aiohttp WebSocket wrapper, answering the upgrade without permessage-deflate."""

    async def __call__(self, environ):
        request = environ["aiohttp.request"]
        self._sock = WebSocketResponse(max_msg_size=self.server.max_http_buffer_size, compress=False)
        await self._sock.prepare(request)
        self.environ = environ
        await self.handler(self)
        return self._sock


def disable_websocket_compression(sio: socketio.AsyncServer) -> None:
    """Make this Socket.IO server's WebSocket upgrades refuse permessage-deflate (other servers are untouched)."""
    eio = sio.eio
    if eio._async is None or eio._async.get("websocket") is None:  # not the aiohttp driver
        raise ValueError("disable_websocket_compression needs async_mode='aiohttp'")
    eio._async = {**eio._async, "websocket": UncompressedWebSocket}


def tune_gc(thresholds: tuple[int, int, int] = GC_THRESHOLDS) -> None:
    """Call once after start-up objects are built (before serving): collect, freeze them, raise the thresholds."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)
