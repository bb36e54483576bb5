"""Hostile frames, sent raw over Engine.IO (WebSocket and long-polling) to a real server: reserved event names,
binary attachments, malformed packets, oversized long-polling POSTs, and an out-of-range `last_seq`. Each closes
the connection (or is answered) as documented in docs/operations.md ("Frames"), with one log line, and costs the
server no memory."""
from __future__ import annotations

import asyncio
import json
import logging
import time
from contextlib import AsyncExitStack, asynccontextmanager

import aiohttp
from aiohttp import WSMsgType

from support.process import ServerProcess
from support.server import FIXTURE_KB, free_port


ENGINEIO = "/socket.io/?EIO=4"


# -- raw Engine.IO clients ------------------------------------------------------------------------------------

class RawSocket:
    """One Engine.IO WebSocket connection spoken by hand: text frames in, every frame the server sends kept."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse):
        self.ws = ws
        self.received: list[str] = []

    async def next_text(self, timeout: float = 5) -> str:
        message = await asyncio.wait_for(self.ws.receive(), timeout)
        assert message.type is WSMsgType.TEXT, message
        self.received.append(message.data)
        return message.data

    async def join(self, namespace: str, auth: dict | None = None) -> None:
        """CONNECT to a namespace and read until the server accepts it."""
        await self.ws.send_str(f"40{namespace}," + json.dumps(auth or {}))
        while not (await self.next_text()).startswith(f"40{namespace},"):
            pass

    async def events(self, name: str, timeout: float) -> list:
        """Every `name` event that arrives within `timeout` (PINGs answered), or until the server closes."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                message = await asyncio.wait_for(self.ws.receive(), remaining)
            except asyncio.TimeoutError:
                break
            if message.type is not WSMsgType.TEXT:
                break
            self.received.append(message.data)
        return [json.loads(p[p.index("["):])[1] for p in self.received if p.startswith("42") and f'["{name}"' in p]

    async def closed_by_server(self, timeout: float = 3) -> bool:
        """True when the server ends the connection within `timeout` (after an Engine.IO CLOSE, or not)."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                message = await asyncio.wait_for(self.ws.receive(), remaining)
            except asyncio.TimeoutError:
                return False
            if message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED, WSMsgType.ERROR):
                return True
            if message.type is WSMsgType.TEXT:
                self.received.append(message.data)
        return False

    async def send_quietly(self, frame: str | bytes) -> None:
        """Send a frame; a connection the server already closed is fine."""
        try:
            await (self.ws.send_bytes(frame) if isinstance(frame, bytes) else self.ws.send_str(frame))
        except (ConnectionError, RuntimeError):
            pass


@asynccontextmanager
async def raw_socket(url: str, http: aiohttp.ClientSession | None = None):
    own = http is None
    http = http or aiohttp.ClientSession()
    try:
        async with http.ws_connect(url.replace("http", "ws") + ENGINEIO + "&transport=websocket") as ws:
            sock = RawSocket(ws)
            assert (await sock.next_text()).startswith("0")
            yield sock
    finally:
        if own:
            await http.close()


async def polling_session(http: aiohttp.ClientSession, url: str, namespace: str = "/visitor") -> str:
    """A long-polling Engine.IO session connected to `namespace`; returns its sid."""
    async with http.get(url + ENGINEIO + "&transport=polling") as resp:
        opened = await resp.text()
    sid = json.loads(opened[1:])["sid"]
    async with http.post(f"{url}{ENGINEIO}&transport=polling&sid={sid}", data=f"40{namespace},{{}}") as resp:
        assert resp.status == 200, await resp.text()
    return sid


async def chat_process(tmp_path) -> ServerProcess:
    """`python run.py` in its own process (so its memory is its own), without the sentence encoder."""
    return await ServerProcess(tmp_path / "data", free_port(), env={
        "CHAT_KB_ENCODER": "false", "CHAT_NEW_VISITORS_PER_MINUTE_PER_IP": "10000"}).start()


class LogLines(logging.Handler):
    """Every log record of the process at WARNING and above, while installed on the root logger."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)

    def __enter__(self):
        logging.getLogger().addHandler(self)
        return self

    def __exit__(self, *exc):
        logging.getLogger().removeHandler(self)


# -- 1: reserved event names --------------------------------------------------------------------------------

