"""Start-up time with a big knowledge base and a big database: generates a 1,000-article KB and a database of
100,000 messages (10,000 closed conversations of 10 messages, plus 50 open ones) in a temp dir, then times
`python run.py` from spawn until /healthz answers, three times.

    python benchmarks/startup_bench.py [--articles 1000] [--messages 100000] [--runs 3] [--json]

Target: under 2 s. The data is built through the store's own query functions (nothing else touches SQLite).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import harness  # noqa: E402

WORDS = ("order delivery refund return parcel invoice account password payment card voucher size colour warranty "
         "repair exchange shipping tracking address discount subscription cancel store pickup gift email login "
         "damaged missing late courier label printer battery charger screen laptop phone headphones").split()
DEPARTMENTS = ("orders", "billing", "technical", "account")


def write_kb(kb_dir: Path, count: int, rng: random.Random) -> None:
    kb_dir.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        topic = rng.sample(WORDS, 3)
        questions = [f"How do I {rng.choice(WORDS)} my {t} {i}?" for t in topic]
        body = "\n\n".join(" ".join(rng.choice(WORDS) for _ in range(40)).capitalize() + "." for _ in range(4))
        (kb_dir / f"article-{i:04d}.md").write_text(
            "---\n"
            f"title: {' '.join(topic).capitalize()} help {i}\n"
            f"department: {DEPARTMENTS[i % len(DEPARTMENTS)]}\n"
            f"tags: [{', '.join(topic)}]\n"
            "questions:\n" + "".join(f"- {q}\n" for q in questions) +
            "---\n\n" + body + "\n")


def fill_database(data_dir: Path, messages: int, rng: random.Random) -> int:
    from chatserver.store import Store
    from chatserver.store import conversations as conv
    from chatserver.store import visitors

    per_conversation = 10
    conversations = messages // per_conversation

    def chunk(db, first: int, last: int, now: float) -> int:
        stored = 0
        for c in range(first, last):
            visitor_id = f"bench{c:08x}"
            visitors.get_or_create_visitor(db, visitor_id, now, "127.0.0.1", "bench", None)
            cid = None
            for m in range(per_conversation):
                text = " ".join(rng.choice(WORDS) for _ in range(12))
                result = conv.add_visitor_message(db, visitor_id, f"c{c}-{m}", text, now + m, "bot")
                cid = result["conversation"]["id"]
                stored += 1
            if c < conversations - 50:  # the last 50 stay open, so the dispatcher has something to load
                conv.close_conversation(db, cid, "visitor", visitor_id, "resolved", "bench", now + 20)
        return stored

    async def fill() -> int:
        store = Store(data_dir / "chat.db")
        await store.start()
        try:
            now = time.time() - 86400 * 30
            total = 0
            for first in range(0, conversations, 500):
                total += await store.write(chunk, first, min(conversations, first + 500), now + first)
            return total
        finally:
            await store.close()

    return asyncio.run(fill())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON line at the end")
    args = parser.parse_args(argv)
    rng = random.Random(7)
    workdir = Path(tempfile.mkdtemp(prefix="bench-startup-"))
    try:
        t0 = time.monotonic()
        write_kb(workdir / "kb", args.articles, rng)
        data_dir = workdir / "data"
        stored = fill_database(data_dir, args.messages, rng)
        generated_in = time.monotonic() - t0
        db_mb = (data_dir / "chat.db").stat().st_size / 1e6
        print(f"generated {args.articles} articles and {stored} messages ({db_mb:.0f} MB) in {generated_in:.1f} s",
              file=sys.stderr)
        times = []
        for run in range(args.runs):
            server = harness.ServerProcess("product", harness.free_port(), data_dir,
                                           env={"CHAT_KB_DIR": str(workdir / "kb")})
            server.start(core=harness.SERVER_CORE, timeout=60)
            times.append(server.started_in)
            rss = harness.rss_kb(server.pid)
            server.stop()
            print(f"run {run + 1}: /healthz answered {server.started_in:.2f} s after spawn (RSS {rss / 1024:.0f} MB)",
                  file=sys.stderr)
        result = {"articles": args.articles, "messages": stored, "db_mb": round(db_mb, 1),
                  "seconds": [round(t, 3) for t in times], "seconds_median": round(statistics.median(times), 3),
                  "target_seconds": 2.0, "rss_mb": round(rss / 1024, 1)}
        print(json.dumps(result) if args.json else
              f"start-up: median {result['seconds_median']:.2f} s (target < 2 s) over {args.runs} runs")
        return 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
