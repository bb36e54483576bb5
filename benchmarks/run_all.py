"""Run the whole benchmark set and print one table: the product against the bare python-socketio relay
(benchmarks/baseline_server.py), measured in the same run on the same machine.

    python benchmarks/run_all.py --quick          # about 3 minutes
    python benchmarks/run_all.py                  # the full set (10,000 idle visitors, longer steps)
    python benchmarks/run_all.py --with untuned   # adds a column for run.py without its tunings
    python benchmarks/run_all.py --only idle,startup --json results.json

The server runs on core 0 and the Node load generator (official socket.io-client) on core 1 (taskset), both on
127.0.0.1. "Max rate" is the highest open-loop visitor message rate at which every message was acked and
delivered to its agent, nothing was lost, and the p99 visitor-to-agent delivery latency stayed under 50 ms.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

SCENARIOS = ("rate100", "rate1000", "idle", "startup")


def throughput(kind: str, visitors: int, agents: int, start_rate: int, step_seconds: float,
               light: bool, closed_seconds: float, factor: float = 1.3) -> dict:
    server, tokens = harness.start_server(kind, agents=agents, max_chats=visitors // agents + 1)
    try:
        options = {"url": server.url, "mode": kind, "visitors": visitors, "agentTokens": tokens,
                   "serverPid": server.pid, "connectConcurrency": 50,
                   "steps": [{"rate": 100, "seconds": max(6, step_seconds * 2)}] if light else [],
                   "search": {"start": start_rate, "factor": factor, "seconds": step_seconds, "p99LimitMs": 50,
                              "maxSteps": 30},
                   "closedSeconds": closed_seconds}
        lines = harness.run_loadgen(options, timeout=240)
    finally:
        server.stop()
        server.remove_files()
    setup = next(line for line in lines if line["type"] == "setup")
    steps = [line for line in lines if line["type"] == "step"]
    best = next(line for line in lines if line["type"] == "max")
    result = {"setup": setup, "steps": steps, "max_rate": best["rate"], "at_max": best["best"],
              "first_failed": best["first_failed"]}
    if light:
        result["light"] = steps[0]
    closed = [s for s in steps if s.get("closed")]
    if closed:
        result["closed"] = closed[0]
    return result


def idle(kind: str, visitors: int, hold_seconds: float) -> dict:
    # Fast pings so that holding a few seconds proves every client still answers them.
    env = {"CHAT_PING_INTERVAL_SECONDS": "5", "CHAT_PING_TIMEOUT_SECONDS": "5"}
    server, _ = harness.start_server(kind, env=env)
    try:
        time.sleep(1.0)
        lines = harness.run_loadgen({"url": server.url, "mode": kind, "visitors": visitors, "idle": True,
                                     "holdSeconds": hold_seconds, "serverPid": server.pid,
                                     "connectConcurrency": 200}, timeout=300)
    finally:
        server.stop()
        server.remove_files()
    out = {line["type"]: line for line in lines}
    return {"idle": out["idle"], "hold": out.get("hold")}


def startup(quick: bool) -> dict:
    cmd = [sys.executable, str(harness.BENCH / "startup_bench.py"), "--json"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr[-2000:])
    return json.loads(proc.stdout.splitlines()[-1])


def ratio(product, baseline) -> str:
    if product is None or baseline in (None, 0):
        return "-"
    return f"{product / baseline:.2f}x"


def fmt(value, unit="") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        value = f"{value:.1f}" if value < 100 else f"{value:.0f}"
    return f"{value}{unit}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter steps, 2,000 idle visitors instead of 10,000")
    parser.add_argument("--only", default=",".join(SCENARIOS), help=f"comma-separated subset of {SCENARIOS}")
    parser.add_argument("--with", dest="extra", default="", help="extra server kinds: untuned, deflate-only, gc-only, stock-loops, baseline-uvloop")
    parser.add_argument("--idle-visitors", type=int, default=None)
    parser.add_argument("--json", type=Path, help="also write every measurement to this file")
    args = parser.parse_args(argv)
    harness.raise_fd_limit()
    harness.ensure_node_modules()
    wanted = [s.strip() for s in args.only.split(",") if s.strip()]
    kinds = ["baseline", "product", *[k for k in args.extra.split(",") if k]]
    step_seconds = 3 if args.quick else 5
    idle_visitors = args.idle_visitors or (2000 if args.quick else 10000)
    results: dict = {"quick": args.quick, "kinds": kinds, "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    rows: list[list[str]] = []

    def row(name: str, metric: str, values: dict, unit: str = "", higher_is_better: bool = True):
        cells = [name, metric] + [fmt(values.get(k), unit) for k in kinds]
        cells += [ratio(values.get(k), values.get("baseline")) for k in kinds[1:]]
        rows.append(cells)

    for scenario in wanted:
        print(f"-- {scenario} ...", file=sys.stderr, flush=True)
        if scenario in ("rate100", "rate1000"):
            visitors, agents, start = (100, 10, 500) if scenario == "rate100" else (1000, 50, 250)
            light = scenario == "rate1000"
            per_kind = {k: throughput(k, visitors, agents, start, step_seconds, light,
                                      closed_seconds=step_seconds if scenario == "rate100" else 0) for k in kinds}
            results[scenario] = per_kind
            label = f"V={visitors} A={agents}"
            row(label, "max msgs/s at p99<50ms", {k: float(r["max_rate"]) for k, r in per_kind.items()})
            row(label, "  p99 delivery at max (ms)",
                {k: (r["at_max"] or {}).get("delivery_ms", {}).get("p99") for k, r in per_kind.items()})
            row(label, "  server CPU at max (%)",
                {k: (r["at_max"] or {}).get("server_cpu_pct") for k, r in per_kind.items()})
            row(label, "  connect p50 (ms)", {k: r["setup"]["connect_ms"]["p50"] for k, r in per_kind.items()})
            if light:
                for metric, key in (("100 msgs/s: p50 delivery (ms)", "p50"), ("100 msgs/s: p99 delivery (ms)", "p99"),
                                    ("100 msgs/s: max delivery (ms)", "max")):
                    row(label, metric, {k: r["light"]["delivery_ms"][key] for k, r in per_kind.items()})
                row(label, "100 msgs/s: p99 ack (ms)", {k: r["light"]["ack_ms"]["p99"] for k, r in per_kind.items()})
            if "closed" in next(iter(per_kind.values())):
                row(label, "closed loop msgs/s", {k: r["closed"]["throughput"] for k, r in per_kind.items()})
                row(label, "  closed loop p99 ack (ms)",
                    {k: r["closed"]["ack_ms"]["p99"] for k, r in per_kind.items()})
        elif scenario == "idle":
            per_kind = {k: idle(k, idle_visitors, hold_seconds=12) for k in kinds}
            results["idle"] = per_kind
            label = f"{idle_visitors} idle visitors"
            row(label, "RSS per visitor (KB)", {k: r["idle"]["per_visitor_kb"] for k, r in per_kind.items()})
            row(label, "RSS total (MB)", {k: r["idle"]["rss_after_kb"] / 1024 for k, r in per_kind.items()})
            row(label, "connect p99 (ms)", {k: r["idle"]["connect_ms"]["p99"] for k, r in per_kind.items()})
            row(label, "still connected after 12 s (5 s pings)",
                {k: (r["hold"] or {}).get("still_connected") for k, r in per_kind.items()})
            row(label, "answered an event after the hold",
                {k: (r["hold"] or {}).get("answered_event") for k, r in per_kind.items()})
            row(label, "idle CPU (%)", {k: (r["hold"] or {}).get("idle_cpu_pct") for k, r in per_kind.items()})
        elif scenario == "startup":
            result = startup(args.quick)
            results["startup"] = result
            row("start-up", f"{result['articles']} articles, {result['messages']} messages (s)",
                {"product": result["seconds_median"]})
        else:
            parser.error(f"unknown scenario {scenario}")

    header = ["scenario", "metric", *kinds, *[f"{k}/baseline" for k in kinds[1:]]]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print()
    for line in [header, ["-" * w for w in widths], *rows]:
        print("  ".join(str(c).ljust(w) if i < 2 else str(c).rjust(w) for i, (c, w) in enumerate(zip(line, widths))))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
        print(f"\nall measurements: {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
