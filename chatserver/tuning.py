"""Server-side tuning measured by the benchmarks (docs/performance.md); opt-in, wired in by the app factory / run.py.

- `disable_websocket_compression(sio)`: aiohttp accepts permessage-deflate whenever a client offers it (every
  browser does) and python-engineio has no switch for it. A deflate context costs ~90 KB of RSS per connection
  (zlib windows for both directions), which is most of what an idle visitor costs. Chat messages are short, so
  compression saves little bandwidth. This swaps the Engine.IO WebSocket wrapper of ONE server instance for one
  that answers the handshake without the extension.
- `InlineSendManager`: python-socketio's manager sends every emit through one task per recipient plus
  `asyncio.wait`, even when the room has one socket (an agent's console, a visitor's tab): task creation and the
  wait were ~10 % of the server's CPU per message in a profile. With one recipient it queues the frame inline (the
  Engine.IO socket only puts it in its send queue).
- `tune_gc()`: freeze everything alive at start-up (templates, the KB index, modules) out of the collector's
  reach and raise the generation-0 threshold, so full collections (which walk every live object, i.e. every
  connection's state) run far less often: those were the p99 spikes at 1,000 visitors.
"""
from __future__ import annotations

import gc
import logging

import socketio
from engineio import packet as eio_packet
from socketio import packet
from aiohttp.web import WebSocketResponse
from engineio.async_drivers import aiohttp as engineio_aiohttp

log = logging.getLogger(__name__)

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


class InlineSendManager(socketio.AsyncManager):
    """python-socketio's manager, sending inline when an emit without callback has exactly one recipient."""

    async def emit(self, event, data, namespace, room=None, skip_sid=None, callback=None, to=None, **kwargs):
        target = to or room
        if callback is None and namespace in self.rooms and not isinstance(data, tuple):
            skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
            recipients = [eio_sid for sid, eio_sid in self.get_participants(namespace, target) if sid not in skip]
            if len(recipients) <= 1:
                if recipients:
                    await self._send_one(recipients[0], event, data, namespace)
                return
        await super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, to=to, **kwargs)

    async def _send_one(self, eio_sid, event, data, namespace) -> None:
        pkt = self.server.packet_class(packet.EVENT, namespace=namespace,
                                       data=[event] if data is None else [event, data])
        encoded = pkt.encode()
        try:
            for part in encoded if isinstance(encoded, list) else [encoded]:
                await self.server._send_eio_packet(eio_sid, eio_packet.Packet(eio_packet.MESSAGE, part))
        except Exception:  # like a failed send task: the emitter (e.g. an acked message) must not fail with it
            log.exception("could not send %s to %s", event, eio_sid)


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
