"""State-changing requests from another site's page are refused (chatserver/security/cross_site.py): login CSRF included,
over HTTP with the headers browsers send and in Chromium from a page on another origin."""
from __future__ import annotations

import json

import aiohttp

from chatserver import keys

from support.admin_client import AdminClient
from support.server import ADMIN_EMAIL, ADMIN_PASSWORD
from test_chat_journey import FIXTURE_KB

QUIET = {"kb_dir": FIXTURE_KB, "kb_encoder": False}
CREDENTIALS = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}


async def post_login(url: str, headers: dict) -> tuple[int, dict, aiohttp.ClientResponse]:
    async with aiohttp.ClientSession() as http:
        async with http.post(url + "/login", data=CREDENTIALS, headers=headers, allow_redirects=False) as resp:
            body = await resp.json() if resp.content_type == "application/json" else {}
            return resp.status, body, resp


async def test_a_login_posted_from_another_site_sets_no_cookie(server_factory):
    server = await server_factory(**QUIET)
    for headers in ({"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
                    {"Origin": "https://evil.example"},                  # a browser without Fetch Metadata
                    {"Sec-Fetch-Site": "cross-site"},
                    {"Sec-Fetch-Site": "same-site", "Origin": "https://other.127.0.0.1.example"},
                    {"Origin": "null"}):                                 # a sandboxed frame or a data: page
        status, body, resp = await post_login(server.url, headers)
        assert (status, body.get("error")) == (403, "cross_site_request"), headers
        assert "Set-Cookie" not in resp.headers, headers
    # The login form on this server's own page, and clients that are not browsers, sign in as before.
    status, _, resp = await post_login(server.url, {"Origin": server.url, "Sec-Fetch-Site": "same-origin"})
    assert status == 302 and "chat_session" in resp.cookies
    assert (await post_login(server.url, {}))[0] == 302


async def test_admin_forms_posted_from_another_site_change_nothing_even_with_a_session(server_factory):
    server = await server_factory(**QUIET)
    admin = await AdminClient.login(server)
    try:
        token = await admin.csrf()
        async with admin.http.post(server.url + "/admin/settings", allow_redirects=False,
                                   data={"widget_greeting": "hijacked", "widget_colour": "#000000",
                                         "allowed_origins": "*", "business_hours": "x", "csrf_token": token},
                                   headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}) as resp:
            assert resp.status == 403 and (await resp.json())["error"] == "cross_site_request"
        assert server.app[keys.SETTINGS].get("allowed_origins") == []
        async with admin.http.post(server.url + "/logout", allow_redirects=False,
                                   headers={"Sec-Fetch-Site": "cross-site"}) as resp:
            assert resp.status == 403
        status, _, _ = await admin.get("/admin/settings")
        assert status == 200                                     # still signed in
    finally:
        await admin.close()


async def test_the_widgets_long_polling_posts_from_an_allowed_site_pass(server_factory):
    server = await server_factory(allowed_origins=["https://shop.example.com"], **QUIET)
    cross = {"Origin": "https://shop.example.com", "Sec-Fetch-Site": "cross-site"}
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + "/socket.io/?EIO=4&transport=polling", headers=cross) as resp:
            sid = json.loads((await resp.text())[1:])["sid"]
        async with http.post(server.url + f"/socket.io/?EIO=4&transport=polling&sid={sid}", data="40/visitor,{}",
                             headers=cross) as resp:
            assert resp.status == 200


async def test_chromium_on_another_site_cannot_sign_a_visitor_in(server_factory, host_site, browser):  # noqa: F811
    server = await server_factory(**QUIET)
    page_url = await host_site(f"""<!doctype html><title>Win a prize</title>
<form id="f" method="post" action="{server.url}/login">
  <input name="email" value="{ADMIN_EMAIL}"><input name="password" value="{ADMIN_PASSWORD}">
</form><script>document.getElementById("f").submit();</script>""")
    context = await browser.new_context()
    page = await context.new_page()
    async with page.expect_response(lambda r: r.url == server.url + "/login") as answer:
        await page.goto(page_url)
    assert (await answer.value).status == 403
    assert "cross_site_request" in await page.content()
    assert [c["name"] for c in await context.cookies(server.url)] == []
    await context.close()
