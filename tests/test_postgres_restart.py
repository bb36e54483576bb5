"""PostgreSQL restarted under a node process: a private PostgreSQL cluster of the test's own (initdb into a temp
dir, pg_ctl on a free port, trust auth; the machine's shared PostgreSQL is never touched), one `python run.py` on
it, and a visitor sending a message every 50 ms without waiting for each ack. PostgreSQL is stopped
(`pg_ctl stop -m fast`) for 1.5 s and started again. Every message is answered, by an ack or by `storage_error`;
every acked one is stored exactly once with its acked `seq`, no refused one is stored; and the same process acks
messages again by itself (its pools reconnect), without a restart.

An outage this short is shorter than the pool's wait for a connection (10 s, chatserver/store/postgres.py), so the
messages sent meanwhile are held and acked once PostgreSQL is back rather than refused; a write only gets
`storage_error` when its connection broke twice or the wait ran out. A second, longer outage checks that: messages
queued behind a wait that ran out are refused at once, not 10 s later each."""
from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from support.postgres import on_postgres
from support.process import ServerProcess
from support.server import Recorder, free_port
from support.services import unavailable

PG_BIN = Path("/usr/lib/postgresql/15/bin")
INITDB = PG_BIN / "initdb"
DOWN_SECONDS = 1.5
EVERY = 0.05

pytestmark = pytest.mark.skipif(on_postgres(), reason="already run by the first pass: this node always uses its "
                                                       "own PostgreSQL, whatever CHAT_TEST_DATABASE_URL says")


class PrivatePostgres:
    """initdb + pg_ctl in a temp dir of its own, on a free port; its socket in that dir too. PostgreSQL refuses to
    run as root, so under root the cluster belongs to the `postgres` user and its commands run as that user."""

    def __init__(self):
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.root = Path(tempfile.mkdtemp(prefix="chat-pg-restart-"))   # not under tmp_path: root-only dirs
        if self.as_user:
            entry = pwd.getpwnam("postgres")
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self.data = self.root / "data"
        self.port = free_port()
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        done = subprocess.run([*self.as_user, *args], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, (args, done.stdout, done.stderr)

    def init(self) -> None:
        self._run(str(INITDB), "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")

    def start(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-w", "-t", "30",
                  "-o", f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off", "start")

    def stop(self) -> None:
        self._run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@pytest.fixture
def private_postgres():
    if not INITDB.exists():
        reason = f"{INITDB} is missing (apt-get install postgresql-15), so PostgreSQL cannot be restarted"
        unavailable(reason)
    server = PrivatePostgres()
    server.init()
    server.start()
    yield server
    if server.running():
        server.stop()
    shutil.rmtree(server.root, ignore_errors=True)


async def test_the_node_recovers_by_itself_when_postgresql_restarts(private_postgres, tmp_path):
    node = await ServerProcess(tmp_path / "node" / "data", free_port(),
                               env={"CHAT_DATABASE_URL": private_postgres.url, "CHAT_BOT_ENABLED": "false",
                                    "CHAT_KB_ENCODER": "false"}).start()
    visitor = Recorder("/visitor")
    acked: dict[str, int] = {}          # client_id -> seq
    refused: list[str] = []
    try:
        await visitor.connect(node.url, auth={"visitor_token": None, "last_seq": None})
        await visitor.wait_for("session")
        n = 0

        async def send() -> dict:
            nonlocal n
            client_id = f"m{n}"
            n += 1
            ack = await visitor.call("message", {"client_id": client_id, "text": f"message {client_id}"}, timeout=15)
            if ack["ok"]:
                assert ack["duplicate"] is False, ack
                acked[client_id] = ack["seq"]
            else:
                assert ack["error"] == "storage_error", ack
                refused.append(client_id)
            return ack

        async def timed(call) -> tuple[dict, float]:
            started = time.monotonic()
            return await call, time.monotonic() - started

        for _ in range(10):                                            # light traffic before
            assert (await send())["ok"]
            await asyncio.sleep(EVERY)
        cid = (await send())["conversation_id"]

        private_postgres.stop()
        down_at = time.monotonic()
        in_flight = []                                                 # light traffic: not waiting for each ack
        while time.monotonic() - down_at < DOWN_SECONDS:
            in_flight.append(asyncio.create_task(timed(send())))
            await asyncio.sleep(EVERY)
        private_postgres.start()
        back_at = time.monotonic()
        during = await asyncio.gather(*in_flight)
        refused_while_down = sum(1 for ack, _ in during if not ack["ok"])
        acked_while_down = len(during) - refused_while_down
        slowest = max(took for _, took in during)
        while not (await send())["ok"]:                                # the same process, not restarted
            assert time.monotonic() - back_at < 15, f"the node did not recover: {node.log_tail()}"
            await asyncio.sleep(EVERY)
        recovered = time.monotonic() - back_at
        for _ in range(10):                                            # and keeps acking
            assert (await send())["ok"]
            await asyncio.sleep(EVERY)
        assert node.proc.poll() is None
        print(f"\nPostgreSQL down {DOWN_SECONDS} s under a message every {EVERY * 1000:.0f} ms: {len(during)} sent "
              f"meanwhile, {refused_while_down} got storage_error, {acked_while_down} acked (slowest ack "
              f"{slowest:.2f} s); {len(refused) - refused_while_down} refused after the restart; the same node acked "
              f"again {recovered:.2f} s after PostgreSQL was back; {len(acked)} acked in all")

        # Down for longer than the pool's 10 s wait: the first queued message is refused when its wait runs out,
        # and the ones queued behind it right after, not 10 s later each.
        private_postgres.stop()
        down_at = time.monotonic()
        queued = []
        for _ in range(5):
            queued.append(asyncio.create_task(send()))
            await asyncio.sleep(EVERY)
        answers = await asyncio.gather(*queued)
        all_refused = time.monotonic() - down_at
        assert [ack["ok"] for ack in answers] == [False] * 5, answers
        assert all_refused < 15, f"5 queued messages refused only after {all_refused:.1f} s"
        private_postgres.start()
        back_at = time.monotonic()
        while not (await send())["ok"]:
            assert time.monotonic() - back_at < 15, f"the node did not recover twice: {node.log_tail()}"
            await asyncio.sleep(EVERY)
        print(f"PostgreSQL down again for longer: 5 queued messages all got storage_error {all_refused:.1f} s after "
              f"it went down; the node acked again {time.monotonic() - back_at:.2f} s after it was back")

        with psycopg.connect(private_postgres.url) as conn:
            stored = conn.execute("SELECT client_id, seq FROM messages WHERE conversation_id = %s AND author = "
                                  "'visitor'", [cid]).fetchall()
        client_ids = [client_id for client_id, _ in stored]
        assert len(client_ids) == len(set(client_ids))                 # none stored twice
        assert dict(stored) == acked                                   # every acked one, with its seq; no refused one
        assert not set(refused) & set(client_ids) and len(refused) >= 5
        # Each one was answered, by an ack or by storage_error, within the pool's wait for a connection (10 s).
        assert slowest < 12, during
    finally:
        await visitor.disconnect()
        node.stop()
