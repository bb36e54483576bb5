"""The chat server's Socket.IO server: python-socketio's, with every packet checked before it is dispatched."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import socketio
from socketio import packet

from . import json_codec
from .engine import ChatEngineServer
from .frames import FrameRefused, socketio_packet
from .inline_send import InlineSendManager
from .redis_manager import redis_manager
from .versions import check_library_versions

if TYPE_CHECKING:
    from ..config import Config


class ChatSocketServer(socketio.AsyncServer):
    """python-socketio's AsyncServer on ChatEngineServer. A packet frames.socketio_packet refuses (binary data,
    a reserved event name, anything malformed) closes the connection instead of being dispatched, so python-socketio
    never buffers binary attachments nor runs a lifecycle handler for a client's event."""

    def _engineio_server_class(self):
        return ChatEngineServer

    async def _handle_eio_message(self, eio_sid, data):
        try:
            pkt = socketio_packet(self.packet_class, data)
        except FrameRefused as refused:
            await self.eio.refuse(eio_sid, self.environ.get(eio_sid), refused.why)
            return
        # python-socketio's dispatch for the packet types a client may send (binary ones are refused above).
        kind = pkt.packet_type
        if kind == packet.EVENT:
            await self._handle_event(eio_sid, pkt.namespace, pkt.id, pkt.data)
        elif kind == packet.CONNECT:
            await self._handle_connect(eio_sid, pkt.namespace, pkt.data)
        elif kind == packet.DISCONNECT:
            await self._handle_disconnect(eio_sid, pkt.namespace, self.reason.CLIENT_DISCONNECT)
        else:
            await self._handle_ack(eio_sid, pkt.namespace, pkt.id, pkt.data)


def create_socket_server(config: Config, cors_allowed_origins: Callable | list | str) -> ChatSocketServer:
    """The chat server's Socket.IO server, configured from `config`; refuses to build one on an untested
    python-socketio or python-engineio (versions.py)."""
    check_library_versions()
    return ChatSocketServer(
        async_mode="aiohttp",
        cors_allowed_origins=cors_allowed_origins,
        # Visitor sockets authenticate with their token, agent sockets are same-origin: no cross-site cookies.
        cors_credentials=False,
        max_http_buffer_size=config.max_http_buffer_size,
        # Handlers of one client run one after another, so its messages are stored in the order sent.
        async_handlers=False,
        ping_interval=config.ping_interval_seconds,
        ping_timeout=config.ping_timeout_seconds,
        json=json_codec,
        # One process: inline sends. A cluster node: emits reach the other nodes through Redis (redis_manager.py).
        client_manager=(redis_manager(config.redis_url, config.redis_prefix) if config.redis_url
                        else InlineSendManager()),
        logger=False,
        engineio_logger=False,
    )
