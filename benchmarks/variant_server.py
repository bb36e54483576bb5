"""`python run.py` with the tunings of chatserver/tuning.py switched on or off one by one, to measure each.
Same flags and CHAT_* environment as run.py, plus:

    BENCH_TUNING=""            run.py as it was before the tuning: permessage-deflate accepted, gc.freeze() only
    BENCH_TUNING="deflate"     + refuse permessage-deflate
    BENCH_TUNING="gc"          + tune_gc (freeze and raised thresholds)
    BENCH_TUNING="deflate,gc"  the same as run.py now
    BENCH_TUNING="deflate,gc,checkpoint"  + WAL checkpoints moved off the writer thread (a proposed store change:
                               wal_autocheckpoint=0 on the writer, PASSIVE checkpoints every 0.5 s from another
                               connection, so a checkpoint's fsync never stalls the group commit)
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
    if "checkpoint" in wanted:
        _checkpoint_off_the_writer()
    run.main(argv)


def _checkpoint_off_the_writer() -> None:
    import sqlite3
    import threading
    import time

    import chatserver.store as store_module

    real_connect = store_module._connect

    def connect(path, read_only=False):
        db = real_connect(path, read_only)
        if not read_only:
            db.conn.execute("PRAGMA wal_autocheckpoint = 0")
        return db

    store_module._connect = connect
    real_start = store_module.Store.start

    async def start(self):
        await real_start(self)

        def checkpoint_loop():
            conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 5000")
            while self._writer is not None:
                time.sleep(0.5)
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error:
                    pass
            conn.close()

        threading.Thread(target=checkpoint_loop, name="sqlite-checkpoint", daemon=True).start()

    store_module.Store.start = start


if __name__ == "__main__":
    main(sys.argv[1:])
