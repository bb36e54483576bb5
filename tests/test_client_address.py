"""Client addresses: X-Forwarded-For only from CHAT_TRUSTED_PROXIES, one helper for HTTP and sockets; and the cap
on Engine.IO connections one address holds (chatserver/security/client_address.py, chatserver/transport/connection_cap.py)."""
from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
import socketio

from chatserver import keys
from chatserver.security.client_address import TrustedProxies, limit_key, resolve, stored_network

from support.server import Recorder
from test_chat_journey import FIXTURE_KB

PROXY = ["127.0.0.1"]


def test_the_address_is_read_from_the_right_skipping_trusted_proxies_only():
    trusted = TrustedProxies(["127.0.0.1", "10.0.0.0/8"])
    assert resolve("127.0.0.1", ["203.0.113.7"], trusted) == "203.0.113.7"
    # A client that writes the header itself: the proxy appends the real address, which wins.
    assert resolve("127.0.0.1", ["6.6.6.6, 203.0.113.7"], trusted) == "203.0.113.7"
    # Two trusted hops (a load balancer in 10/8 before the local proxy), header split over two lines.
    assert resolve("127.0.0.1", ["198.51.100.1, 203.0.113.7", "10.1.2.3"], trusted) == "203.0.113.7"
    # Not from a trusted proxy: the header is the client's own word and ignored.
    assert resolve("192.0.2.50", ["203.0.113.7"], trusted) == "192.0.2.50"
    assert resolve("127.0.0.1", [], trusted) == "127.0.0.1"
    assert resolve("127.0.0.1", ["not-an-address"], trusted) == "127.0.0.1"
    assert resolve("::ffff:127.0.0.1", ["[2001:db8::5]"], trusted) == "2001:db8::5"
    assert resolve("127.0.0.1", ["203.0.113.7"], TrustedProxies([])) == "127.0.0.1"
    with pytest.raises(ValueError, match="CHAT_TRUSTED_PROXIES"):
        TrustedProxies(["10.0.0.0/33"])


def test_limits_count_an_ipv6_subscriber_as_one_and_storage_keeps_only_the_network():
    assert limit_key("2001:db8:1:2:aaaa::1") == limit_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert limit_key("203.0.113.7") == "203.0.113.7"
    assert stored_network("203.0.113.7") == "203.0.113.0/24"
    assert stored_network("2001:db8:1:2:aaaa::1") == "2001:db8:1::/48"
    assert stored_network("unknown") is None


async def connect_visitor(server, forwarded_for: str) -> Recorder:
    client = Recorder("/visitor")
    await client.connect(server.url, auth={}, headers={"X-Forwarded-For": forwarded_for})
    server.clients.append(client)
    return client


async def test_behind_a_trusted_proxy_each_visitor_has_their_own_new_visitor_limit(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB, kb_encoder=False, trusted_proxies=PROXY,
                                  new_visitors_per_minute_per_ip=2)
    for _ in range(2):
        await (await connect_visitor(server, "203.0.113.10")).wait_for("session")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect_visitor(server, "203.0.113.10")
    # Another visitor behind the same proxy is not refused for the first one's visits.
    await (await connect_visitor(server, "198.51.100.20")).wait_for("session")


async def test_without_trusted_proxies_a_forwarded_for_header_changes_nothing(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB, kb_encoder=False, new_visitors_per_minute_per_ip=2)
    for n in range(2):
        await (await connect_visitor(server, f"203.0.113.{n}")).wait_for("session")
    with pytest.raises(socketio.exceptions.ConnectionError):
        await connect_visitor(server, "203.0.113.99")


async def login(http, url, address, password="wrong-password-1"):
    async with http.post(url + "/login", json={"email": "dana@shop.example", "password": password},
                         headers={"X-Forwarded-For": address}) as resp:
        return resp.status


async def test_behind_a_trusted_proxy_one_persons_typos_throttle_only_them(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB, kb_encoder=False, trusted_proxies=PROXY)
    await server.create_agent("dana@shop.example", "Dana")
    async with aiohttp.ClientSession() as http:
        assert [await login(http, server.url, "203.0.113.10") for _ in range(5)] == [401] * 5
        assert await login(http, server.url, "203.0.113.10") == 429
        # Dana at her own desk (another address behind the same proxy) is not throttled by them.
        assert await login(http, server.url, "198.51.100.20", "agent-password-1") == 200


# -- the Engine.IO connection cap ---------------------------------------------------------------------------

async def handshake(http, url, forwarded_for: str | None = None) -> tuple[int, dict]:
    """A bare Engine.IO long-polling handshake: a connection that joins no namespace."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    async with http.get(url + "/socket.io/?EIO=4&transport=polling", headers=headers) as resp:
        body = await resp.text()
    return resp.status, json.loads(body[1:] if resp.status == 200 else body)


async def test_one_address_cannot_hold_more_than_its_share_of_engineio_connections(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB, kb_encoder=False)
    async with aiohttp.ClientSession() as http:
        # The attack probe's burst: 120 bare connections at once from one address (the default cap is 100).
        answers = await asyncio.gather(*(handshake(http, server.url) for _ in range(120)))
    statuses = [status for status, _ in answers]
    print(f"\n120 bare Engine.IO handshakes from one address: {statuses.count(200)} accepted, "
          f"{statuses.count(401)} refused")
    assert statuses.count(200) == 100 and statuses.count(401) == 20
    refused = next(body for status, body in answers if status == 401)
    assert refused["error"] == "too_many_connections"
    assert len(server.app[keys.SIO].eio.sockets) == 100


async def test_the_cap_counts_per_client_address_and_frees_a_place_when_a_connection_closes(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB, kb_encoder=False, trusted_proxies=PROXY,
                                  max_sockets_per_address=3)
    async with aiohttp.ClientSession() as http:
        opened = [await handshake(http, server.url, "203.0.113.10") for _ in range(3)]
        assert [status for status, _ in opened] == [200] * 3
        status, body = await handshake(http, server.url, "203.0.113.10")
        assert (status, body["error"]) == (401, "too_many_connections")
        # The WebSocket transport is capped the same way.
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(server.url + "/socket.io/?EIO=4&transport=websocket",
                                  headers={"X-Forwarded-For": "203.0.113.10"})
        assert refused.value.status == 401
        # Another visitor behind the same proxy has places of their own.
        assert (await handshake(http, server.url, "198.51.100.20"))[0] == 200
        # A Socket.IO visitor from the full address is refused too; closing one connection frees a place.
        with pytest.raises(socketio.exceptions.ConnectionError):
            await connect_visitor(server, "203.0.113.10")
        sid = opened[0][1]["sid"]
        async with http.post(server.url + f"/socket.io/?EIO=4&transport=polling&sid={sid}", data="1") as resp:
            assert resp.status == 200
        await (await connect_visitor(server, "203.0.113.10")).wait_for("session")

