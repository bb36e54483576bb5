"""`python run.py` with its tunings (chatserver/transport/websocket.py, run.tune_gc) switched on or off one by one.
Same flags and CHAT_* environment as run.py, plus:

    BENCH_TUNING=""                        run.py before the tuning: permessage-deflate accepted, gc.freeze() only
    BENCH_TUNING="deflate"                 + refuse permessage-deflate (engineio's own WebSocket loops)
    BENCH_TUNING="deflate,lean"            + the lean WebSocket read and write loops
    BENCH_TUNING="gc"                      + tune_gc (freeze and raised thresholds)
    BENCH_TUNING="deflate,lean,gc"         the same as run.py now
    BENCH_SWITCH_INTERVAL=0.0005           sys.setswitchinterval (an experiment: docs/performance.md)
"""
from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str]) -> None:
    import run
    from chatserver.transport.websocket import LeanWebSocket

    wanted = {t.strip() for t in os.environ.get("BENCH_TUNING", "").split(",") if t.strip()}
    LeanWebSocket.compress = "deflate" not in wanted
    LeanWebSocket.lean_loops = "lean" in wanted
    if os.environ.get("BENCH_SWITCH_INTERVAL"):
        sys.setswitchinterval(float(os.environ["BENCH_SWITCH_INTERVAL"]))
    if "gc" not in wanted:
        def freeze_only():
            gc.collect()
            gc.freeze()
        run.tune_gc = freeze_only
    run.main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
