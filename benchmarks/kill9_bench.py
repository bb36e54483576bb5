"""kill -9 under load: 50 visitors keep 5 messages each in flight; once `--acked` messages are acknowledged the
server gets SIGKILL mid-stream; it is restarted on the same data dir, every client reconnects with its token and
last_seq (resuming), resends what was not acked (same client_id), and then every conversation is read back.

Prints what it tried and what was lost. Expected: every acked message stored exactly once, in the order sent.

    python benchmarks/kill9_bench.py [--clients 50] [--acked 5000]
"""
from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import socketio

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402


class Client:
    def __init__(self, name: str):
        self.name = name
        self.token = None
        self.sent: list[str] = []
        self.acked: dict[str, int] = {}
        self.sio: socketio.AsyncClient | None = None
        self.resumed: list[dict] = []

    async def connect(self, url: str) -> None:
        self.sio = socketio.AsyncClient(reconnection=False)
        session = asyncio.get_running_loop().create_future()
        self.sio.on("session", lambda data: session.done() or session.set_result(data), namespace="/visitor")
        last_seq = max(self.acked.values(), default=None)
        await self.sio.connect(url, namespaces=["/visitor"], transports=["websocket"], wait_timeout=10,
                               auth={"visitor_token": self.token, "last_seq": last_seq})
        data = await asyncio.wait_for(session, 10)
        self.token = data["visitor_token"]
        self.resumed = data["messages"]

    async def send(self, cid: str) -> None:
        try:
            ack = await self.sio.call("message", {"client_id": cid, "text": f"{self.name} {cid}"},
                                      namespace="/visitor", timeout=3)
        except Exception:
            return
        if ack.get("ok"):
            self.acked[cid] = ack["seq"]


async def run(clients_count: int, target: int) -> int:
    workdir = Path(harness.tempfile.mkdtemp(prefix="bench-kill9-"))
    data_dir = workdir / "data"
    port = harness.free_port()
    server = harness.ServerProcess("product", port, data_dir).start()
    clients = [Client(f"c{i:02d}") for i in range(clients_count)]
    for client in clients:
        await client.connect(server.url)
    killed = asyncio.Event()

    async def pump(client: Client):
        n = 0
        while not killed.is_set():
            batch = []
            for _ in range(5):
                n += 1
                cid = f"{client.name}-{n:05d}"
                client.sent.append(cid)
                batch.append(client.send(cid))
            await asyncio.gather(*batch)

    t0 = time.monotonic()
    pumps = [asyncio.ensure_future(pump(c)) for c in clients]
    while sum(len(c.acked) for c in clients) < target:
        await asyncio.sleep(0.01)
    server.kill9()
    killed.set()
    elapsed = time.monotonic() - t0
    await asyncio.gather(*pumps)
    acked = {cid for c in clients for cid in c.acked}
    in_flight = sum(len(c.sent) - len(c.acked) for c in clients)
    print(f"{clients_count} clients sent {sum(len(c.sent) for c in clients)} messages in {elapsed:.1f} s; "
          f"{len(acked)} acked when the server was killed with SIGKILL; {in_flight} sent but not acked")
    for client in clients:
        await client.sio.disconnect()

    server = harness.ServerProcess("product", port, data_dir).start()
    print(f"restarted in {server.started_in:.2f} s")
    try:
        resent = 0
        resumed_extra = 0
        for client in clients:
            await client.connect(server.url)
            resumed_extra += len(client.resumed)  # messages after the last acked seq (the unacked that made it)
            for cid in [c for c in client.sent if c not in client.acked]:
                await client.send(cid)
                resent += 1
        lost = duplicates = out_of_order = 0
        for client in clients:
            ack = await client.sio.call("sync", {"after_seq": 0}, namespace="/visitor", timeout=10)
            stored = [m["client_id"] for m in ack["messages"] if m["author"] == "visitor"]
            duplicates += len(stored) - len(set(stored))
            out_of_order += int(stored != sorted(stored))
            lost += sum(1 for cid in client.acked if cid not in stored)
            await client.sio.disconnect()
        print(f"after restart: clients resumed by last_seq ({resumed_extra} unacked messages had been stored and "
              f"came back in the session), resent {resent} unacked messages with their client_id")
        print(f"acked messages lost: {lost}; stored twice: {duplicates}; conversations out of order: {out_of_order}")
        return 0 if lost == duplicates == out_of_order == 0 else 1
    finally:
        server.stop()
        harness.shutil_rmtree(workdir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--acked", type=int, default=5000)
    args = parser.parse_args(argv)
    return asyncio.run(run(args.clients, args.acked))


if __name__ == "__main__":
    sys.exit(main())