async def test_a_client_sent_connect_event_does_not_rerun_the_visitor_connect_handler(server_factory):
    """`42/visitor,1["connect",{...}]` after joining used to run on_connect again: a second `session` with a new
    token, past the new-visitor limit, with the address from the payload stored."""
    server = await server_factory(kb_dir=FIXTURE_KB)
    async with raw_socket(server.url) as sock:
        await sock.join("/visitor")
        assert len(await sock.events("session", timeout=2)) == 1
        await sock.send_quietly('42/visitor,1["connect",{"REMOTE_ADDR":"10.9.9.9"}]')
        sessions = await sock.events("session", timeout=1.5)
        closed = sock.ws.closed or await sock.closed_by_server()
    print(f"sessions received: {len(sessions)}; connection closed by the server: {closed}")
    assert len(sessions) == 1, "the connect handler ran again"
    assert closed
    visitors = await server.store.read(lambda db: db.execute("SELECT * FROM visitors").fetchall())
    assert len(visitors) == 1 and "10.9.9.9" not in repr(visitors), visitors


async def test_a_client_sent_disconnect_event_on_agent_ends_the_socket_instead_of_running_the_handler(server_factory):
    """`42/agent,1["disconnect"]` used to run on_disconnect while the socket stayed open (and kept reading after the
    agent was disabled). Now the connection is closed, as for every reserved name, on both namespaces."""
    server = await server_factory(kb_dir=FIXTURE_KB)
    await server.create_agent("dana@example.com", "Dana")
    token = await server.login("dana@example.com", "agent-password-1")
    outcomes = {}
    for namespace, auth, frame in [
        ("/agent", {"token": token}, '42/agent,1["disconnect"]'),
        ("/agent", {"token": token}, '42/agent,1["connect",{}]'),
        ("/visitor", {}, '42/visitor,1["disconnect","io client disconnect"]'),
        ("/visitor", {}, '42/visitor,1["connect_error",{}]'),
        ("/visitor", {}, '42/visitor,1["disconnecting"]'),
        ("/visitor", {}, '42/visitor,1["newListener","message"]'),
    ]:
        async with raw_socket(server.url) as sock:
            await sock.join(namespace, auth)
            await sock.events("session", timeout=0.5)
            await sock.send_quietly(frame)
            outcomes[frame] = await sock.closed_by_server()
    print(f"closed by the server: {outcomes}")
    assert all(outcomes.values()), outcomes


# -- 3: binary attachments ----------------------------------------------------------------------------------

async def test_binary_attachments_close_the_connection_and_the_server_keeps_no_memory_for_them(tmp_path):
    """A BINARY_EVENT announcing a million attachments, then 1 MB of binary frames, on each of 20 connections held
    open: python-socketio used to keep every frame (20 MB here). The first frame now closes each connection."""
    server = await chat_process(tmp_path)
    attempts, frames_per_attempt, frame = 20, 16, b"\x00" * 64_000
    try:
        async with aiohttp.ClientSession() as http:
            async with raw_socket(server.url, http) as warm_up:  # first connections allocate the server's caches
                await warm_up.join("/visitor")
            rss_before = server.rss_kb()
            closed = 0
            async with asyncio.timeout(120), AsyncExitStack() as held_open:
                sockets = []
                for _ in range(attempts):
                    sock = await held_open.enter_async_context(raw_socket(server.url, http))
                    sockets.append(sock)
                    await sock.join("/visitor")
                    await sock.send_quietly('451000000-/visitor,1["message",{"_placeholder":true,"num":0}]')
                    for _ in range(frames_per_attempt):
                        await sock.send_quietly(frame)
                await asyncio.sleep(1)
                rss_after = server.rss_kb()
                for sock in sockets:
                    closed += sock.ws.closed or await sock.closed_by_server(timeout=0.5)
        grown = rss_after - rss_before
        sent_kb = frames_per_attempt * len(frame) // 1000
        print(f"{attempts} connections x {sent_kb} KB of binary attachments: server RSS {rss_before} KB"
              f" -> {rss_after} KB ({grown:+} KB); {closed} of {attempts} closed by the server")
        assert closed == attempts
        assert grown < 8_000, "the server kept the binary frames"
    finally:
        server.stop()


