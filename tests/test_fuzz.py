"""Protocol fuzzer: hypothesis sends random payloads of every type (huge strings, deep nesting, NUL bytes, unknown
events) to every event of both namespaces of a real server process. Every answer must be a documented error (or a
success), the server must stay up, and its memory must stay flat. (Binary data, which closes the connection, and
malformed frames are tested one by one in test_security_frames.py.)"""
from __future__ import annotations

import asyncio
import json
import re

import aiohttp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ADMIN_PASSWORD, ROOT, Recorder, free_port
from test_faults import ServerProcess

DOCUMENTED = set(re.findall(r"\| `([a-z_]+)` \|", (ROOT / "docs" / "protocol.md").read_text()))
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


scalars = (st.none() | st.booleans() | st.integers() | st.integers(-2, 5) | st.floats(allow_nan=True) |
           st.text(max_size=50) |
           st.sampled_from(["", " ", "\x00", "a\x00b", "x" * 4001, "y" * 50_000, "online", "track-order",
                            "a@b.co", "../../etc/passwd", "<script>alert(1)</script>", "\ud7ff" * 10]))
values = st.recursive(scalars, lambda children: st.lists(children, max_size=4) |
                      st.dictionaries(st.text(max_size=8), children, max_size=4), max_leaves=12)
payloads = (values | st.dictionaries(st.sampled_from(FIELDS), values, max_size=5) |
            st.sampled_from([nested(200), nested(201)]))
visitor_calls = st.tuples(st.sampled_from(VISITOR_EVENTS) | st.text(min_size=1, max_size=20), payloads)
agent_calls = st.tuples(st.sampled_from(AGENT_EVENTS) | st.text(min_size=1, max_size=20), payloads)


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return int(next(line for line in status if line.startswith("VmRSS:")).split()[1])


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
            recorder = Recorder(namespace)
            auth = ({"visitor_token": state["visitor_token"], "last_seq": None} if namespace == "/visitor"
                    else {"token": state["agent_token"]})
            await recorder.connect(server.url, auth=auth)
            session = await recorder.wait_for("session")
            if namespace == "/visitor":
                state["visitor_token"] = session["visitor_token"]
            clients[namespace] = recorder
            return recorder

        async def call(namespace: str, event: str, payload) -> dict | None:
            recorder = await client(namespace)
            try:
                return await recorder.call(event, payload, timeout=5)
            except Exception as exc:  # the connection closed (oversized frame) or the client could not encode it
                return {"client_side": type(exc).__name__}

        # A real conversation, so ids 1..5 hit real rows.
        first = await call("/visitor", "message", {"client_id": "seed", "text": "where is my parcel?"})
        assert first["ok"], first

        def check(namespace: str, event: str, payload) -> None:
            answer = asyncio.run_coroutine_threadsafe(call(namespace, event, payload), loop).result(30)
            if isinstance(answer, dict) and "client_side" in answer:
                state["answers"]["(connection closed)"] = state["answers"].get("(connection closed)", 0) + 1
                return
            assert isinstance(answer, dict), (event, answer)
            if answer.get("ok") is True:
                key = "ok"
            else:
                assert answer.get("ok") is False and answer.get("error") in DOCUMENTED, (namespace, event, answer)
                assert isinstance(answer.get("message"), str) or answer["error"] == "unknown_event", answer
                key = answer["error"]
            state["answers"][key] = state["answers"].get(key, 0) + 1

        @settings(max_examples=100, deadline=None, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(visitor_call=visitor_calls, agent_call=agent_calls)
        def fuzz(visitor_call, agent_call):
            check("/visitor", *visitor_call)
            check("/agent", *agent_call)

        await loop.run_in_executor(None, fuzz)  # warm-up: caches, interned strings, first allocations
        rss_before = rss_kb(server.proc.pid)
        await loop.run_in_executor(None, fuzz)
        await loop.run_in_executor(None, fuzz)
        rss_after = rss_kb(server.proc.pid)

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
