"""Faults: a killed server process, a full disk, half-open network connections. Each test says what it tried and
checks that nothing acknowledged was lost."""
from __future__ import annotations

import asyncio
import time

import aiohttp
import socketio

from support.postgres import only_on_sqlite
from support.process import ServerProcess
from support.server import FIXTURE_KB, Recorder, free_port


# -- kill -9 ------------------------------------------------------------------------------------------------

class RetryingVisitor:
    """A visitor that numbers its messages, pipelines them, and after a crash resends every unacked one with the
    same client_id (the protocol's idempotency) before carrying on."""

    def __init__(self, name: str):
        self.name = name
        self.token: str | None = None
        self.sent: list[str] = []          # client_ids in the order sent
        self.acked: dict[str, int] = {}    # client_id -> seq
        self.client: Recorder | None = None

    async def connect(self, url: str) -> None:
        self.client = Recorder("/visitor")
        last_seq = max(self.acked.values(), default=None)
        await self.client.connect(url, auth={"visitor_token": self.token, "last_seq": last_seq})
        session = await self.client.wait_for("session")
        self.token = session["visitor_token"]

    async def send(self, client_id: str) -> None:
        try:
            ack = await self.client.call("message", {"client_id": client_id, "text": f"{self.name} {client_id}"},
                                         timeout=3)
        except (socketio.exceptions.TimeoutError, socketio.exceptions.BadNamespaceError,
                socketio.exceptions.DisconnectedError):
            return  # not acked: resent after the restart
        assert ack["ok"], ack
        self.acked[client_id] = ack["seq"]

    async def resend_unacked(self) -> int:
        missing = [cid for cid in self.sent if cid not in self.acked]
        for cid in missing:
            await self.send(cid)
        return len(missing)


async def test_kill9_under_load_loses_no_acked_message_and_stores_each_once_in_order(tmp_path, sentence_vector_cache):
    """4 visitors pipeline messages; the server is killed with SIGKILL once 200 are acked (more are in flight);
    after a restart on the same data dir, the visitors resume by last_seq and resend what was not acked. Every
    acked message is stored exactly once, each conversation in the order sent."""
    data_dir = tmp_path / "data"
    server = await ServerProcess(data_dir, free_port(), vector_cache=sentence_vector_cache).start()
    visitors = [RetryingVisitor(f"v{i}") for i in range(4)]
    try:
        for visitor in visitors:
            await visitor.connect(server.url)

        killed = asyncio.Event()

        async def pump(visitor: RetryingVisitor):
            n = 0
            while not killed.is_set():
                batch = []
                for _ in range(5):  # five in flight at a time per visitor
                    n += 1
                    cid = f"{visitor.name}-{n:04d}"
                    visitor.sent.append(cid)
                    batch.append(visitor.send(cid))
                await asyncio.gather(*batch)

        pumps = [asyncio.ensure_future(pump(v)) for v in visitors]
        while sum(len(v.acked) for v in visitors) < 200:
            await asyncio.sleep(0.005)
        server.kill9()  # mid-stream: the pumps are still sending
        killed.set()
        await asyncio.gather(*pumps)
        acked_before = {cid: seq for v in visitors for cid, seq in v.acked.items()}
        assert len(acked_before) >= 200
        for visitor in visitors:
            await visitor.client.disconnect()

        server = await ServerProcess(data_dir, server.port, vector_cache=sentence_vector_cache).start()
        resent = 0
        for visitor in visitors:
            await visitor.connect(server.url)
            resent += await visitor.resend_unacked()
        print(f"acked before kill -9: {len(acked_before)}; sent but unacked, resent after restart: {resent}")

        lost = 0
        for visitor in visitors:
            ack = await visitor.client.call("sync", {"after_seq": 0})
            assert ack["ok"], ack
            stored = [m["client_id"] for m in ack["messages"] if m["author"] == "visitor"]
            assert len(stored) == len(set(stored)), "a message was stored twice"
            assert stored == visitor.sent, "stored messages differ from, or are out of, the order sent"
            for cid, seq in visitor.acked.items():
                message = next(m for m in ack["messages"] if m.get("client_id") == cid)
                assert message["seq"] == seq, "an acked message changed its seq"
            lost += sum(1 for cid in acked_before if cid.startswith(visitor.name + "-") and cid not in stored)
            await visitor.client.disconnect()
        print(f"acked messages lost: {lost}")
        assert lost == 0
    finally:
        for visitor in visitors:
            if visitor.client is not None:
                await visitor.client.disconnect()
        server.stop()


