"""`python run.py` with the proposed tunings of chatserver/tuning.py switched on, to measure them before they
are wired into run.py / create_app. Same flags and CHAT_* environment as run.py, plus:

    BENCH_TUNING=deflate,gc   (comma-separated: deflate = refuse permessage-deflate, gc = tune_gc thresholds)
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main(argv: list[str]) -> None:
    import chatserver
    import run
    from chatserver import keys, tuning

    wanted = {t.strip() for t in os.environ.get("BENCH_TUNING", "deflate,gc").split(",") if t.strip()}
    real_create_app = chatserver.create_app

    def create_tuned_app(config=None):
        app = real_create_app(config)
        if "deflate" in wanted:
            tuning.disable_websocket_compression(app[keys.SIO])
        return app

    run.create_app = create_tuned_app
    if "gc" in wanted:
        import gc

        real_freeze = gc.freeze

        def freeze_and_raise_thresholds():  # run.py calls gc.freeze() right before serving
            real_freeze()
            gc.set_threshold(*tuning.GC_THRESHOLDS)

        run.gc.freeze = freeze_and_raise_thresholds
    run.main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
