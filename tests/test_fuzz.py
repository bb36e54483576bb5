"""Protocol fuzzer: hypothesis sends random payloads of every type (huge strings, deep nesting, NUL bytes, unknown
events) to every event of both namespaces of a real server process. Every answer must be a success or an error ack
from the error-code table of docs/protocol.md (never `internal_error`); the only frames that may go unanswered are
those over the size limit, which must close the connection. Any other client-side failure fails the test. The
server must stay up, and its memory must stay flat. (Binary data, which closes the connection, and malformed frames
are tested one by one in test_security_frames.py.)"""
from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import socketio
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from chatserver import Config
from chatserver.transport import json_codec
from support.process import ServerProcess
from support.protocol import assert_documented_error
from support.server import ADMIN_PASSWORD, Recorder, free_port

# Frames of this many bytes or more close the connection (docs/protocol.md, Limits); the server process runs with
# the default.
FRAME_LIMIT = Config.max_http_buffer_size
CLOSED = "(frame over the limit: connection closed)"


class ServerCodecPacket(socketio.packet.Packet):
    """The fuzzing clients encode with the server's own JSON codec, whatever other tests in this process set as
    python-socketio's global one: NaN and infinities go as null (as a browser's JSON.stringify sends them), and
    integers are kept to the 64 bits it can encode."""
    json = json_codec

VISITOR_EVENTS = ["message", "typing", "sync", "request_agent", "contact", "close", "article", "article_feedback",
                  "survey"]
AGENT_EVENTS = ["status", "claim", "message", "note", "typing", "transfer", "close", "sync", "conversation",
                "kb_search", "send_article"]
FIELDS = ["client_id", "text", "typing", "after_seq", "conversation_id", "email", "name", "slug", "helpful", "reason",
          "status", "agent_id", "query", "score", "comment"]


def nested(depth: int):
    value: object = "bottom"
    for _ in range(depth):
        value = [value] if depth % 2 else {"a": value}
    return value


scalars = (st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.integers(-2, 5) |
           st.floats(allow_nan=True) | st.text(max_size=50) |
           st.sampled_from(["", " ", "\x00", "a\x00b", "x" * 4001, "y" * 50_000, "online", "track-order",
                            "a@b.co", "../../etc/passwd", "<script>alert(1)</script>", "\ud7ff" * 10]))
values = st.recursive(scalars, lambda children: st.lists(children, max_size=4) |
                      st.dictionaries(st.text(max_size=8), children, max_size=4), max_leaves=12)
payloads = (values | st.dictionaries(st.sampled_from(FIELDS), values, max_size=5) |
            st.sampled_from([nested(200), nested(201)]))
visitor_calls = st.tuples(st.sampled_from(VISITOR_EVENTS) | st.text(min_size=1, max_size=20), payloads)
agent_calls = st.tuples(st.sampled_from(AGENT_EVENTS) | st.text(min_size=1, max_size=20), payloads)


def frame_bytes(namespace: str, event: str, payload) -> list[int]:
    """The size of each WebSocket frame a socketio.AsyncClient sends for `call(event, payload)`: the packet as its
    packet class encodes it (ack id 1), plus the Engine.IO type byte of a text frame; binary parts go as
    frames of their own."""
    args = [] if payload is None else [payload]
    encoded = ServerCodecPacket(socketio.packet.EVENT, namespace=namespace, data=[event, *args], id=1).encode()
    return [len(frame) if isinstance(frame, bytes) else 1 + len(frame.encode())
            for frame in (encoded if isinstance(encoded, list) else [encoded])]


