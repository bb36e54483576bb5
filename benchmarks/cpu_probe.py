"""Server CPU at one fixed message rate, product against the bare baseline: a steadier figure than the max-rate
search on a shared machine (it does not depend on where a p99 spike happens to stop the search).

    python benchmarks/cpu_probe.py [--rate 3000] [--seconds 10] [--visitors 100] [--agents 10] [--runs 2]
                                   [--kinds baseline,product,stock-loops]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402


def probe(kind: str, rate: int, seconds: float, visitors: int, agents: int) -> dict:
    server, tokens = harness.start_server(kind, agents=agents, max_chats=visitors // agents + 1)
    try:
        lines = harness.run_loadgen({"url": server.url, "mode": kind, "visitors": visitors, "agentTokens": tokens,
                                     "serverPid": server.pid, "connectConcurrency": 50,
                                     "steps": [{"rate": rate, "seconds": seconds}], "closedSeconds": 0},
                                    timeout=seconds + 120)
    finally:
        server.stop()
        server.remove_files()
    return next(line for line in lines if line["type"] == "step")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--visitors", type=int, default=100)
    parser.add_argument("--agents", type=int, default=10)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--kinds", default="baseline,product", help="server kinds, in order (benchmarks/harness.py)")
    args = parser.parse_args(argv)
    harness.raise_fd_limit()
    for run in range(args.runs):
        kinds = args.kinds.split(",")
        for kind in kinds if run % 2 == 0 else kinds[::-1]:  # ABBA: a machine getting busier weighs on all alike
            step = probe(kind, args.rate, args.seconds, args.visitors, args.agents)
            d = step["delivery_ms"]
            print(f"run {run + 1} {kind:>11}: {args.rate} msgs/s, V={args.visitors}: server CPU "
                  f"{step['server_cpu_pct']} %, delivery p50 {d['p50']} / p99 {d['p99']} ms, lost {step['lost']}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
