"""A cap on the Engine.IO connections one client address holds open (CHAT_MAX_SOCKETS_PER_ADDRESS).

Each Engine.IO connection costs memory and a ping timer even before it joins a namespace, so one address could
otherwise open hundreds in a second. The cap sits in Engine.IO's own connect event (before any namespace is
involved), for both transports: the connection over the cap is answered `401` with
`{"error": "too_many_connections", "message": ...}` and nothing is kept for it. Addresses come from
`client_address`, so behind a trusted proxy each visitor has their own count; IPv6 counts per /64.
"""
from __future__ import annotations

import logging

import time

import socketio

from ..security import client_address
from ..ratelimit import SlidingWindowLimiter

log = logging.getLogger(__name__)


class ConnectionCap:
    def __init__(self, sio: socketio.AsyncServer, limit: int):
        self._eio = sio.eio
        self.limit = limit
        self._sids_of: dict[str, set[str]] = {}     # address key -> Engine.IO sids open from it
        self._address_of: dict[str, str] = {}       # Engine.IO sid -> address key

    def admit(self, eio_sid: str, address: str) -> bool:
        key = client_address.limit_key(address)
        sids = self._sids_of.setdefault(key, set())
        # A socket Engine.IO dropped without a disconnect event must not hold a place for ever.
        for gone in [sid for sid in sids if sid not in self._eio.sockets]:
            sids.discard(gone)
            self._address_of.pop(gone, None)
        if len(sids) >= self.limit:
            return False
        sids.add(eio_sid)
        self._address_of[eio_sid] = key
        return True

    def release(self, eio_sid: str) -> None:
        key = self._address_of.pop(eio_sid, None)
        sids = self._sids_of.get(key) if key is not None else None
        if sids is not None:
            sids.discard(eio_sid)
            if not sids:
                del self._sids_of[key]

    def open_from(self, address: str) -> int:
        return len(self._sids_of.get(client_address.limit_key(address), ()))


def install(sio: socketio.AsyncServer, limit: int) -> ConnectionCap:
    """Wrap the Socket.IO server's Engine.IO connect and disconnect handlers with the cap."""
    cap = ConnectionCap(sio, limit)
    warnings = SlidingWindowLimiter(1, 60.0)        # one log line per address and minute, not one per refusal
    eio = sio.eio
    on_connect, on_disconnect = eio.handlers["connect"], eio.handlers["disconnect"]

    async def connect(eio_sid, environ):
        address = client_address.of_environ(environ)
        if not cap.admit(eio_sid, address):
            if warnings.allow(client_address.limit_key(address), time.monotonic()):
                log.warning("refusing Engine.IO connections from %s: %d already open", address, cap.limit)
            return {"error": "too_many_connections",
                    "message": f"at most {cap.limit} connections per address; close some and retry"}
        return await on_connect(eio_sid, environ)

    async def disconnect(eio_sid, *reason):
        cap.release(eio_sid)
        return await on_disconnect(eio_sid, *reason)

    eio.on("connect", connect)
    eio.on("disconnect", disconnect)
    return cap
