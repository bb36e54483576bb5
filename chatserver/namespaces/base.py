"""What both namespaces share: turning domain errors into error acks and refusing unknown events."""
from __future__ import annotations

import logging

from aiohttp import web

from .. import keys
from ..errors import ChatError, InvalidPayload, UnknownEvent
from ..transport import ConnectionRefused, Namespace

log = logging.getLogger(__name__)


def refusal(code: str, message: str) -> ConnectionRefused:
    """A connect refusal clients can read: socket.io's connect_error carries `message` (human text) and
    `data = {"error": code, "message": ...}` (python-socketio turns a lone dict argument into text)."""
    return ConnectionRefused(message, {"error": code, "message": message})


class ChatNamespace(Namespace):
    """Every event answers an ack: the handler's result, or {ok: false, error, message}. Nothing a client sends
    can raise into python-socketio, and events nobody handles get `unknown_event`."""

    def __init__(self, namespace: str, app: web.Application):
        super().__init__(namespace)
        self.app = app
        self.desk = app[keys.DESK]

    async def trigger_event(self, event: str, *args):
        # Only python-socketio calls these two: a client's events of those names close its connection (transport/).
        if event in ("connect", "disconnect"):
            return await self._guarded_lifecycle(event, *args)
        handler = getattr(self, "on_" + event, None) if isinstance(event, str) and event.isidentifier() else None
        try:
            if handler is None:
                raise UnknownEvent(f"no such event: {str(event)[:50]}")
            if len(args) > 2:
                raise InvalidPayload("send one payload object")
            result = await handler(args[0], args[1] if len(args) == 2 else None)
        except ChatError as exc:
            return exc.ack()
        except Exception:
            log.exception("event %s on %s failed", event, self.namespace)
            return ChatError("the server could not handle this event").ack()
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
        except ConnectionRefused:  # a documented refusal (not the builtin of that name)
            raise
        except ChatError as exc:  # e.g. rate_limited: refused with its documented code
            raise refusal(exc.code, exc.message) from None
        except Exception:
            # A connect handler that fails for any reason refuses: never a half-connected client.
            log.exception("connect handler failed on %s", self.namespace)
            raise refusal("server_error", "could not start the session")