# -- disk full ----------------------------------------------------------------------------------------------

def _cap_database_size(db, extra_pages: int) -> int:
    """Simulate a full disk: SQLite refuses to grow the file beyond its current size (+ extra_pages)."""
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages + extra_pages}")
    return pages


def _uncap_database_size(db) -> None:
    db.execute("PRAGMA max_page_count = 1073741823")


@only_on_sqlite("fills the disk with SQLite's max_page_count")
async def test_full_disk_gives_storage_error_acks_then_recovers(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB, rate_limit_messages=100_000, bot_enabled=False)
    visitor = await server.visitor()
    ack = await visitor.call("message", {"client_id": "before", "text": "hello"})
    assert ack["ok"], ack

    await server.store.write(_cap_database_size, 4)
    big = "x" * 4000
    failures = []
    for n in range(200):
        ack = await visitor.call("message", {"client_id": f"full-{n}", "text": big})
        if not ack["ok"]:
            failures.append((f"full-{n}", ack))
            break
    print(f"messages accepted before the disk filled: {n}; then {failures[:1]}")
    assert failures, "the capped database never filled"
    refused_id, refused = failures[0]
    assert refused["error"] == "storage_error", refused

    # Still serving while the disk is full: reads work, other events answer.
    ack = await visitor.call("sync", {"after_seq": 0})
    assert ack["ok"], ack
    assert refused_id not in [m.get("client_id") for m in ack["messages"]], "a refused message was stored"
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + "/healthz") as resp:
            assert resp.status == 200

    await server.store.write(_uncap_database_size)  # space is back
    ack = await visitor.call("message", {"client_id": refused_id, "text": big})  # the client retries
    assert ack["ok"] and not ack["duplicate"], ack
    ack = await visitor.call("sync", {"after_seq": 0})
    stored = [m["client_id"] for m in ack["messages"]]
    accepted = [f"full-{i}" for i in range(n)]
    assert stored == ["before", *accepted, refused_id], "lost or reordered across the full disk"


# -- half-open connections ----------------------------------------------------------------------------------

