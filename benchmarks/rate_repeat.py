"""The V=100 (or V=1,000) max-rate comparison repeated, product against the bare baseline, in ABBA order so that a
machine getting busier or quieter during the run weighs on both alike; a finer search step than run_all.py's 1.3x.
Prints each pair's ratio and the median: one run of run_all.py is one sample of a noisy figure.

    python benchmarks/rate_repeat.py [--pairs 3] [--visitors 100] [--factor 1.15] [--seconds 3]
                                     [--against baseline]   (or another server kind of benchmarks/harness.py)
"""
from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402
from run_all import throughput  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--visitors", type=int, default=100, choices=(100, 1000))
    parser.add_argument("--factor", type=float, default=1.15, help="search step (run_all.py uses 1.3)")
    parser.add_argument("--seconds", type=float, default=3, help="seconds per search step")
    parser.add_argument("--against", default="baseline", help="the server kind the product is compared with")
    args = parser.parse_args(argv)
    harness.raise_fd_limit()
    harness.ensure_node_modules()
    agents, start = (10, 2000) if args.visitors == 100 else (50, 1000)
    ratios, closed_ratios = [], []
    for pair in range(args.pairs):
        order = (args.against, "product") if pair % 2 == 0 else ("product", args.against)
        found = {}
        for kind in order:
            found[kind] = throughput(kind, args.visitors, agents, start, args.seconds, light=False,
                                     closed_seconds=args.seconds if args.visitors == 100 else 0,
                                     factor=args.factor)
        base, prod = found[args.against], found["product"]
        ratio = prod["max_rate"] / base["max_rate"] if base["max_rate"] else float("nan")
        ratios.append(ratio)
        line = (f"pair {pair + 1} ({' then '.join(order)}): V={args.visitors} max msgs/s at p99<50ms "
                f"{args.against} {base['max_rate']}, product {prod['max_rate']}: {ratio:.2f}x")
        if "closed" in base and "closed" in prod:
            closed = prod["closed"]["throughput"] / base["closed"]["throughput"]
            closed_ratios.append(closed)
            line += (f"; closed loop {base['closed']['throughput']} vs {prod['closed']['throughput']}/s: "
                     f"{closed:.2f}x")
        print(line, flush=True)
        for kind in order:
            at_max = found[kind]["at_max"] or {}
            failed = [s for s in found[kind]["steps"] if s.get("rate") == found[kind]["first_failed"]]
            why = (f"failed {found[kind]['first_failed']}/s: p99 {failed[-1]['delivery_ms']['p99']} ms, "
                   f"CPU {failed[-1]['server_cpu_pct']} %" if failed else "no failing step")
            print(f"    {kind}: at {found[kind]['max_rate']}/s p99 {(at_max.get('delivery_ms') or {}).get('p99')} ms, "
                  f"CPU {at_max.get('server_cpu_pct')} %; {why}", flush=True)
    print(f"median open-loop ratio over {len(ratios)} pairs: {statistics.median(ratios):.2f}x "
          f"(min {min(ratios):.2f}x, max {max(ratios):.2f}x)")
    if closed_ratios:
        print(f"median closed-loop ratio: {statistics.median(closed_ratios):.2f}x "
              f"(min {min(closed_ratios):.2f}x, max {max(closed_ratios):.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
