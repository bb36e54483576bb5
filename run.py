"""Start the support server: `python run.py` serves on 127.0.0.1:8080 with its data under ./data."""
from __future__ import annotations

import gc
import logging
import sys

from aiohttp import web

from chatserver import create_app, load_config
from chatserver.cluster.node import ClusterMisconfigured
from chatserver.transport import UnsupportedLibraryVersion
from chatserver.security.transport_security import hide_server_software

# Collect generation 0 after this many net allocations (CPython's default is 700 in 3.11).
GC_THRESHOLDS = (50_000, 20, 100)


def tune_gc(thresholds: tuple[int, int, int] = GC_THRESHOLDS) -> None:
    """Freeze everything alive at start-up (templates, the KB index, modules) out of the collector's reach and raise
    the generation-0 threshold, so full collections (which walk every live object, i.e. every connection's state)
    run far less often: those were the p99 spikes at 1,000 visitors (docs/performance.md). Call once, before
    serving."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*thresholds)


def main(argv: list[str] | None = None) -> None:
    config, args = load_config(argv)
    logging.basicConfig(level=config.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    try:
        import uvloop  # optional, faster event loop
    except ImportError:
        uvloop = None
    if args.copy_to:
        from chatserver.store.copy import CopyRefused, copy_to_postgres
        try:
            report = copy_to_postgres(config.db_path, args.copy_to, secret_file=config.data_dir / "secret.key")
        except CopyRefused as exc:
            sys.exit(f"Copy to PostgreSQL refused: {exc}")
        print("\n".join(report.lines()), flush=True)
        return
    if args.demo_data:
        from chatserver.demo_data import fill_demo_data
        fill_demo_data(config)
    try:
        app = create_app(config)
    except (UnsupportedLibraryVersion, ClusterMisconfigured) as exc:
        sys.exit(str(exc))
    hide_server_software()

    async def announce(app):
        base = config.base_url
        print(f"Support server running on {base}\n"
              f"  Agent console: {base}/console\n"
              f"  Widget demo:   {base}/widget/demo\n"
              f"  Admin:         {base}/admin", flush=True)

    app.on_startup.append(announce)
    # Start-up objects (templates, KB index, modules) never die: keep the collector from rescanning them.
    tune_gc()
    web.run_app(app, host=config.host, port=config.port, print=None, access_log=None,
                loop=uvloop.new_event_loop() if uvloop else None)


if __name__ == "__main__":
    main(sys.argv[1:])
