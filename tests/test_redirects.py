"""After login the browser goes only to a path on this server (chatserver/security/redirects.py), whatever `next` says: over
HTTP for the tricks browsers fall for, and in Chromium for the probe's `/%09/evil.example`."""
from __future__ import annotations

from urllib.parse import quote

import aiohttp
import pytest

from chatserver.security.redirects import same_site_path

from support.server import ADMIN_EMAIL, ADMIN_PASSWORD
from support.browser import sign_in
from test_chat_journey import FIXTURE_KB

QUIET = {"kb_dir": FIXTURE_KB, "kb_encoder": False}
HOSTILE = ["/\t/evil.example", "/\n/evil.example", "/\\evil.example", "\\/evil.example", "//evil.example",
           "///evil.example", "https://evil.example/", "http:evil.example", "javascript:alert(1)", " /console",
           "/\x00", "", None, 12]
FINE = ["/console", "/admin/kb/track-order?x=1&y=2", "/admin/reports?from=2025-01-01", "/%09/not-a-host",
        "/%2F%2Fstill-a-path"]


@pytest.mark.parametrize("target", HOSTILE)
def test_anything_but_a_plain_path_falls_back_to_the_console(target):
    assert same_site_path(target) == "/console"


@pytest.mark.parametrize("target", FINE)
def test_plain_paths_are_kept(target):
    assert same_site_path(target) == target


async def test_the_login_redirect_never_leaves_the_site(server_factory):
    server = await server_factory(**QUIET)
    async with aiohttp.ClientSession() as http:
        for target in [t for t in HOSTILE if isinstance(t, str)] + FINE:
            async with http.post(server.url + "/login", allow_redirects=False,
                                 data={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD, "next": target}) as resp:
                assert resp.status == 302
                assert resp.headers["Location"] == (target if target in FINE else "/console"), repr(target)
            # The login page carries only a safe `next` into its form.
            async with http.get(server.url + "/login?next=" + quote(target, safe="")) as resp:
                page = await resp.text()
            expected = target.replace("&", "&amp;") if target in FINE else "/console"
            assert f'name="next" value="{expected}"' in page, repr(target)


async def test_chromium_signs_in_from_the_probes_link_and_stays_on_the_site(server_factory, browser):
    server = await server_factory(**QUIET)
    context = await browser.new_context()
    page = await context.new_page()
    page.set_default_timeout(10_000)
    await page.goto(server.url + "/login?next=/%09/evil.example")
    await sign_in(page)
    await page.wait_for_load_state()
    assert page.url == server.url + "/console", page.url
    await context.close()