async def test_fuzzed_events_get_documented_answers_and_the_server_stays_up(tmp_path, sentence_vector_cache):
    server = await ServerProcess(tmp_path / "data", free_port(), env={"CHAT_NEW_VISITORS_PER_MINUTE_PER_IP": "1000"},
                                 vector_cache=sentence_vector_cache).start()
    # The bot's sentence encoder loads in the background after start: memory is compared once it is in.
    assert (await server.wait_for_meaning())["meaning"] == "ready"
    loop = asyncio.get_running_loop()
    clients: dict[str, Recorder] = {}
    state = {"visitor_token": None, "agent_token": None, "answers": {}, "reconnects": 0}
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(server.url + "/login", json={"email": "admin@localhost",
                                                              "password": ADMIN_PASSWORD}) as resp:
                state["agent_token"] = (await resp.json())["token"]

        async def client(namespace: str) -> Recorder:
            current = clients.get(namespace)
            if current is not None and current.sio.connected and namespace in current.sio.namespaces:
                return current
            if current is not None:  # a frame over the size limit closes the connection, as documented
                state["reconnects"] += 1
                await current.disconnect()
            recorder = Recorder(namespace, serializer=ServerCodecPacket)
            auth = ({"visitor_token": state["visitor_token"], "last_seq": None} if namespace == "/visitor"
                    else {"token": state["agent_token"]})
            await recorder.connect(server.url, auth=auth)
            session = await recorder.wait_for("session")
            if namespace == "/visitor":
                state["visitor_token"] = session["visitor_token"]
            clients[namespace] = recorder
            return recorder

        async def call(namespace: str, event: str, payload, over_limit: bool) -> dict | str | None:
            recorder = await client(namespace)
            if not over_limit:
                return await recorder.call(event, payload, timeout=5)  # any exception here fails the test
            # The documented answer to a frame over the limit: the server closes that connection.
            await recorder.emit(event, payload)
            deadline = time.monotonic() + 5
            while recorder.sio.connected and namespace in recorder.sio.namespaces:
                assert time.monotonic() < deadline, ("a frame over the limit did not close the connection", event)
                await asyncio.sleep(0.02)
            return CLOSED

        # A real conversation, so ids 1..5 hit real rows.
        first = await call("/visitor", "message", {"client_id": "seed", "text": "where is my parcel?"}, False)
        assert first["ok"], first

        def check(namespace: str, event: str, payload) -> None:
            largest = max(frame_bytes(namespace, event, payload))
            # A longer ack id adds a few bytes: frames just under the limit could go either way, so none are sent.
            assume(not FRAME_LIMIT - 16 <= largest < FRAME_LIMIT)
            answer = asyncio.run_coroutine_threadsafe(call(namespace, event, payload, largest >= FRAME_LIMIT),
                                                      loop).result(30)
            if answer == CLOSED:
                key = CLOSED
            else:
                assert isinstance(answer, dict), (event, answer)
                if answer.get("ok") is True:
                    key = "ok"
                else:
                    assert_documented_error(answer, (namespace, event, repr(payload)[:300]))
                    key = answer["error"]
            state["answers"][key] = state["answers"].get(key, 0) + 1

        @settings(max_examples=100, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(visitor_call=visitor_calls, agent_call=agent_calls)
        def fuzz(visitor_call, agent_call):
            check("/visitor", *visitor_call)
            check("/agent", *agent_call)

        await loop.run_in_executor(None, fuzz)  # warm-up: caches, interned strings, first allocations
        rss_before = server.rss_kb()
        await loop.run_in_executor(None, fuzz)
        await loop.run_in_executor(None, fuzz)
        rss_after = server.rss_kb()

        # Events on a namespace the socket never connected to, and garbage packets, over a raw Engine.IO socket.
        # Each on its own connection: a malformed one closes it.
        raw_url = server.url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket"
        async with aiohttp.ClientSession() as http:
            for packet in ['42/agent,0["status",{"status":"online"}]', '42/visitor,1["message",{}]',
                           '4', '42', '4x', '2probe', '42/visitor,["message"' + "[" * 300, "\x00", "6",
                           b"\x00\x01\x02binary"]:
                async with http.ws_connect(raw_url) as ws:
                    opened = await ws.receive_str()
                    assert opened.startswith("0")
                    await (ws.send_bytes(packet) if isinstance(packet, bytes) else ws.send_str(packet))
                    await asyncio.sleep(0.2)

        assert server.proc.poll() is None, "the server died"
        async with aiohttp.ClientSession() as http:
            async with http.get(server.url + "/healthz") as resp:
                assert resp.status == 200
        fresh = await client("/visitor")
        still = await fresh.call("sync", {"after_seq": 0, "conversation_id": first["conversation_id"]})
        assert still["ok"] and still["messages"][0]["client_id"] == "seed", still
        print(f"answers: {json.dumps(state['answers'], sort_keys=True)}; reconnects after closed connections: "
              f"{state['reconnects']}; server RSS {rss_before} KB -> {rss_after} KB")
        assert rss_after - rss_before < 20_000, "memory grew under fuzzing"
    finally:
        for recorder in clients.values():
            await recorder.disconnect()
        server.stop()
