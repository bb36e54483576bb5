"""A logged-in browser-like HTTP client for the admin pages: session cookie, CSRF token read from the page."""
from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import aiohttp
import pytest

from .server import ADMIN_EMAIL, ADMIN_PASSWORD, ROOT

def copy_kb(tmp_path: Path) -> Path:
    """A private copy of the sample articles: tests never write into the repository's kb_articles/."""
    folder = tmp_path / "kb"
    shutil.copytree(ROOT / "kb_articles", folder)
    return folder


def field_error(page: str, name: str) -> str | None:
    """The inline error shown under a form field, as text."""
    found = re.search(rf'<p class="ad-field-error" id="{name}-error">(.*?)</p>', page, re.S)
    return html.unescape(found.group(1)) if found else None


class AdminClient:
    def __init__(self, url: str, http: aiohttp.ClientSession):
        self.url = url
        self.http = http
        self._csrf: str | None = None

    @classmethod
    async def login(cls, server, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD) -> "AdminClient":
        # unsafe=True: the test server is addressed by IP, whose cookies aiohttp ignores by default.
        http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        async with http.post(server.url + "/login", data={"email": email, "password": password, "next": "/"},
                             allow_redirects=False) as resp:
            assert resp.status == 302, await resp.text()
        return cls(server.url, http)

    async def close(self) -> None:
        await self.http.close()

    async def get(self, path: str, **kwargs) -> tuple[int, str, dict]:
        async with self.http.get(self.url + path, allow_redirects=False, **kwargs) as resp:
            return resp.status, await resp.text(), resp.headers

    async def csrf(self) -> str:
        if self._csrf is None:
            _, page, _ = await self.get("/account/password")      # any signed-in page carries the token
            found = re.search(r'name="csrf_token" value="([^"]*)"', page)
            assert found, page[:500]
            self._csrf = found.group(1)
        return self._csrf

    async def post_form(self, path: str, fields: dict | list, with_csrf: bool = True) -> tuple[int, str, dict]:
        data = list(fields.items()) if isinstance(fields, dict) else list(fields)
        if with_csrf:
            data.append(("csrf_token", await self.csrf()))
        async with self.http.post(self.url + path, data=data, allow_redirects=False) as resp:
            return resp.status, await resp.text(), resp.headers

    async def call(self, method: str, path: str, body: object = None, with_csrf: bool = True) -> tuple[int, dict]:
        headers = {"Accept": "application/json"}
        if with_csrf:
            headers["X-CSRF-Token"] = await self.csrf()
        async with self.http.request(method, self.url + path, json=body, headers=headers,
                                     allow_redirects=False) as resp:
            return resp.status, await resp.json(content_type=None)


@pytest.fixture
async def admin(server):
    """An admin signed in over HTTP (the test's `server`)."""
    client = await AdminClient.login(server)
    yield client
    await client.close()


@pytest.fixture
async def kb_desk(server_factory, tmp_path):
    """(server, signed-in admin, the server's private copy of the article folder)."""
    folder = copy_kb(tmp_path)
    server = await server_factory(kb_dir=folder)
    admin = await AdminClient.login(server)
    yield server, admin, folder
    await admin.close()


def form_of(article, **changes) -> dict:
    """The editor's form fields for an article as the knowledge base holds it, with some changed."""
    fields = {"title": article.title, "slug": article.slug, "department": article.department or "",
              "tags": ", ".join(article.tags), "questions": "\r\n".join(article.questions), "body": article.body}
    if article.published:
        fields["published"] = "on"
    fields.update(changes)
    return {k: v for k, v in fields.items() if v is not None}


def snapshot(folder) -> dict:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
