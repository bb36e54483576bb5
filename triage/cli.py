"""Command line: `python -m triage suggest --kb DIR "question"`, `python -m triage eval --kb DIR --queries F` and
`python -m triage calibrate --kb DIR` (the threshold the KB calls for, and why).

Both use the sentence encoder unless --no-encoder is given; its vectors are cached in --cache-dir (default: a
folder in the system's temporary directory), so only the first run on a knowledge base pays for embedding it.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from .encoder import SentenceEncoder
from .kb import KnowledgeBase

DEFAULT_CACHE_DIR = Path(tempfile.gettempdir()) / "triage-sentence-vectors"


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def _load(args) -> KnowledgeBase:
    encoder = None if args.no_encoder else SentenceEncoder.load
    kb = KnowledgeBase.load(args.kb, encoder=encoder, cache_dir=args.cache_dir)
    for error in kb.errors:
        print(f"warning: {error.path}: {error.reason}", file=sys.stderr)
    kb.embed_now()          # a one-shot command waits for the vectors (from the cache after the first run)
    status = kb.embedding_status()
    if status.get("error"):
        print(f"warning: matching without the sentence encoder: {status['error']}", file=sys.stderr)
    kb.calibrate_now()      # the threshold the server would choose for this KB
    return kb


def cmd_calibrate(args) -> int:
    kb = _load(args)
    status = kb.threshold_status()
    result = status["calibration"]
    if args.json:
        print(json.dumps(status))
    elif result is None:
        print(f"threshold {kb.threshold:.3f} (default): the knowledge base has no published example question")
    else:
        print(f"threshold {result['threshold']:.3f}")
        print(result["reason"])
        print(f"kept {result['kept']:.1%}, right first answer kept {result['right_first_kept']:.1%}, "
              f"unanswerable declined {result['unanswerable_declined']:.1%} "
              f"(at the fixed 0.30: {result['kept_at_fixed']:.1%}, {result['right_first_kept_at_fixed']:.1%}, "
              f"{result['unanswerable_declined_at_fixed']:.1%}); {result['seconds']:.2f} s")
    kb.close()
    return 0


def cmd_suggest(args) -> int:
    kb = _load(args)
    if args.search:
        found = kb.search(args.question, limit=args.limit)
    else:
        found = kb.suggest(args.question, limit=args.limit, threshold=args.threshold)
    if args.json:
        print(json.dumps([s.to_dict() for s in found], ensure_ascii=False))
        return 0
    if not found:
        print("no confident suggestion (threshold %.2f)" % (kb.threshold if args.threshold is None else args.threshold))
        return 0
    for rank, s in enumerate(found, start=1):
        print(f"{rank}. {s.title}  [{s.slug}]  score {s.score:.3f}  department {s.department or '-'}")
        print(f"   {s.explanation['reason']}")
    return 0


def evaluate(kb: KnowledgeBase, queries: list[dict]) -> dict:
    """Top-1 / top-3 accuracy (no threshold: is the expected article ranked first / among three) and latency."""
    top1 = top3 = 0
    latencies = []
    for q in queries:
        start = time.perf_counter()
        found = kb.suggest(q["query"], limit=3, threshold=0.0)
        latencies.append((time.perf_counter() - start) * 1000)
        slugs = [s.slug for s in found]
        top1 += slugs[:1] == [q["expected"]]
        top3 += q["expected"] in slugs
    n = len(queries)
    return {"n": n, "top1": round(top1 / n, 4) if n else 0.0, "top3": round(top3 / n, 4) if n else 0.0,
            "p50_ms": round(percentile(latencies, 50), 3) if n else 0.0,
            "p99_ms": round(percentile(latencies, 99), 3) if n else 0.0,
            "articles": len(kb.articles), "load_errors": len(kb.errors)}


def cmd_eval(args) -> int:
    kb = _load(args)
    with open(args.queries, encoding="utf-8") as fh:
        queries = [json.loads(line) for line in fh if line.strip()]
    result = evaluate(kb, queries)
    print(f"{result['n']} queries against {result['articles']} articles")
    print(json.dumps(result))
    return 0


def _encoder_options(parser) -> None:
    parser.add_argument("--no-encoder", action="store_true", help="match on words and word vectors only")
    parser.add_argument("--cache-dir", type=Path, default=DEFAULT_CACHE_DIR,
                        help=f"sentence-vector cache (default {DEFAULT_CACHE_DIR})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m triage", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("suggest", help="print the ranked suggestions for one question, with explanations")
    p.add_argument("--kb", required=True, help="folder of Markdown articles")
    p.add_argument("--limit", type=int, default=3)
    p.add_argument("--threshold", type=float, default=None, help="confidence threshold (default: the KB's)")
    p.add_argument("--search", action="store_true", help="agent search: no threshold, body text counts")
    p.add_argument("--json", action="store_true", help="print the suggestions as JSON")
    p.add_argument("question")
    _encoder_options(p)
    p.set_defaults(func=cmd_suggest)
    p = sub.add_parser("eval", help="top-1/top-3 accuracy and latency over a JSONL file of {query, expected}")
    p.add_argument("--kb", required=True, help="folder of Markdown articles")
    p.add_argument("--queries", required=True, help="JSONL file, one {\"query\": ..., \"expected\": slug} a line")
    _encoder_options(p)
    p.set_defaults(func=cmd_eval)
    p = sub.add_parser("calibrate", help="choose the confidence threshold from the KB's own example questions")
    p.add_argument("--kb", required=True, help="folder of Markdown articles")
    p.add_argument("--json", action="store_true", help="print the calibration as JSON")
    _encoder_options(p)
    p.set_defaults(func=cmd_calibrate)
    args = parser.parse_args(argv)
    return args.func(args)
