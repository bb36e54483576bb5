"""The Engine.IO server of the chat server: python-engineio's, with the lean WebSocket loops, long-polling POSTs
checked before they are read, and one way to refuse a connection (`refuse`).

python-engineio answers a long-polling POST over `max_http_buffer_size` by closing the session and waiting for
its send queue to drain, which only the next long-polling GET does: without one the POST is never answered, its
body stays buffered, and shutdown waits for it. Here such a POST is answered 413 before anyone reads its body.
"""
from __future__ import annotations

import logging

import engineio
from aiohttp import web
from engineio.async_socket import AsyncSocket
from engineio.exceptions import UnknownPacketError

from . import frames, json_codec
from ..security.client_address import of_environ
from .frames import FrameRefused, RefusalLog
from .websocket import LeanWebSocket

log = logging.getLogger(__name__)


class ChatEngineServer(engineio.AsyncServer):
    """python-engineio's server for async_mode='aiohttp', serving WebSockets with LeanWebSocket."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self._async is None or self._async.get("websocket") is None:  # not the aiohttp driver
            raise ValueError("the chat server's Engine.IO transport needs async_mode='aiohttp'")
        self._async = {**self._async, "websocket": LeanWebSocket}
        self.refusals = RefusalLog(log)

    async def handle_request(self, request: web.Request):
        if request.method == "POST":
            length = request.content_length
            if length is not None and length > self.max_http_buffer_size:
                return await self._refuse_post(request, 413, f"a long-polling POST of {length} bytes",
                                               "Payload Too Large", code="payload_too_large")
            if length is None and request.body_exists:  # python-engineio would read none of it
                return await self._refuse_post(request, 411, "a long-polling POST without Content-Length",
                                               "Length Required", code="length_required")
        return await super().handle_request(request)

    async def _refuse_post(self, request: web.Request, status: int, why: str, reason: str, code: str):
        environ = self._async["translate_request"](request)
        await self.refuse(request.query.get("sid"), environ, why)
        limit = f"a long-polling POST carries at most {self.max_http_buffer_size} bytes, with its Content-Length"
        body = json_codec.dumps({"ok": False, "error": code, "message": limit}).encode()
        return await self._make_response({"status": f"{status} {reason}",
                                          "headers": [("Content-Type", "application/json")],
                                          "response": body}, environ)

    async def refuse(self, sid: str | None, environ: dict | None, why: str) -> None:
        """End the Engine.IO session `sid` (if it exists) for sending `why`, with one rate-limited log line. The
        client gets a CLOSE packet; nothing waits for it to be sent (a long-polling session may never poll again)."""
        self.refusals.refused(why, of_environ(environ or {}))
        socket = self.sockets.get(sid) if sid is not None else None
        if socket is not None:
            await socket.close(wait=False, abort=False, reason=self.reason.SERVER_DISCONNECT)

    async def _trigger_event(self, event, *args, **kwargs):
        if event == "connect":  # the socket was just made, before it receives anything
            socket = self.sockets.get(args[0])
            if type(socket) is AsyncSocket:
                socket.__class__ = CheckedSocket
        return await super()._trigger_event(event, *args, **kwargs)


class CheckedSocket(AsyncSocket):
    """python-engineio's socket with its long-polling POSTs checked packet by packet (frames.engineio_payload).

    python-engineio builds its sockets itself (no class to configure), so ChatEngineServer gives each new one this
    class before it receives anything; it adds no state, only this method."""

    async def handle_post_request(self, environ):
        # python-engineio's, with the payload checked. Over-long bodies were answered 413 before.
        length = int(environ.get("CONTENT_LENGTH", "0"))
        body = await environ["wsgi.input"].read(length)
        try:
            packets = frames.engineio_payload(body)
        except FrameRefused as refused:
            await self.server.refuse(self.sid, environ, refused.why)
            raise  # python-engineio answers 400 and forgets the session
        for pkt in packets:
            try:
                await self.receive(pkt)
            except UnknownPacketError:  # OPEN, PING or NOOP from a client: ignored, as over WebSocket
                continue
            if self.closed:  # the client's CLOSE, or a packet the Socket.IO layer refused
                break
