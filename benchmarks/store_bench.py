"""The store's cost per visitor message: CPU of the SQLite writer thread per `add_visitor_message`, written as the
server writes them (100 visitors, group commit), on a temp database.

    python benchmarks/store_bench.py [--rounds 80] [--runs 3]
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from chatserver.store import Store  # noqa: E402
from chatserver.store import conversations as conv_queries  # noqa: E402
from chatserver.store import visitors as visitor_queries  # noqa: E402

VISITORS = 100


async def writer_cpu_per_message(rounds: int) -> tuple[float, float]:
    """(writer-thread CPU µs per message, messages per batch)."""
    with tempfile.TemporaryDirectory() as folder:
        store = Store(Path(folder) / "chat.db")
        await store.start()
        spent = [0.0]
        run_batch = store._run_batch

        def timed(*args):
            started = time.thread_time()
            try:
                return run_batch(*args)
            finally:
                spent[0] += time.thread_time() - started

        store._run_batch = timed
        try:
            for v in range(VISITORS):
                await store.write(visitor_queries.get_or_create_visitor, f"v{v}", time.time(), "127.0.0.1", "bench", None)
                await store.write(conv_queries.add_visitor_message, f"v{v}", f"c{v}-0", "hello", time.time(), "queued")
            spent[0], batches, count = 0.0, store.batches, 0
            for n in range(1, rounds + 1):
                await asyncio.gather(*(store.write(conv_queries.add_visitor_message, f"v{v}", f"c{v}-{n}",
                                                   "Where is my parcel, please?", time.time(), "queued")
                                       for v in range(VISITORS)))
                count += VISITORS
            return spent[0] / count * 1e6, count / (store.batches - batches)
        finally:
            await store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=80)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    figures = []
    for run in range(args.runs):
        micros, per_batch = asyncio.run(writer_cpu_per_message(args.rounds))
        figures.append(micros)
        print(f"run {run + 1}: writer thread CPU {micros:.1f} µs per visitor message ({per_batch:.0f} per batch)",
              flush=True)
    print(f"median: {statistics.median(figures):.1f} µs per message")
    return 0


if __name__ == "__main__":
    sys.exit(main())
