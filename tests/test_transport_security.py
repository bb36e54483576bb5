"""Responses and the connection they travel on (chatserver/security/transport_security.py): Secure cookies and HSTS over TLS
(the server's own, a trusted proxy's X-Forwarded-Proto, or an https CHAT_PUBLIC_URL), never from an untrusted
header; private pages never cached; no library version in `Server:`."""
from __future__ import annotations

import ssl
import subprocess
from dataclasses import replace

import aiohttp
from aiohttp import web

from chatserver import Config, create_app
from chatserver.security.login_guard import DEVICE_COOKIE

from support.admin_client import AdminClient
from support.server import ADMIN_EMAIL, ADMIN_PASSWORD, free_port, on_test_database
from test_chat_journey import FIXTURE_KB

QUIET = {"kb_dir": FIXTURE_KB, "kb_encoder": False}


async def login_answer(url: str, headers: dict | None = None, ssl_context=None) -> aiohttp.ClientResponse:
    async with aiohttp.ClientSession() as http:
        async with http.post(url + "/login", data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
                             headers=headers or {}, allow_redirects=False, ssl=ssl_context) as resp:
            await resp.read()
            return resp


def assert_over_tls(resp: aiohttp.ClientResponse) -> None:
    assert resp.status == 302
    for cookie in ("chat_session", DEVICE_COOKIE):
        assert resp.cookies[cookie]["secure"], resp.headers.getall("Set-Cookie")
        assert resp.cookies[cookie]["httponly"]
    assert resp.headers["Strict-Transport-Security"] == "max-age=31536000"


def assert_plain_http(resp: aiohttp.ClientResponse) -> None:
    assert resp.status == 302
    assert not resp.cookies["chat_session"]["secure"]
    assert "Strict-Transport-Security" not in resp.headers


async def test_a_trusted_proxys_https_makes_cookies_secure_and_sends_hsts(server_factory):
    server = await server_factory(trusted_proxies=["127.0.0.1"], **QUIET)
    assert_over_tls(await login_answer(server.url, {"X-Forwarded-Proto": "https"}))
    # The value the nearest proxy set is the last one.
    assert_over_tls(await login_answer(server.url, {"X-Forwarded-Proto": "http, https"}))
    assert_plain_http(await login_answer(server.url, {"X-Forwarded-Proto": "https, http"}))
    assert_plain_http(await login_answer(server.url))
    async with aiohttp.ClientSession() as http:
        for path in ("/healthz", "/widget.js", "/login", "/no-such-page"):
            async with http.get(server.url + path, headers={"X-Forwarded-Proto": "https"}) as resp:
                assert resp.headers["Strict-Transport-Security"] == "max-age=31536000", path


async def test_a_forwarded_proto_from_anyone_else_changes_nothing(server_factory):
    server = await server_factory(**QUIET)
    assert_plain_http(await login_answer(server.url, {"X-Forwarded-Proto": "https"}))


async def test_an_https_public_url_makes_cookies_secure(server_factory):
    server = await server_factory(public_url="https://chat.example.com", **QUIET)
    assert_over_tls(await login_answer(server.url, {"Origin": "https://chat.example.com"}))


async def test_the_servers_own_tls_makes_cookies_secure_and_sends_hsts(tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1"], check=True, capture_output=True)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    port = free_port()
    config = on_test_database(replace(Config(), host="127.0.0.1", port=port, data_dir=tmp_path / "data",
                                      admin_password=ADMIN_PASSWORD, **QUIET))
    runner = web.AppRunner(create_app(config), handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", port, ssl_context=context).start()
        client_context = ssl.create_default_context(cafile=str(cert))
        client_context.check_hostname = False
        assert_over_tls(await login_answer(f"https://127.0.0.1:{port}", ssl_context=client_context))
    finally:
        await runner.cleanup()


async def test_private_pages_are_never_cached(server_factory):
    server = await server_factory(**QUIET)
    admin = await AdminClient.login(server)
    try:
        for path in ("/admin/reports", "/api/reports/speed", "/api/reports/speed.csv", "/admin/settings", "/console",
                     "/account/password"):
            status, _, headers = await admin.get(path)
            assert status == 200, path
            assert headers["Cache-Control"] == "no-store", path
        # Public assets keep their own caching.
        _, _, headers = await admin.get("/widget.js")
        assert headers["Cache-Control"].startswith("public")
    finally:
        await admin.close()


async def test_no_response_names_the_library_or_its_version(server_factory):
    server = await server_factory(**QUIET)
    async with aiohttp.ClientSession() as http:
        for method, path in (("GET", "/healthz"), ("GET", "/login"), ("GET", "/static/app.css"),
                             ("GET", "/no-such-page"), ("POST", "/logout"),
                             ("GET", "/socket.io/?EIO=4&transport=polling"), ("GET", "/socket.io/?EIO=3")):
            async with http.request(method, server.url + path, allow_redirects=False) as resp:
                assert resp.headers["Server"] == "chatserver", (path, resp.headers.get("Server"))
        async with http.ws_connect(server.url + "/socket.io/?EIO=4&transport=websocket") as ws:
            assert ws._response.headers["Server"] == "chatserver"
