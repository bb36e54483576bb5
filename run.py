"""Start the support server: `python run.py` serves on 127.0.0.1:8080 with its data under ./data."""
from __future__ import annotations

import logging
import sys

from aiohttp import web

from chatserver import create_app, load_config
from chatserver.transport_security import hide_server_software
from chatserver.tuning import tune_gc


def main(argv: list[str] | None = None) -> None:
    config, args = load_config(argv)
    logging.basicConfig(level=config.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    try:
        import uvloop  # optional, faster event loop
    except ImportError:
        uvloop = None
    if args.demo_data:
        from chatserver.demo_data import fill_demo_data
        fill_demo_data(config)
    app = create_app(config)
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
