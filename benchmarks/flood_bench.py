"""Floods from one visitor, with the product's DEFAULT limits (10 messages per 10 s, 30 new visitors per address
per minute): 25 normal visitors from 127.0.0.1 chat with 2 agents at 20 msgs/s in total (8 per visitor per 10 s, under the limit); then one abuser on
127.0.0.2 sends 3,000 messages without waiting, reconnects 200 times with its token and asks for 200 new visitor
tokens, while the normal visitors keep chatting. Prints how the abuse was answered and the normal visitors'
delivery latency before and during the flood (target: p99 within 2x of normal), and what was lost (nothing).

    python benchmarks/flood_bench.py [--json]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    harness.raise_fd_limit()
    env = {"CHAT_RATE_LIMIT_MESSAGES": "10", "CHAT_NEW_VISITORS_PER_MINUTE_PER_IP": "30"}
    server, tokens = harness.start_server("product", agents=2, max_chats=13, env=env)
    try:
        lines = harness.run_loadgen({"url": server.url, "visitors": 25, "agentTokens": tokens,
                                     "serverPid": server.pid, "connectConcurrency": 10, "warmupSeconds": 0.5,
                                     "flood": {"rate": 20, "seconds": 8}}, timeout=180)
    finally:
        server.stop()
        server.remove_files()
    result = next(line for line in lines if line["type"] == "flood")
    phases = [line for line in lines if line["type"] == "flood_phase"]
    if args.json:
        print(json.dumps({"flood": result, "phases": phases}))
        return 0
    for phase in phases:
        d = phase["delivery_ms"]
        print(f"normal visitors, {phase['phase']:>12}: delivery p50 {d['p50']} ms, p95 {d['p95']} ms, p99 {d['p99']} ms, "
              f"max {d['max']} ms, lost {phase['lost']}, errors {phase['errors']}")
    abuse = result["abuse"]
    print(f"abuser: 3000 messages -> {abuse['messages']}")
    print(f"abuser: 200 reconnects with one token -> {abuse['reconnects']}")
    print(f"abuser: 200 new visitor tokens -> {abuse['new_tokens']}")
    ratio = (result["flood_p99_ms"] or 0) / max(result["normal_p99_ms"] or 1, 1)
    print(f"p99 during the flood / normal p99 (floor 1 ms) = {ratio:.2f}x (target <= 2x); "
          f"normal visitors' messages lost: {result['normal_lost']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
