"""Defect 17 of issue 16: `/favicon.ico` was a 404 on every page the browser opened (a console error each time)."""
from __future__ import annotations

import aiohttp


async def test_favicon_is_served(server):
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + "/favicon.ico") as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"] == "image/x-icon"
            body = await resp.read()
    assert body[:4] == b"\x00\x00\x01\x00" and b"PNG" in body[:40]        # an ICO holding a PNG image