class FreezableProxy:
    """A loopback TCP proxy whose connections can be frozen: bytes stop flowing both ways but no FIN or RST is
    sent, which is what a pulled cable looks like to both ends (a half-open socket)."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port = free_port()
        self.frozen = False
        self._server: asyncio.base_events.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []
        self._tasks: set[asyncio.Task] = set()

    async def start(self) -> "FreezableProxy":
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", self.port)
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _accept(self, reader, writer):
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self._writers += [writer, up_writer]
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            task = asyncio.ensure_future(self._pipe(src, dst))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pipe(self, reader, writer):
        try:
            while True:
                chunk = await reader.read(65536)
                if not chunk:
                    break
                while self.frozen:  # hold the bytes: nothing arrives, nothing is refused
                    await asyncio.sleep(0.05)
                writer.write(chunk)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            if not self.frozen:
                writer.close()

    async def close(self):
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()


async def test_half_open_agent_and_visitor_are_noticed_requeued_and_lose_nothing(server_factory):
    """The agent's and the visitor's network goes silent (no FIN) for longer than ping interval + timeout: the
    agent goes offline within that time, the chat is requeued after the grace period and assigned to the other
    agent, and the visitor reconnecting with last_seq gets every message written meanwhile."""
    ping_interval, ping_timeout, grace = 1.0, 1.0, 1.0  # sub-second timeouts drop healthy python clients
    server = await server_factory(kb_dir=FIXTURE_KB, ping_interval_seconds=ping_interval,
                                  ping_timeout_seconds=ping_timeout, agent_grace_seconds=grace, bot_enabled=False)
    await server.create_agent("cut@example.com", "Cut", max_chats=5)
    await server.create_agent("spare@example.com", "Spare", max_chats=5)
    agent_proxy = await FreezableProxy(int(server.url.rsplit(":", 1)[1])).start()
    visitor_proxy = await FreezableProxy(int(server.url.rsplit(":", 1)[1])).start()
    try:
        token = await server.login("cut@example.com", "agent-password-1")
        cut_agent = Recorder("/agent")
        await cut_agent.connect(agent_proxy.url, auth={"token": token})
        server.clients.append(cut_agent)
        await cut_agent.wait_for("session")
        assert (await cut_agent.call("status", {"status": "online"}))["ok"]

        visitor = Recorder("/visitor")
        await visitor.connect(visitor_proxy.url, auth={"visitor_token": None, "last_seq": None})
        server.clients.append(visitor)
        session = await visitor.wait_for("session")
        ack = await visitor.call("message", {"client_id": "m1", "text": "my parcel is late"})
        assert ack["ok"], ack
        cid = ack["conversation_id"]
        await cut_agent.wait_for("assigned", lambda s: s["conversation"]["id"] == cid)

        agent_proxy.frozen = visitor_proxy.frozen = True
        cut_at = time.monotonic()
        live = server.app[__import__("chatserver").keys.DESK].live
        while await live.agents_online() > 0:
            assert time.monotonic() - cut_at < ping_interval + ping_timeout + 2.0, "presence never updated"
            await asyncio.sleep(0.05)
        noticed = time.monotonic() - cut_at
        print(f"half-open agent noticed after {noticed:.2f} s (ping {ping_interval} + {ping_timeout} s)")

        spare = await server.agent("spare@example.com")
        assigned = await spare.wait_for("assigned", lambda s: s["conversation"]["id"] == cid,
                                        timeout=ping_interval + ping_timeout + grace + 5)
        print(f"chat requeued and reassigned {time.monotonic() - cut_at:.2f} s after the cut: {assigned['reason']}")
        reply = await spare.call("message", {"conversation_id": cid, "client_id": "r1", "text": "on it"})
        assert reply["ok"], reply

        # The visitor comes back on a new connection and resumes from the last seq it saw.
        back = await server.visitor(session["visitor_token"], last_seq=ack["seq"])
        resumed = await back.wait_for("session")
        texts = [m["text"] for m in resumed["messages"]]
        assert "on it" in texts, texts
        ack2 = await back.call("sync", {"after_seq": 0})
        assert [m["client_id"] for m in ack2["messages"] if m["author"] == "visitor"] == ["m1"]
    finally:
        agent_proxy.frozen = visitor_proxy.frozen = False
        await agent_proxy.close()
        await visitor_proxy.close()


# -- floods -------------------------------------------------------------------------------------------------

async def _raw_visitor_connect(url: str, auth: dict) -> dict:
    """Open /visitor over a raw Engine.IO WebSocket and return the CONNECT answer (accepted or refused)."""
    import json

    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(url.replace("http", "ws") + "/socket.io/?EIO=4&transport=websocket") as ws:
            assert (await ws.receive_str()).startswith("0")
            await ws.send_str("40/visitor," + json.dumps(auth))
            while True:
                packet = await asyncio.wait_for(ws.receive_str(), 5)
                if packet.startswith("40/visitor,"):
                    return {"accepted": True}
                if packet.startswith("44/visitor,"):
                    return {"accepted": False, **json.loads(packet[len("44/visitor,"):])}


async def test_many_new_visitor_tokens_from_one_address_are_refused_with_rate_limited(server_factory):
    """A flood of new anonymous visitors from one address: the first N are accepted, then each connect is refused
    with the documented `rate_limited` (not a server error); a known visitor token still connects."""
    server = await server_factory(kb_dir=FIXTURE_KB, new_visitors_per_minute_per_ip=3)
    known = await server.visitor()
    answers = [await _raw_visitor_connect(server.url, {"visitor_token": None}) for _ in range(6)]
    print(f"6 new visitors from one address with a limit of 3 per minute (1 used): {answers}")
    assert [a["accepted"] for a in answers] == [True, True, False, False, False, False]
    # The refusal's `data` carries the documented code (not server_error) and `message` a human text.
    assert all(a["data"]["error"] == "rate_limited" and "too many new visitors" in a["message"]
               for a in answers[2:]), answers
    again = await _raw_visitor_connect(server.url, {"visitor_token": known.of("session")[0]["visitor_token"]})
    assert again["accepted"]
