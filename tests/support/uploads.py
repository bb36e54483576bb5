"""Attachments as a client sends and fetches them: a real PNG, the widget's upload request, a GET with the visitor
token, and the files the server keeps under its data dir."""
from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import quote

import aiohttp
from PIL import Image

from chatserver import keys


def png(width=800, height=600, colour=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format="PNG")
    return out.getvalue()


async def upload(server, token, data, client_id="f1", name="photo.png", origin=None):
    headers = {"Authorization": f"Bearer {token}", "X-Client-Id": client_id, "X-File-Name": quote(name),
               "Content-Type": "application/octet-stream"}
    if origin:
        headers["Origin"] = origin
    async with aiohttp.ClientSession() as http:
        async with http.post(server.url + "/widget/attachments", data=data, headers=headers) as resp:
            return resp.status, await resp.json(), resp.headers


async def fetch(server, path, token=None, cookie_jar=None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + path, headers=headers, allow_redirects=False) as resp:
            return resp.status, await resp.read(), resp.headers


def stored_files(server) -> list[Path]:
    root = Path(server.app[keys.CONFIG].data_dir) / "attachments"
    return sorted(p for p in root.rglob("*") if p.is_file())


