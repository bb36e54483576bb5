"""`InlineSendManager`: python-socketio's client manager, sending inline to a lone recipient.

python-socketio's manager sends every emit through one task per recipient plus `asyncio.wait`, even when the room
has one socket (an agent's console, a visitor's tab): task creation and the wait were ~10 % of the server's CPU
per message in a profile (docs/performance.md). With one recipient this manager queues the frame inline (the
Engine.IO socket only puts it in its send queue).
"""
from __future__ import annotations

import logging

import socketio
from engineio import packet as eio_packet
from socketio import packet

log = logging.getLogger(__name__)


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