async def test_binary_data_over_long_polling_ends_the_session(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB)
    async with aiohttp.ClientSession() as http:
        sid = await polling_session(http, server.url)
        url = f"{server.url}{ENGINEIO}&transport=polling&sid={sid}"
        async with http.post(url, data='451-/visitor,1["message",{"_placeholder":true,"num":0}]\x1ebAAECAw==') as resp:
            print(f"POST with a binary attachment: {resp.status}")
        async with asyncio.timeout(5):
            async with http.get(url) as resp:
                answer = await resp.text()
    print(f"next poll: {resp.status} {answer[:120]!r}")
    # The session ended: the poll gets Engine.IO's CLOSE packet, or the session is already gone.
    assert resp.status == 400 or answer.split("\x1e")[-1] == "1", answer


# -- 7: oversized long-polling POSTs ------------------------------------------------------------------------

async def test_an_oversized_long_polling_post_is_answered_413_and_ends_the_session(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB)
    async with aiohttp.ClientSession() as http:
        sid = await polling_session(http, server.url)
        url = f"{server.url}{ENGINEIO}&transport=polling&sid={sid}"
        started = time.monotonic()
        async with asyncio.timeout(5):
            async with http.post(url, data="4" + "x" * 70_000) as resp:
                answer = await resp.json()
        print(f"70 KB POST: {resp.status} {answer} in {time.monotonic() - started:.3f} s")
        assert resp.status == 413 and answer["error"] == "payload_too_large", answer
        async with asyncio.timeout(5):
            async with http.get(url) as resp:
                after = await resp.text()
        assert resp.status == 400 or after.split("\x1e")[-1] == "1", after  # the session is over
        # A POST without Content-Length (chunked) would be read as empty by python-engineio: refused too.
        sid = await polling_session(http, server.url)

        async def chunks():
            yield b'42/visitor,["typing",{"typing":true}]'

        async with asyncio.timeout(5):
            async with http.post(f"{server.url}{ENGINEIO}&transport=polling&sid={sid}", data=chunks()) as resp:
                assert resp.status == 411 and (await resp.json())["error"] == "length_required"


async def test_oversized_long_polling_posts_leak_no_memory_and_shutdown_does_not_wait_for_them(tmp_path):
    """200 polling sessions each sent a 70 KB POST: each used to hang unanswered and keep its body (~70 KB, 14 MB
    here), and shutdown then waited aiohttp's 60 s for them."""
    server = await chat_process(tmp_path)
    attempts, body = 200, "4" + "x" * 70_000
    statuses: dict[object, int] = {}
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3)) as http:
            await polling_session(http, server.url)  # warm-up
            rss_before = server.rss_kb()
            gate = asyncio.Semaphore(20)

            async def attempt():
                async with gate:
                    try:
                        sid = await polling_session(http, server.url)
                        async with http.post(f"{server.url}{ENGINEIO}&transport=polling&sid={sid}", data=body) as resp:
                            status: object = resp.status
                    except asyncio.TimeoutError:
                        status = "no answer in 3 s"
                    statuses[status] = statuses.get(status, 0) + 1

            await asyncio.gather(*(attempt() for _ in range(attempts)))
            await asyncio.sleep(0.5)
            rss_after = server.rss_kb()
    finally:
        shutdown_seconds = server.stop(timeout=90)
    grown = rss_after - rss_before
    print(f"{attempts} POSTs of 70 KB: answers {statuses}; server RSS {rss_before} KB -> {rss_after} KB "
          f"({grown:+} KB); shutdown took {shutdown_seconds:.1f} s")
    assert statuses == {413: attempts}
    assert grown < 6_000, "the refused bodies stayed in memory"
    assert shutdown_seconds < 15, "shutdown waited for hanging requests"


# -- 11: last_seq out of range ------------------------------------------------------------------------------

async def test_a_last_seq_beyond_any_integer_the_store_holds_still_gets_a_session(server_factory):
    """`last_seq=2**63` used to connect and never get `session` (the store's query failed in a background task).
    It is clamped to 2**53: the visitor has seen everything, so no message is resent."""
    server = await server_factory(kb_dir=FIXTURE_KB, bot_enabled=False)
    first = await server.visitor()
    token = first.of("session")[0]["visitor_token"]
    ack = await first.call("message", {"client_id": "m1", "text": "Where is my parcel?"})
    assert ack["ok"], ack
    for last_seq in (2**63, 2**64 - 1, 2**53 + 1):
        back = await server.visitor(token=token, last_seq=last_seq)  # waits for `session`
        session = back.of("session")[0]
        assert session["conversation"]["id"] == ack["conversation_id"] and session["messages"] == [], session
        await back.disconnect()
    resumed = await server.visitor(token=token, last_seq=0)
    assert [m["client_id"] for m in resumed.of("session")[0]["messages"]] == ["m1"]


