"""Several nodes: max rate and CPU per message for one node on SQLite, one node on PostgreSQL + Redis and two nodes on
PostgreSQL + Redis; the Redis hop's CPU per message; how long a surviving node takes over a killed node's visitors.

    python benchmarks/cluster_bench.py --only rate       # max msgs/s at p99 < 50 ms, V=100 A=10, 3 s steps
    python benchmarks/cluster_bench.py --only rate --setups "2 nodes+nginx" --start 250
    python benchmarks/cluster_bench.py --only probe --rate 300    # CPU per message at one rate: the Redis hop
    python benchmarks/cluster_bench.py --only takeover   # kill -9 one of two nodes, its visitors resume on the other

Setups: "sqlite" (run.py as shipped), "postgres" (CHAT_DATABASE_URL only), "postgres+redis" (one node with
CHAT_REDIS_URL too), "2 nodes" (two nodes on PostgreSQL + Redis, the load generator's clients connected to the nodes
directly, half each: visitor i and agent j to node i % 2 and j % 2, so most chats cross nodes through Redis) and
"2 nodes+nginx" (the same behind the production layout, deploy/nginx.conf with its ip_hash, run by a private nginx:
the clients connect from 127.0.N.1 addresses that ip_hash spreads half to each node, visitor i and agent j on node
i % 2 and j % 2 as above, and the nodes trust nginx's X-Forwarded-For). Every node runs on core 0
(one node's CPU budget, so the figures show what the cluster costs, not what a second machine would add), the load
generator on core 1; PostgreSQL and Redis are the machine's services (unpinned). Each run creates its own database
and Redis prefix and removes them (benchmarks/cluster.py).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from cluster import Desk  # noqa: E402

SETUPS = {  # name: (database, redis, nodes)
    "sqlite": ("sqlite", False, 1),
    "postgres": ("postgres", False, 1),
    "postgres+redis": ("postgres", True, 1),
    "2 nodes": ("postgres", True, 2),
    "2 nodes+nginx": ("postgres", True, 2),
}
VISITORS, AGENTS = 100, 10


def _options(desk: Desk) -> dict:
    return {"urls": desk.urls, "url": desk.urls[0], "mode": desk.label(), "visitors": VISITORS,
            "agentTokens": desk.tokens, "serverPids": desk.pids, "servicePids": desk.service_pids(),
            "connectConcurrency": 50, "closedSeconds": 0, "sourceAddresses": desk.source_addresses()}


def _desk(setup: str) -> Desk:
    database, redis, nodes = SETUPS[setup]
    return Desk(database=database, redis=redis, nodes=nodes, agents=AGENTS, max_chats=VISITORS // AGENTS + 1,
                nginx=setup.endswith("+nginx"))


def us_per_message(cpu_pct, rate) -> float | None:
    return None if cpu_pct is None or not rate else round(cpu_pct / 100 / rate * 1e6)


def max_rate(setup: str, start: int, seconds: float, factor: float) -> dict:
    with _desk(setup) as desk:
        options = {**_options(desk), "search": {"start": start, "factor": factor, "seconds": seconds,
                                                "p99LimitMs": 50, "maxSteps": 30}}
        lines = harness.run_loadgen(options, timeout=300)
    best = next(line for line in lines if line["type"] == "max")
    steps = [line for line in lines if line["type"] == "step"]
    at = best["best"] or {}
    failed = [s for s in steps if s["rate"] == best["first_failed"]]
    return {"setup": setup, "max_rate": best["rate"], "p99_ms": (at.get("delivery_ms") or {}).get("p99"),
            "server_cpu_pct": at.get("server_cpu_pct"), "service_cpu_pct": at.get("service_cpu_pct"),
            "us_per_msg": us_per_message(at.get("server_cpu_pct"), best["rate"]),
            "service_us_per_msg": us_per_message(at.get("service_cpu_pct"), best["rate"]),
            "first_failed": best["first_failed"],
            "failed_p99_ms": failed[-1]["delivery_ms"]["p99"] if failed else None,
            "failed_cpu_pct": failed[-1]["server_cpu_pct"] if failed else None, "steps": steps}


def probe(setup: str, rate: int, seconds: float) -> dict:
    """CPU at one rate, after a step of the same length with everyone connected and nothing sent (the nodes' idle
    work: pings, heartbeats, timed jobs), so the per-message figure can leave the idle part out."""
    with _desk(setup) as desk:
        lines = harness.run_loadgen({**_options(desk), "steps": [{"rate": 0, "seconds": seconds},
                                                                 {"rate": rate, "seconds": seconds}]},
                                    timeout=2 * seconds + 150)
    idle, step = [line for line in lines if line["type"] == "step"]
    marginal = (None if step["server_cpu_pct"] is None or idle["server_cpu_pct"] is None
                else step["server_cpu_pct"] - idle["server_cpu_pct"])
    marginal_service = (None if step["service_cpu_pct"] is None or idle["service_cpu_pct"] is None
                        else step["service_cpu_pct"] - idle["service_cpu_pct"])
    return {"setup": setup, "rate": rate, "idle_server_cpu_pct": idle["server_cpu_pct"],
            "idle_service_cpu_pct": idle["service_cpu_pct"],
            "marginal_us_per_msg": us_per_message(marginal, rate),
            "marginal_service_us_per_msg": us_per_message(marginal_service, rate),
            "server_cpu_pct": step["server_cpu_pct"],
            "service_cpu_pct": step["service_cpu_pct"], "us_per_msg": us_per_message(step["server_cpu_pct"], rate),
            "service_us_per_msg": us_per_message(step["service_cpu_pct"], rate),
            "p50_ms": step["delivery_ms"]["p50"], "p99_ms": step["delivery_ms"]["p99"], "lost": step["lost"],
            "errors": step["errors"]}


# -- takeover -----------------------------------------------------------------------------------------------------

def takeover(visitors: int) -> dict:
    with Desk(database="postgres", redis=True, nodes=2, agents=1, max_chats=visitors + 1) as desk:
        return asyncio.run(_takeover(desk, visitors))


async def _takeover(desk: Desk, visitors: int) -> dict:
    """`visitors` visitors on node 1, each in a chat assigned to the agent on node 0; node 1 gets SIGKILL; each
    visitor, on seeing its connection drop, connects to node 0 with its token and last_seq. Measured per visitor:
    from the kill to the resumed `session` (same visitor, same conversation, still assigned)."""
    import socketio

    survivor, victim = desk.servers
    agent = socketio.AsyncClient(reconnection=False)
    agent_ready = asyncio.get_running_loop().create_future()
    agent.on("session", lambda data: agent_ready.done() or agent_ready.set_result(data), namespace="/agent")
    await agent.connect(survivor.url, namespaces=["/agent"], transports=["websocket"],
                        auth={"token": desk.tokens[0]}, wait_timeout=10)
    await asyncio.wait_for(agent_ready, 10)
    ack = await agent.call("status", {"status": "online"}, namespace="/agent", timeout=10)
    assert ack.get("ok"), ack

    class Visitor:
        def __init__(self, i: int):
            self.i = i
            self.token = self.conversation = self.visitor_id = None
            self.last_seq = 0
            self.dropped_at = self.resumed_at = None
            self.resumed: dict | None = None
            self.sio = None

        async def open(self, url: str, on_session) -> dict:
            sio = socketio.AsyncClient(reconnection=False)
            got = asyncio.get_running_loop().create_future()
            sio.on("session", lambda data: got.done() or got.set_result(data), namespace="/visitor")
            joined = asyncio.get_running_loop().create_future()
            sio.on("agent_joined", lambda data: joined.done() or joined.set_result(data), namespace="/visitor")
            sio.on("disconnect", on_session, namespace="/visitor")
            await sio.connect(url, namespaces=["/visitor"], transports=["websocket"], wait_timeout=10,
                              auth={"visitor_token": self.token, "last_seq": self.last_seq or None})
            self.sio = sio
            session = await asyncio.wait_for(got, 10)
            self.token, self.visitor_id = session["visitor_token"], session["visitor_id"]
            return session, joined

    people = [Visitor(i) for i in range(visitors)]
    killed_at = None
    failover_tasks = []

    def dropped(person):
        def handler(*_):
            person.dropped_at = time.monotonic()
            failover_tasks.append(asyncio.ensure_future(resume(person)))
        return handler

    async def resume(person):
        session, _ = await person.open(survivor.url, lambda *_: None)
        person.resumed_at = time.monotonic()
        person.resumed = session

    async def enter(person):
        session, joined = await person.open(victim.url, dropped(person))
        ack = await person.sio.call("message", {"client_id": f"t{person.i}-1", "text": "How do I return an item?"},
                                    namespace="/visitor", timeout=10)
        assert ack.get("ok"), ack
        ack = await person.sio.call("request_agent", {}, namespace="/visitor", timeout=10)
        assert ack.get("ok"), ack
        await asyncio.wait_for(joined, 20)
        ack = await person.sio.call("message", {"client_id": f"t{person.i}-2", "text": "still there?"},
                                    namespace="/visitor", timeout=10)
        assert ack.get("ok"), ack
        person.last_seq, person.conversation = ack["seq"], ack.get("conversation_id")

    for k in range(0, visitors, 20):
        await asyncio.gather(*(enter(p) for p in people[k:k + 20]))
    await asyncio.sleep(1.0)
    killed_at = time.monotonic()
    victim.kill9()
    deadline = killed_at + 30
    while time.monotonic() < deadline and (len(failover_tasks) < visitors or
                                           not all(t.done() for t in failover_tasks)):
        await asyncio.sleep(0.01)
    errors = [t.exception() for t in failover_tasks if t.done() and t.exception()]
    resumed = [p for p in people if p.resumed is not None]
    same = [p for p in resumed if p.resumed["visitor_id"] == p.visitor_id and p.resumed.get("conversation")
            and (p.conversation is None or p.resumed["conversation"]["id"] == p.conversation)
            and p.resumed["conversation"]["status"] == "assigned"]
    for p in people:
        if p.sio is not None:
            await p.sio.disconnect()
    await agent.disconnect()
    takeover_ms = sorted((p.resumed_at - killed_at) * 1000 for p in resumed)
    noticed_ms = sorted((p.dropped_at - killed_at) * 1000 for p in people if p.dropped_at)

    def pct(values, q):
        return round(values[min(len(values) - 1, max(0, int(len(values) * q / 100 + 0.999) - 1))], 1) \
            if values else None

    return {"visitors": visitors, "resumed": len(resumed), "same_conversation_assigned": len(same),
            "errors": [repr(e) for e in errors[:3]],
            "takeover_ms": {"p50": pct(takeover_ms, 50), "p99": pct(takeover_ms, 99),
                            "max": round(takeover_ms[-1], 1) if takeover_ms else None},
            "noticed_drop_ms": {"p50": pct(noticed_ms, 50), "p99": pct(noticed_ms, 99)}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="rate,probe,takeover")
    parser.add_argument("--setups", default="sqlite,postgres+redis,2 nodes", help=f"for rate: of {list(SETUPS)}")
    parser.add_argument("--probe-setups", default="sqlite,postgres,postgres+redis,2 nodes",
                        help="for probe: postgres against postgres+redis is the Redis hop")
    parser.add_argument("--seconds", type=float, default=3, help="seconds per step")
    parser.add_argument("--start", type=int, default=500, help="first rate of the search")
    parser.add_argument("--factor", type=float, default=1.3)
    parser.add_argument("--rate", type=int, default=300, help="probe rate")
    parser.add_argument("--probe-seconds", type=float, default=5)
    parser.add_argument("--takeover-visitors", type=int, default=100)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    harness.raise_fd_limit()
    harness.ensure_node_modules()
    results: dict = {"started": time.strftime("%Y-%m-%d %H:%M:%S")}
    wanted = args.only.split(",")
    if "rate" in wanted:
        results["rate"] = []
        for setup in args.setups.split(","):
            r = max_rate(setup, args.start, args.seconds, args.factor)
            results["rate"].append(r)
            print(f"rate {setup:>15}: max {r['max_rate']} msgs/s at p99 {r['p99_ms']} ms; server CPU "
                  f"{r['server_cpu_pct']} % = {r['us_per_msg']} us/msg; PostgreSQL+Redis CPU {r['service_cpu_pct']} "
                  f"% = {r['service_us_per_msg']} us/msg; failed at {r['first_failed']}/s "
                  f"(p99 {r['failed_p99_ms']} ms, server CPU {r['failed_cpu_pct']} %)", flush=True)
    if "probe" in wanted:
        results["probe"] = []
        for setup in args.probe_setups.split(","):
            r = probe(setup, args.rate, args.probe_seconds)
            results["probe"].append(r)
            print(f"probe {setup:>15}: idle: server CPU {r['idle_server_cpu_pct']} %, services "
                  f"{r['idle_service_cpu_pct']} %; {r['rate']} msgs/s: server CPU {r['server_cpu_pct']} % = "
                  f"{r['us_per_msg']} us/msg ({r['marginal_us_per_msg']} us/msg above idle); services (PostgreSQL "
                  f"backends, redis-server, nginx) {r['service_cpu_pct']} % = {r['service_us_per_msg']} us/msg "
                  f"({r['marginal_service_us_per_msg']} above idle); delivery p50/p99 {r['p50_ms']}/{r['p99_ms']} "
                  f"ms; lost {r['lost']}; errors {r['errors']}", flush=True)
    if "takeover" in wanted:
        r = takeover(args.takeover_visitors)
        results["takeover"] = r
        print(f"takeover: {r['resumed']}/{r['visitors']} visitors resumed on the survivor "
              f"({r['same_conversation_assigned']} with their conversation, still assigned); kill to resumed "
              f"session p50 {r['takeover_ms']['p50']} / p99 {r['takeover_ms']['p99']} / max "
              f"{r['takeover_ms']['max']} ms; drop noticed p50 {r['noticed_drop_ms']['p50']} / p99 "
              f"{r['noticed_drop_ms']['p99']} ms; errors {r['errors']}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
