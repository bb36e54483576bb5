"""`python run.py` with the tunings of chatserver/tuning.py switched on or off one by one, to measure each.
Same flags and CHAT_* environment as run.py, plus:

    BENCH_TUNING=""            run.py as it was before the tuning: permessage-deflate accepted, gc.freeze() only
    BENCH_TUNING="deflate"     + refuse permessage-deflate
    BENCH_TUNING="gc"          + tune_gc (freeze and raised thresholds)
    BENCH_TUNING="deflate,gc"  the same as run.py now
"""
from __future__ import annotations

import gc
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str]) -> None:
    import chatserver.app
    import run
    from chatserver import tuning

    wanted = {t.strip() for t in os.environ.get("BENCH_TUNING", "").split(",") if t.strip()}
    if "deflate" not in wanted:
        chatserver.app.disable_websocket_compression = lambda sio: None
    if "gc" not in wanted:
        def freeze_only():
            gc.collect()
            gc.freeze()
        run.tune_gc = freeze_only
    else:
        run.tune_gc = tuning.tune_gc
    run.main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
