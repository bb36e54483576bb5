"""The Engine.IO WebSocket transport of the chat server: python-engineio's aiohttp driver, made cheaper per
connection and per frame (measured in docs/performance.md) and stricter about what it accepts (frames.py).

- No permessage-deflate. aiohttp accepts it whenever a client offers it (every browser does) and python-engineio
  has no switch for it. A deflate context costs ~90 KB of RSS per connection (zlib windows for both directions),
  which is most of what an idle visitor costs; chat frames are short, so it saves little bandwidth.
- Lean read and write loops (`serve_websocket`). python-engineio's own loops start a task and an
  `asyncio.wait_for` for every frame received and for every wake-up of the writer. The same loops without them:
  the reader's timeout is aiohttp's (one timer), the writer waits on the send queue directly (a socket that stops
  answering is ended by the reader's timeout and the ping timeout, as before). Writing each frame straight from
  the sending task instead of through the writer task was tried and measured ~1 % of CPU: not worth its code.
- Every frame is checked (`frames.engineio_packet`): one that is not an Engine.IO packet a client may send, and
  any packet the Socket.IO layer refuses, ends the connection with one rate-limited log line, not a traceback.
"""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiohttp import WSMsgType
from aiohttp.web import WebSocketResponse
from engineio import packet as eio_packet
from engineio.async_drivers import aiohttp as engineio_aiohttp
from engineio.async_socket import AsyncSocket
from engineio.exceptions import SocketIsClosedError, UnknownPacketError

from .frames import FrameRefused, engineio_packet

if TYPE_CHECKING:
    from .engine import ChatEngineServer

log = logging.getLogger(__name__)


class LeanWebSocket(engineio_aiohttp.WebSocket):
    """engineio's aiohttp WebSocket wrapper, answering the upgrade without permessage-deflate and (with
    `lean_loops`) serving the Engine.IO socket with `serve_websocket` instead of its own loops."""

    # The benchmarks switch these off one at a time (benchmarks/variant_server.py); the server always has both.
    compress = False    # True: accept permessage-deflate, as aiohttp does by default
    lean_loops = True   # False: engineio's own loops (without the Engine.IO frame checks)

    async def __call__(self, environ):
        request = environ["aiohttp.request"]
        self._sock = WebSocketResponse(max_msg_size=self.server.max_http_buffer_size, compress=self.compress)
        await self._sock.prepare(request)
        self.environ = environ
        eio_socket = getattr(self.handler, "__self__", None)
        if self.lean_loops and isinstance(eio_socket, AsyncSocket):
            await serve_websocket(eio_socket, self)
        else:
            await self.handler(self)
        return self._sock


async def serve_websocket(eio_socket: AsyncSocket, ws: LeanWebSocket) -> None:
    """python-engineio's `AsyncSocket._websocket_handler` (4.x) with the same steps and outcomes: the upgrade
    handshake, then packets received until the connection ends or is refused, then the socket closed."""
    server: ChatEngineServer = eio_socket.server
    sock = ws._sock
    read_timeout = server.ping_interval + server.ping_timeout
    if eio_socket.connected:  # an upgrade from long-polling: the probe handshake, as engineio does it
        eio_socket.upgrading = True  # hold packet sends during the upgrade
        try:
            probe = eio_packet.Packet(encoded_packet=await _read(sock, read_timeout, server.max_http_buffer_size))
            if probe.packet_type != eio_packet.PING or probe.data != "probe":
                eio_socket.upgrading = False
                return
            await ws.send(eio_packet.Packet(eio_packet.PONG, data="probe").encode())
            await eio_socket.queue.put(eio_packet.Packet(eio_packet.NOOP))  # ends the pending poll
            upgrade = eio_packet.Packet(encoded_packet=await _read(sock, read_timeout, server.max_http_buffer_size))
        except (OSError, ValueError, asyncio.TimeoutError):
            eio_socket.upgrading = False
            return
        if upgrade.packet_type != eio_packet.UPGRADE:
            eio_socket.upgraded = False
            eio_socket.upgrading = False
            return
        eio_socket.upgraded = True
        eio_socket.upgrading = False
    else:
        eio_socket.connected = True
        eio_socket.upgraded = True

    writer = asyncio.ensure_future(_write_loop(eio_socket.queue, sock))
    while True:
        try:
            data = await _read(sock, read_timeout, server.max_http_buffer_size)
        except (OSError, ValueError, asyncio.TimeoutError, RuntimeError, asyncio.CancelledError):
            break
        try:
            await eio_socket.receive(engineio_packet(data))
        except FrameRefused as refused:
            await server.refuse(eio_socket.sid, ws.environ, refused.why)
            break
        except UnknownPacketError:  # OPEN, PING or NOOP from a client: ignored, as engineio does
            pass
        except SocketIsClosedError:
            break
        except Exception:  # a fault of the server, not of the frame: as engineio, log it and keep serving
            log.exception("unexpected error receiving on %s", eio_socket.sid)
        if eio_socket.closed:  # the client's CLOSE, or a packet the Socket.IO layer refused
            break
    await eio_socket.queue.put(None)  # unlock the writer so it can exit
    await writer
    await eio_socket.close(wait=False, abort=True, reason=server.reason.TRANSPORT_CLOSE)


async def _read(sock: WebSocketResponse, timeout: float, max_size: int):
    """The next text or binary frame's data; OSError when the connection closed, ValueError when too large."""
    message = await sock.receive(timeout)
    data = message.data
    if message.type is WSMsgType.TEXT or message.type is WSMsgType.BINARY:
        if len(data) > max_size:
            raise ValueError("packet is too large")
        return data
    raise OSError("websocket closed")


async def _write_loop(send_queue: asyncio.Queue, sock: WebSocketResponse) -> None:
    """Send what the Engine.IO socket queues until it queues None (the reader ended) or a send fails."""
    try:
        while True:
            pkt = await send_queue.get()
            send_queue.task_done()  # close(wait=True) joins the queue
            if pkt is None:
                send_queue.put_nowait(None)  # as engineio's poll(): later polls see the end too
                break
            encoded = pkt.encode()
            if isinstance(encoded, str):
                await sock.send_str(encoded)
            else:
                await sock.send_bytes(encoded)
    except Exception:
        pass
    await sock.close()

