"""Who is on the other end: the client's address for limits, and what of it may be stored.

Every place that needs a client's address (HTTP views, socket connects, the Engine.IO connection cap) asks this
module, never `request.remote` or `REMOTE_ADDR`: behind a reverse proxy those name the proxy, so every visitor
would share one new-visitor limit and one person's typos would throttle a login for everyone.

`X-Forwarded-For` is believed only when the connection comes from a proxy listed in `CHAT_TRUSTED_PROXIES`
(addresses or networks). The header is read from the right, hop by hop, skipping trusted proxies: the first
address that is not a trusted proxy is the client. Anything a client writes further left is ignored, so a client
cannot choose its own address by sending the header itself.
"""
from __future__ import annotations

import ipaddress
from typing import Iterable

from aiohttp import web

from .. import keys

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

UNKNOWN = "unknown"
# What is stored of a visitor's address: the network around it, not the address itself (docs/operations.md).
STORED_PREFIX = {4: 24, 6: 48}
# One IPv6 subscriber usually gets a whole /64, so per-address limits count the /64 (an IPv4 address is itself).
LIMIT_PREFIX = {4: 32, 6: 64}


class TrustedProxies:
    """The proxies whose forwarding headers are believed."""

    def __init__(self, entries: Iterable[str]):
        networks: list[Network] = []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                raise ValueError(f"CHAT_TRUSTED_PROXIES: {entry!r} is not an address or network "
                                 "(e.g. 127.0.0.1 or 10.0.0.0/8)") from None
        self.networks = networks

    def __contains__(self, address: Address | None) -> bool:
        return address is not None and any(address in network for network in self.networks)


TRUSTED_PROXIES = web.AppKey("trusted_proxies", TrustedProxies)


def setup(app: web.Application) -> None:
    """Parse CHAT_TRUSTED_PROXIES once, at start-up, so a typo stops the server instead of being ignored."""
    app[TRUSTED_PROXIES] = TrustedProxies(app[keys.CONFIG].trusted_proxies)


def parse(text: str | None) -> Address | None:
    """An address as written in a peer name or a forwarding header (IPv4-mapped IPv6 counts as IPv4)."""
    if not text:
        return None
    text = text.strip()
    if text.startswith("[") and "]" in text:      # "[2001:db8::1]:443"
        text = text[1:text.index("]")]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def resolve(peer: str | None, forwarded_for: Iterable[str], trusted: TrustedProxies) -> str:
    """The client's address, given the connection's peer and its X-Forwarded-For header values (in order)."""
    address = parse(peer)
    if address is None:
        return peer or UNKNOWN
    if address not in trusted:
        return str(address)
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    for hop in reversed(hops):
        forwarded = parse(hop)
        if forwarded is None:       # not an address: keep the last hop a trusted proxy vouched for
            break
        address = forwarded
        if address not in trusted:
            break
    return str(address)


def of_request(request: web.BaseRequest) -> str:
    """The client address of an HTTP request (or of the WebSocket / polling request of a socket)."""
    return resolve(request.remote, request.headers.getall("X-Forwarded-For", []), request.app[TRUSTED_PROXIES])


def of_environ(environ: dict) -> str:
    """The client address of a Socket.IO / Engine.IO connection, from the environ python-engineio hands over."""
    request = environ.get("aiohttp.request")
    if request is not None:
        return of_request(request)
    return environ.get("REMOTE_ADDR") or UNKNOWN


def from_trusted_proxy(request: web.BaseRequest) -> bool:
    """Whether the request came straight from a trusted proxy (so its X-Forwarded-* headers are believed)."""
    return parse(request.remote) in request.app[TRUSTED_PROXIES]


def limit_key(address: str) -> str:
    """The key per-address limits count under: the address, or its /64 for IPv6."""
    return _network(address, LIMIT_PREFIX) or address


def stored_network(address: str | None) -> str | None:
    """What is stored of a visitor's address: its /24 (IPv4) or /48 (IPv6), e.g. '203.0.113.0/24'."""
    return _network(address, STORED_PREFIX)


def _network(address: str | None, prefixes: dict[int, int]) -> str | None:
    parsed = parse(address)
    if parsed is None:
        return None
    network = ipaddress.ip_network(f"{parsed}/{prefixes[parsed.version]}", strict=False)
    return str(network) if network.prefixlen < parsed.max_prefixlen else str(parsed)
