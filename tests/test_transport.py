"""The transport (chatserver/transport/): its tunings keep the behaviour they replace, and it refuses to start on
untested library releases (real server, real clients)."""
from __future__ import annotations

import asyncio
import importlib.metadata
import re
import tomllib

import pytest

from chatserver import Config, create_app, keys
from chatserver.transport import UnsupportedLibraryVersion, check_library_versions
from chatserver.transport.inline_send import InlineSendManager
from chatserver.transport.versions import TESTED, specifier
from chatserver.transport.websocket import LeanWebSocket
from support.server import FIXTURE_KB, ROOT, Recorder



async def test_inline_sends_reach_one_and_many_recipients_and_skip_the_sender(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB)
    assert isinstance(server.app[keys.SIO].manager, InlineSendManager)
    first_tab = await server.visitor()
    token = first_tab.of("session")[0]["visitor_token"]
    second_tab = await server.visitor(token=token)
    third_tab = await server.visitor(token=token)
    ack = await first_tab.call("message", {"client_id": "m1", "text": "Where is my parcel?"})
    assert ack["ok"], ack
    # Two other tabs: the manager's own path (several recipients); each gets it once, the sender none.
    for tab in (second_tab, third_tab):
        await tab.wait_for("message", lambda m: m.get("client_id") == "m1")
    # The bot's answer goes to all three tabs.
    for tab in (first_tab, second_tab, third_tab):
        await tab.wait_for("message", lambda m: m["author"] == "bot")
    await asyncio.sleep(0.2)
    assert [len([m for m in t.of("message") if m.get("client_id") == "m1"]) for t in (first_tab, second_tab, third_tab)] \
        == [0, 1, 1]


async def test_a_failing_inline_send_does_not_fail_the_acked_message(server_factory):
    """Like python-socketio's send tasks, a send that fails is logged; the message was committed and is acked."""
    server = await server_factory(kb_dir=FIXTURE_KB)
    await server.create_agent("dana@example.com", "Dana")
    agent = await server.agent("dana@example.com")
    visitor = await server.visitor()
    first = await visitor.call("message", {"client_id": "m1", "text": "I need a person"})
    await visitor.call("request_agent", {})
    await agent.wait_for("assigned", lambda a: a["conversation"]["id"] == first["conversation_id"])

    sio = server.app[keys.SIO]
    real_send = sio._send_eio_packet

    async def broken_send(eio_sid, pkt):
        raise ConnectionResetError("simulated send failure")

    sio._send_eio_packet = broken_send
    try:
        ack = await visitor.call("message", {"client_id": "m2", "text": "Still there?"})
    finally:
        sio._send_eio_packet = real_send
    assert ack["ok"] and ack["seq"] > first["seq"], ack
    # Nothing was lost: the agent resyncs it.
    synced = await agent.call("sync", {"conversation_id": ack["conversation_id"], "after_seq": first["seq"]})
    assert "m2" in [m.get("client_id") for m in synced["messages"]]


async def test_lean_websocket_loops_serve_upgrades_and_end_oversized_connections_alone(server_factory):
    """serve_websocket replaces python-engineio's read/write loops: a client that starts on long-polling and
    upgrades (as browsers do) is served by it too, a frame over the size limit ends only that connection, and a
    client that leaves is disconnected server-side (the writer ends with the reader)."""
    server = await server_factory(kb_dir=FIXTURE_KB, max_http_buffer_size=4096)
    eio = server.app[keys.SIO].eio
    assert eio._async["websocket"] is LeanWebSocket and LeanWebSocket.lean_loops

    upgraded = Recorder("/visitor")
    await upgraded.sio.connect(server.url, namespaces=["/visitor"], transports=["polling", "websocket"],
                               wait_timeout=5)
    await upgraded.wait_for("session")
    for _ in range(50):  # the upgrade to WebSocket follows the polling handshake
        if upgraded.sio.eio.current_transport == "websocket":
            break
        await asyncio.sleep(0.05)
    assert upgraded.sio.eio.current_transport == "websocket"
    ack = await upgraded.call("message", {"client_id": "u1", "text": "Where is my parcel?"})
    assert ack["ok"] and ack["seq"] >= 1, ack
    await upgraded.wait_for("message", lambda m: m["author"] == "bot")

    bystander = await server.visitor()
    oversized = await server.visitor()
    disconnected = asyncio.Event()
    oversized.sio.on("disconnect", lambda *args: disconnected.set(), namespace="/visitor")
    await oversized.emit("message", {"client_id": "big", "text": "x" * 8000})
    await asyncio.wait_for(disconnected.wait(), 5)
    ack = await bystander.call("message", {"client_id": "b1", "text": "Still here?"})
    assert ack["ok"], ack

    sockets_before = len(eio.sockets)
    await upgraded.disconnect()
    for _ in range(50):
        if len([s for s in eio.sockets.values() if not s.closed]) < sockets_before:
            break
        await asyncio.sleep(0.05)
    assert len([s for s in eio.sockets.values() if not s.closed]) < sockets_before


async def test_frames_of_any_size_reach_a_client_in_the_order_sent(server_factory):
    """The lean writer loop sends every queued packet, small or larger than a TCP buffer, in order."""
    server = await server_factory(kb_dir=FIXTURE_KB)
    visitor = await server.visitor()
    sio = server.app[keys.SIO]
    sid = visitor.sio.get_sid("/visitor")
    sizes = [10, 40_000, 20, 30, 70_000, 5, 17_000, 1]
    for n, size in enumerate(sizes):
        await sio.emit("probe", {"n": n, "fill": "x" * size}, to=sid, namespace="/visitor")
    for n in range(len(sizes)):
        await visitor.wait_for("probe", lambda p, n=n: p["n"] == n)
    assert [(p["n"], len(p["fill"])) for p in visitor.of("probe")] == list(enumerate(sizes))


def test_the_transport_refuses_library_releases_outside_the_tested_range_and_says_what_to_install():
    check_library_versions()  # what is installed now is tested
    check_library_versions({"python-socketio": "5.12.0", "python-engineio": "4.13.2"})
    check_library_versions({"python-socketio": "5.18.9", "python-engineio": "4.15.9"})
    for name, version in [("python-socketio", "5.19.0"), ("python-socketio", "5.11.6"), ("python-socketio", "6.0.0"),
                          ("python-engineio", "4.16.0rc1"), ("python-engineio", "4.13.1"), ("python-engineio", "5.0")]:
        installed = {"python-socketio": "5.18.1", "python-engineio": "4.15.1", name: version}
        with pytest.raises(UnsupportedLibraryVersion) as refused:
            check_library_versions(installed)
        message = str(refused.value)
        assert f"{name} {version} is installed" in message and f"pip install '{name}{specifier(name)}'" in message


def test_pyproject_pins_both_libraries_to_the_tested_range():
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for name in TESTED:
        pinned = [d for d in dependencies if re.match(rf"{name}\b", d)]
        assert pinned == [f"{name}{specifier(name)}"], (name, pinned)


def test_the_server_does_not_start_on_an_untested_release(tmp_path, monkeypatch):
    """create_app (start-up) fails with the message, before it serves anything."""
    real_version = importlib.metadata.version
    monkeypatch.setattr(importlib.metadata, "version",
                        lambda name: "5.99.0" if name == "python-socketio" else real_version(name))
    with pytest.raises(UnsupportedLibraryVersion, match="python-socketio 5.99.0 is installed"):
        create_app(Config(data_dir=tmp_path / "data", kb_encoder=False))
