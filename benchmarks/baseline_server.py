"""The bare stack, for comparison: aiohttp + python-socketio with their defaults, the same two namespaces and the
same events the load generator uses, doing only a relay (no persistence, no bot, no queue, no validation).

Every benchmark row says "the product does X% of what this does" on the same machine in the same run.

    python benchmarks/baseline_server.py --port 8090 [--uvloop] [--no-deflate] [--gc-freeze]

The flags exist to measure one tuning at a time on the bare stack; run_all.py uses none of them for the baseline.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import sys
import time
from pathlib import Path

import socketio
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


SIO = web.AppKey("sio", socketio.AsyncServer)


class Relay:
    """All state of the relay, built per app (no module globals)."""

    def __init__(self, sio: socketio.AsyncServer):
        self.sio = sio
        self.agent_sids: list[str] = []
        self.visitor_agent: dict[str, str] = {}  # visitor sid -> agent sid
        self.round_robin = itertools.count()
        self.next_message_id = itertools.count(1)


def create_baseline_app() -> web.Application:
    # Defaults, except the ping timing when a run sets it for both servers (the idle run uses 5 s + 5 s).
    pings = {name: float(os.environ[env]) for name, env in (("ping_interval", "CHAT_PING_INTERVAL_SECONDS"),
                                                             ("ping_timeout", "CHAT_PING_TIMEOUT_SECONDS"))
             if os.environ.get(env)}
    sio = socketio.AsyncServer(async_mode="aiohttp", cors_allowed_origins="*", **pings)
    app = web.Application()
    sio.attach(app)
    app[SIO] = sio
    relay = Relay(sio)

    async def healthz(request):
        return web.json_response({"ok": True})

    app.router.add_get("/healthz", healthz)

    @sio.on("connect", namespace="/visitor")
    async def visitor_connect(sid, environ, auth=None):
        asyncio.get_running_loop().create_task(
            sio.emit("session", {"visitor_token": sid, "visitor_id": sid, "conversation": None, "messages": []},
                     to=sid, namespace="/visitor"))

    @sio.on("message", namespace="/visitor")
    async def visitor_message(sid, payload):
        message = {"id": next(relay.next_message_id), "author": "visitor", "kind": "text",
                   "client_id": payload.get("client_id"), "text": payload.get("text"), "created_at": time.time()}
        agent = relay.visitor_agent.get(sid)
        if agent is not None:
            await sio.emit("message", message, to=agent, namespace="/agent")
        return {"ok": True, "id": message["id"], "created_at": message["created_at"], "duplicate": False}

    @sio.on("request_agent", namespace="/visitor")
    async def request_agent(sid, payload=None):
        if not relay.agent_sids:
            return {"ok": True, "status": "queued"}
        agent = relay.agent_sids[next(relay.round_robin) % len(relay.agent_sids)]
        relay.visitor_agent[sid] = agent
        await sio.emit("assigned", {"conversation": {"id": sid}}, to=agent, namespace="/agent")
        await sio.emit("agent_joined", {"conversation_id": sid, "agent_name": "Agent"}, to=sid, namespace="/visitor")
        return {"ok": True, "status": "assigned"}

    @sio.on("typing", namespace="/visitor")
    async def visitor_typing(sid, payload=None):
        return {"ok": False, "error": "no_conversation"}

    @sio.on("disconnect", namespace="/visitor")
    async def visitor_disconnect(sid, reason=None):
        relay.visitor_agent.pop(sid, None)

    @sio.on("connect", namespace="/agent")
    async def agent_connect(sid, environ, auth=None):
        relay.agent_sids.append(sid)
        asyncio.get_running_loop().create_task(sio.emit("session", {"agent": {"id": sid}}, to=sid, namespace="/agent"))

    @sio.on("status", namespace="/agent")
    async def agent_status(sid, payload=None):
        return {"ok": True, "status": (payload or {}).get("status")}

    @sio.on("disconnect", namespace="/agent")
    async def agent_disconnect(sid, reason=None):
        if sid in relay.agent_sids:
            relay.agent_sids.remove(sid)

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--uvloop", action="store_true", help="run on uvloop (default: the asyncio loop)")
    parser.add_argument("--no-deflate", action="store_true",
                        help="refuse permessage-deflate (chatserver/transport/websocket.py, engineio's own loops)")
    parser.add_argument("--gc-freeze", action="store_true", help="gc.freeze() + higher thresholds (run.tune_gc)")
    args = parser.parse_args(argv)
    app = create_baseline_app()
    if args.no_deflate:
        from chatserver.transport.websocket import LeanWebSocket

        class NoDeflateWebSocket(LeanWebSocket):
            lean_loops = False  # only the deflate refusal: the lean loops need the chat server's Engine.IO server

        eio = app[SIO].eio
        eio._async = {**eio._async, "websocket": NoDeflateWebSocket}
    if args.gc_freeze:
        import run
        run.tune_gc()
    loop = None
    if args.uvloop:
        import uvloop
        loop = uvloop.new_event_loop()
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None, loop=loop)


if __name__ == "__main__":
    main(sys.argv[1:])