# -- 14: malformed packets ----------------------------------------------------------------------------------

MALFORMED = [
    "",                                   # empty frame
    "x",                                  # not an Engine.IO packet type
    "9",                                  # an Engine.IO type that does not exist
    "4",                                  # an empty Socket.IO packet
    "4x",                                 # not a Socket.IO packet type
    "49",                                 # a Socket.IO type that does not exist
    "42",                                 # an event without data
    "42/visitor,[]",                      # an event without a name
    "42/visitor,[7]",                     # a name that is not a string
    '42/visitor,{"a":1}',                 # event data that is not a list
    '42/visitor,["message"',              # broken JSON
    '42/visitor,["message"' + "[" * 300,  # deep, broken JSON
    '4{"a":1}',                           # JSON where a Socket.IO packet belongs
    "40/visitor,[1]",                     # connect auth that is not an object
    '41/visitor,{"a":1}',                 # a disconnect with a payload
    '43/visitor,1{"a":1}',                # an ack that is not a list
    '44/visitor,{"message":"x"}',         # CONNECT_ERROR, which only servers send
    b"\x00\x01\x02binary",                # a binary frame
]


async def test_each_malformed_packet_closes_its_connection_with_one_log_line_and_no_traceback(server_factory):
    """Malformed frames used to leave the connection open and log a traceback each (1-2 KB of log per 2-byte
    frame). Now each closes its connection; a burst of them logs one line."""
    server = await server_factory(kb_dir=FIXTURE_KB)
    outcomes = {}
    with LogLines() as log:
        async with aiohttp.ClientSession() as http:
            for frame in MALFORMED:
                async with raw_socket(server.url, http) as sock:
                    await sock.join("/visitor")
                    await sock.send_quietly(frame)
                    outcomes[repr(frame)[:40]] = await sock.closed_by_server()
            # The server still serves everyone else.
            async with raw_socket(server.url, http) as sock:
                await sock.join("/visitor")
                assert len(await sock.events("session", timeout=2)) == 1
    lines = [(r.name, r.getMessage()[:160], bool(r.exc_info)) for r in log.records]
    print(f"connections closed: {sum(outcomes.values())} of {len(outcomes)}; log lines: {lines}")
    assert all(outcomes.values()), {frame: closed for frame, closed in outcomes.items() if not closed}
    assert not any(traceback for *_, traceback in lines), lines
    assert len(lines) == 1 and "closed a connection from 127.0.0.1" in lines[0][1], lines


async def test_malformed_long_polling_payloads_end_the_session_without_a_traceback(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB)
    answers = {}
    with LogLines() as log:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            for body in ["x", "9", "4\x1e", '42/visitor,["message"', "\xff", b"\xff\xfe"]:
                sid = await polling_session(http, server.url)
                url = f"{server.url}{ENGINEIO}&transport=polling&sid={sid}"
                async with http.post(url, data=body) as resp:
                    posted = resp.status
                async with http.get(url) as resp:
                    answers[repr(body)] = (posted, resp.status, (await resp.text())[-20:])
    tracebacks = [r.getMessage() for r in log.records if r.exc_info]
    print(f"(POST status, next poll status, its end): {answers}; log lines: {len(log.records)}")
    assert all(poll == 400 or text.split("\x1e")[-1] == "1" for _, poll, text in answers.values()), answers
    assert not tracebacks, tracebacks
    # One line for the burst (python-engineio may add its own one-time "Invalid session" line for the polls).
    assert len([r for r in log.records if "closed a connection" in r.getMessage()]) == 1, log.records


def test_refusal_log_writes_one_line_per_interval_and_counts_the_rest():
    from chatserver.transport.frames import RefusalLog

    logger = logging.getLogger("test.refusals")
    with LogLines() as log:
        refusals = RefusalLog(logger, interval=0.2)
        for _ in range(5):
            refusals.refused("junk", "10.0.0.1")
        time.sleep(0.25)
        refusals.refused("more junk", "10.0.0.2")
    assert [r.getMessage() for r in log.records] == [
        "closed a connection from 10.0.0.1 that sent junk",
        "closed a connection from 10.0.0.2 that sent more junk (4 more refused since the last line)"]
