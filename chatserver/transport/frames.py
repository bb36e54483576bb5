"""What a client may send, packet by packet. Anything else ends its connection (docs/operations.md, "Frames").

The rules are those of the reference parser (socket.io-parser's `isPayloadValid`: a CONNECT carries an object or
nothing, a DISCONNECT nothing, an EVENT a list whose first item is an event name that is not reserved, an ACK a
list), plus one of ours: no binary data at all. The chat protocol has none, and python-socketio would keep every
attachment a BINARY_EVENT announces in memory until the last one arrives.
"""
from __future__ import annotations

import logging
import time

from engineio import packet as eio_packet
from engineio import payload as eio_payload
from engineio.exceptions import EngineIOError
from socketio import packet as sio_packet

# Names the Socket.IO clients use for their own lifecycle; a client never emits them (socket.io-client refuses to),
# and python-socketio would run the server's connect or disconnect handler for them.
RESERVED_EVENTS = frozenset({"connect", "connect_error", "disconnect", "disconnecting", "newListener",
                             "removeListener"})

DECODE_ERRORS = (ValueError, TypeError, IndexError, KeyError, RecursionError)


class FrameRefused(EngineIOError):
    """A packet the chat server does not accept; its connection is closed (an EngineIOError, so that
    python-engineio answers a long-polling POST that raises it with 400 and forgets the session)."""

    def __init__(self, why: str):
        super().__init__(why)
        self.why = why


def engineio_packet(data: str | bytes) -> eio_packet.Packet:
    """One Engine.IO packet a client sent over WebSocket, decoded; FrameRefused when it is not one."""
    try:
        pkt = eio_packet.Packet(encoded_packet=data)
    except DECODE_ERRORS:
        raise FrameRefused("not an Engine.IO packet") from None
    return _checked(pkt)


def engineio_payload(body: bytes) -> list[eio_packet.Packet]:
    """The Engine.IO packets of a long-polling POST body, decoded; FrameRefused when it holds anything else."""
    try:
        packets = eio_payload.Payload(encoded_payload=body.decode("utf-8")).packets
    except (UnicodeDecodeError, *DECODE_ERRORS):
        raise FrameRefused("not an Engine.IO payload") from None
    return [_checked(pkt) for pkt in packets]


def _checked(pkt: eio_packet.Packet) -> eio_packet.Packet:
    if pkt.binary:
        raise FrameRefused("binary data (the chat protocol has none)")
    if not 0 <= pkt.packet_type < len(eio_packet.packet_names):
        raise FrameRefused("unknown Engine.IO packet type")
    return pkt


def socketio_packet(packet_class: type[sio_packet.Packet], data: object) -> sio_packet.Packet:
    """The Socket.IO packet in an Engine.IO message, decoded and checked; FrameRefused when the chat server does
    not accept it."""
    if isinstance(data, (bytes, bytearray)):
        raise FrameRefused("binary data (the chat protocol has none)")
    if not isinstance(data, str):  # python-engineio decodes a JSON message body itself
        raise FrameRefused("not a Socket.IO packet")
    try:
        pkt = packet_class(encoded_packet=data)
    except DECODE_ERRORS:
        raise FrameRefused("not a Socket.IO packet") from None
    kind, body = pkt.packet_type, pkt.data
    if kind in (sio_packet.BINARY_EVENT, sio_packet.BINARY_ACK):
        raise FrameRefused("binary attachments (the chat protocol has none)")
    if kind == sio_packet.EVENT:
        if not (isinstance(body, list) and body and isinstance(body[0], str)):
            raise FrameRefused("an event without a name")
        if body[0] in RESERVED_EVENTS:
            raise FrameRefused(f"the reserved event name {body[0]!r}")
    elif kind == sio_packet.CONNECT:
        if body is not None and not isinstance(body, dict):
            raise FrameRefused("a connect whose auth is not an object")
    elif kind == sio_packet.DISCONNECT:
        if body is not None:
            raise FrameRefused("a disconnect with a payload")
    elif kind == sio_packet.ACK:
        if not isinstance(body, list):
            raise FrameRefused("an ack that is not a list")
    else:  # CONNECT_ERROR (sent by servers only) or not a packet type at all
        raise FrameRefused("not a Socket.IO packet a client may send")
    return pkt


class RefusalLog:
    """One warning line per `interval` seconds for refused connections; those in between are counted, and the
    next line says how many, so a flood of bad frames costs one line each interval instead of one per frame."""

    def __init__(self, logger: logging.Logger, interval: float = 10.0):
        self.logger = logger
        self.interval = interval
        self.next_line_at = 0.0
        self.unlogged = 0

    def refused(self, why: str, address: str) -> None:
        now = time.monotonic()
        if now < self.next_line_at:
            self.unlogged += 1
            return
        more = f" ({self.unlogged} more refused since the last line)" if self.unlogged else ""
        self.logger.warning("closed a connection from %s that sent %s%s", address, why, more)
        self.unlogged = 0
        self.next_line_at = now + self.interval
