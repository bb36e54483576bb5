"""Server-side tuning measured by the benchmarks (docs/performance.md); opt-in, wired in by the app factory / run.py.

- The WebSocket transport (no permessage-deflate, lean read and write loops) is in `chatserver.websocket`.
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

log = logging.getLogger(__name__)

# Collect generation 0 after this many net allocations (CPython's default is 700 in 3.11).
GC_THRESHOLDS = (50_000, 20, 100)


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


def tune_gc(thresholds: tuple[int, int, int] = GC_THRESHOLDS) -> None:
    """Call once after start-up objects are built (before serving): collect, freeze them, raise the thresholds."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)
