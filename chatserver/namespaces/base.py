"""What both namespaces share: turning domain errors into error acks and refusing unknown events."""
from __future__ import annotations

import logging

import socketio
from aiohttp import web

from ..errors import ChatError
from ..keys import AppServices

log = logging.getLogger(__name__)


def refusal(code: str, message: str) -> socketio.exceptions.ConnectionRefusedError:
    """A connect refusal clients can read: socket.io's connect_error carries `message` (human text) and
    `data = {"error": code, "message": ...}` (python-socketio turns a lone dict argument into text)."""
    return socketio.exceptions.ConnectionRefusedError(message, {"error": code, "message": message})


class ChatNamespace(AppServices, socketio.AsyncNamespace):
    """Every event answers an ack: the handler's result, or {ok: false, error, message}. Nothing a client sends
    can raise into python-socketio, and events nobody handles get `unknown_event`."""

    def __init__(self, namespace: str, app: web.Application):
        super().__init__(namespace)
        self.app = app

    async def trigger_event(self, event: str, *args):
        # Only python-socketio calls these two: a client's events of those names close its connection (transport/).
        if event in ("connect", "disconnect"):
            return await self._guarded_lifecycle(event, *args)
        handler = getattr(self, "on_" + event, None) if isinstance(event, str) and event.isidentifier() else None
        if handler is None:
            return {"ok": False, "error": "unknown_event", "message": f"no such event: {str(event)[:50]}"}
        sid = args[0]
        payload = args[1] if len(args) == 2 else (None if len(args) == 1 else "__many__")
        if payload == "__many__":
            return {"ok": False, "error": "invalid_payload", "message": "send one payload object"}
        try:
            result = await handler(sid, payload)
        except ChatError as exc:
            return exc.ack()
        except Exception:
            log.exception("event %s on %s failed", event, self.namespace)
            return {"ok": False, "error": "internal_error", "message": "the server could not handle this event"}
        return {"ok": True} if result is None else result

    async def _guarded_lifecycle(self, event: str, *args):
        if event == "disconnect":
            try:
                return await self.on_disconnect(args[0], *args[1:2])
            except Exception:
                log.exception("disconnect handler failed on %s", self.namespace)
                return None
        try:
            return await self.on_connect(*args)
        except socketio.exceptions.ConnectionRefusedError:  # a documented refusal (not the builtin of that name)
            raise
        except Exception:
            # A connect handler that fails for any reason refuses: never a half-connected client.
            log.exception("connect handler failed on %s", self.namespace)
            raise refusal("server_error", "could not start the session")

    async def session_of(self, sid: str) -> dict:
        return await self.get_session(sid)
