"""The python-socketio and python-engineio releases this transport is tested with, checked at start-up.

The transport reaches into both libraries (serve_websocket reproduces `AsyncSocket._websocket_handler`,
CheckedSocket its `handle_post_request`, ChatSocketServer the dispatch of `_handle_eio_message`, InlineSendManager
the manager's emit, ChatRedisManager the pub/sub manager's `_listen` hook, `thread` and the server's
`manager_initialized`), so a release outside these ranges may change what it relies on without notice.

- python-engineio >= 4.13.2: the first release whose aiohttp WebSocket wrapper keeps its server (LeanWebSocket reads
  the frame limit from it) and whose sockets schedule one ping per cycle; `_websocket_handler`,
  `handle_post_request`, `Payload` and `Packet` are the same, for what the transport reproduces, up to 4.15.1.
  (4.12 is the first that passes the request to a callable `cors_allowed_origins`, which app.py's check needs.)
- python-socketio >= 5.12: the first release whose `_handle_disconnect` takes a `reason`; `_handle_connect`,
  `_handle_event`, `_handle_ack`, the manager's `get_participants` and `rooms` and `_send_eio_packet` keep their
  signatures from 5.12.0 to 5.18.1.
- Both lower bounds together (python-socketio 5.12.0 with python-engineio 4.13.2) and the releases installed when
  this was written (5.18.1 with 4.15.1) pass the transport, frame, journey, bad-input and live-routing tests.
- Upper bounds: the next minor release of each, not yet tested. Raise them (here and in pyproject.toml, which
  tests/test_transport.py keeps equal) after running the suite against that release.
"""
from __future__ import annotations

import re
from importlib import metadata

# distribution -> (lowest tested release, first release not tested)
TESTED = {
    "python-socketio": ("5.12.0", "5.19"),
    "python-engineio": ("4.13.2", "4.16"),
}


class UnsupportedLibraryVersion(RuntimeError):
    """python-socketio or python-engineio is installed in a release the transport is not tested with."""


def specifier(name: str) -> str:
    """The tested range of one distribution as a requirement specifier, e.g. `>=5.12.0,<5.19`."""
    low, high = TESTED[name]
    return f">={low},<{high}"


def release(version: str) -> tuple[int, int, int]:
    """`5.18.1` -> (5, 18, 1); pre-release and local parts are ignored (`5.19.0rc1` -> (5, 19, 0))."""
    match = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", version)
    if match is None:
        raise UnsupportedLibraryVersion(f"cannot read the version {version!r}")
    return int(match[1]), int(match[2]), int(match[3] or 0)


def check_library_versions(installed: dict[str, str] | None = None) -> None:
    """Raise UnsupportedLibraryVersion, saying what to install, when a library is outside its tested range.
    `installed` maps distribution names to versions (default: what is installed)."""
    for name, (low, high) in TESTED.items():
        version = installed[name] if installed is not None else metadata.version(name)
        if not release(low) <= release(version) < release(high):
            raise UnsupportedLibraryVersion(
                f"{name} {version} is installed, but the chat server's transport (chatserver/transport/) is tested "
                f"with {name}{specifier(name)} only: it relies on that library's internals. Install a tested "
                f"release: pip install '{name}{specifier(name)}'")
