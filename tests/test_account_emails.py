"""Issue 16, defect 12: "Forgot your password?" by email and invitations by email, through the real outbox to a real
SMTP server (aiosmtpd). The emailed link sets a password once; a second use fails; an unknown (or disabled)
address gets no email and the same page; requests are limited per address typed and per client; with email off
the page says to ask an admin; an admin's new agent gets an invitation email instead of a one-time password."""
from __future__ import annotations

import asyncio
import re

import aiohttp
import pytest

from chatserver.store import agents as agent_queries
from chatserver.store import outbox as outbox_queries

from support.admin_client import AdminClient
from support.smtp_server import SmtpServer

FROM = "support@shop.example"


@pytest.fixture
def mail(tmp_path):
    server = SmtpServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
async def emailing(server_factory, mail):
    return await server_factory(smtp_url=mail.url(), email_from=FROM)


async def post_form(server, path: str, fields: dict) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http:
        async with http.post(server.url + path, data=fields, allow_redirects=False) as resp:
            return resp.status, await resp.text()


async def get(server, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http:
        async with http.get(server.url + path, allow_redirects=False) as resp:
            return resp.status, await resp.text()


async def login_status(server, email: str, password: str) -> int:
    async with aiohttp.ClientSession() as http:
        async with http.post(server.url + "/login", json={"email": email, "password": password}) as resp:
            return resp.status


def link_in(received, server) -> str:
    found = re.search(r"(http://\S+/account/reset/[\w-]+)", received.part("text/plain"))
    assert found, received.part("text/plain")
    assert found.group(1).startswith(server.url + "/account/reset/")
    assert found.group(1) in received.part("text/html")
    return found.group(1)[len(server.url):]


async def stored_raw(server, message_id: str):
    def read(db):
        return db.execute("SELECT status, raw FROM email_outbox WHERE message_id = ?", [message_id]).fetchone()
    for _ in range(200):
        row = await server.store.read(read)
        if row["status"] == "sent":
            return row["raw"]
        await asyncio.sleep(0.05)
    raise AssertionError(f"{message_id} not sent")


async def test_emailed_reset_link_sets_the_password_once(emailing, mail):
    server = emailing
    await server.create_agent("dana@shop.example", "Dana", password="old-password-1")
    status, page = await get(server, "/login")
    assert status == 200 and 'href="/account/forgot"' in page
    status, page = await post_form(server, "/account/forgot", {"email": " Dana@Shop.example "})
    assert status == 200 and 'id="forgot-sent"' in page, page

    [received] = await mail.wait_for(1)
    assert received.rcpt_tos == ["dana@shop.example"] and received.mail_from == FROM
    assert received.message["Subject"] == f"Reset your password for {server.url}"
    assert "If you did not ask, ignore this email" in received.part("text/plain")
    path = link_in(received, server)
    assert await stored_raw(server, received.message_id) is None     # the link is not kept once it was sent
    [hash_only] = await server.store.read(
        lambda db: [r[0] for r in db.execute("SELECT token_hash FROM password_resets")])
    assert path.rsplit("/", 1)[1] not in hash_only

    status, page = await get(server, path)
    assert status == 200 and "For Dana (dana@shop.example)" in page
    async with aiohttp.ClientSession() as http:
        async with http.post(server.url + path, data={"new_password": "new-password-2",
                                                      "repeat_password": "new-password-2"},
                             allow_redirects=False) as resp:
            assert resp.status == 303 and resp.headers["Location"] == "/login?reset=1"
    assert await login_status(server, "dana@shop.example", "new-password-2") == 200
    assert await login_status(server, "dana@shop.example", "old-password-1") == 401

    status, page = await get(server, path)                          # a second use fails
    assert status == 404 and "no longer valid" in page
    status, page = await post_form(server, path, {"new_password": "third-password-3",
                                                  "repeat_password": "third-password-3"})
    assert status == 404 and "no longer valid" in page
    assert await login_status(server, "dana@shop.example", "third-password-3") == 401


async def test_unknown_or_disabled_address_sends_nothing_and_answers_the_same_page(emailing, mail):
    server = emailing
    dana = await server.create_agent("dana@shop.example", "Dana")
    await server.create_agent("gone@shop.example", "Gone")
    gone = [a for a in await server.store.read(agent_queries.list_agents) if a["email"] == "gone@shop.example"][0]
    await server.store.write(agent_queries.update_agent, gone["id"], disabled=True)

    pages = {}
    for address in ("nobody@shop.example", "gone@shop.example", "dana@shop.example"):
        status, page = await post_form(server, "/account/forgot", {"email": address})
        assert status == 200, page
        pages[address] = page.replace(address, "ADDRESS")
    assert pages["nobody@shop.example"] == pages["dana@shop.example"] == pages["gone@shop.example"]

    [received] = await mail.wait_for(1)
    assert received.rcpt_tos == [dana["email"]]
    await asyncio.sleep(1.5)                # the worker's next runs find nothing else to send
    assert len(mail.received) == 1
    assert await server.store.read(outbox_queries.counts) == {"sent": 1}


async def test_reset_emails_are_limited_per_address_and_per_client(emailing, mail):
    server = emailing
    for _ in range(3):
        status, _ = await post_form(server, "/account/forgot", {"email": "dana@shop.example"})
        assert status == 200
    status, page = await post_form(server, "/account/forgot", {"email": "dana@shop.example"})
    assert status == 429 and "Too many reset emails" in page
    for i in range(6):                      # the client's 5th to 10th requests of the hour
        status, _ = await post_form(server, "/account/forgot", {"email": f"someone{i}@shop.example"})
        assert status == 200
    status, page = await post_form(server, "/account/forgot", {"email": "other@shop.example"})
    assert status == 429 and "Too many reset emails" in page
    status, page = await post_form(server, "/account/forgot", {"email": "not an address"})
    assert status == 400 and "enter an email address" in page


async def test_invalid_address_is_refused_with_the_form_again(emailing):
    status, page = await post_form(emailing, "/account/forgot", {"email": "not an address"})
    assert status == 400 and 'id="forgot-error"' in page and 'name="email"' in page


async def test_with_email_off_the_page_says_to_ask_an_admin(server):
    status, page = await get(server, "/login")
    assert 'href="/account/forgot"' not in page and "Ask an admin of this desk for a reset link" in page
    status, page = await get(server, "/account/forgot")
    assert status == 200 and 'id="forgot-off"' in page and "<form" not in page.split("</main>")[0].split("<main")[1]
    status, page = await post_form(server, "/account/forgot", {"email": "admin@localhost"})
    assert status == 409 and 'id="forgot-off"' in page
    assert await server.store.read(outbox_queries.counts) == {}


async def test_invitation_email_lets_the_new_agent_choose_a_password(emailing, mail):
    server = emailing
    admin = await AdminClient.login(server)
    try:
        _, page, _ = await admin.get("/admin/agents")
        assert "email them an invitation" in page
        status, page, _ = await admin.post_form("/admin/agents", {"name": "Fox Mulder", "email": "Fox@shop.example",
                                                                  "role": "agent", "max_chats": "3", "password": ""})
        assert status == 200, page[:500]
        assert 'id="invitation-sent"' in page and "fox@shop.example" in page
        assert 'id="new-password"' not in page                  # no one-time password to hand over
        status, answer = await admin.call("POST", "/api/admin/agents", {"name": "Sam", "email": "sam@shop.example",
                                                                        "role": "agent", "max_chats": 2,
                                                                        "departments": []})
        assert status == 201 and "password" not in answer
        assert answer["invitation"]["recipient"] == "sam@shop.example"
    finally:
        await admin.close()

    received = {r.rcpt_tos[0]: r for r in await mail.wait_for(2)}
    fox = received["fox@shop.example"]
    assert fox.message["Subject"] == f"You are invited to the support desk at {server.url}"
    assert "Admin created an agent account for you (fox@shop.example)" in fox.part("text/plain")
    path = link_in(fox, server)
    status, page = await get(server, path)
    assert status == 200 and "For Fox Mulder" in page
    status, _ = await post_form(server, path, {"new_password": "fox-chose-this-1",
                                               "repeat_password": "fox-chose-this-1"})
    assert status == 303
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.post(server.url + "/login", data={"email": "fox@shop.example", "password": "fox-chose-this-1",
                                                          "next": "/console"}, allow_redirects=False) as resp:
            assert resp.status == 302
        async with http.get(server.url + "/console", allow_redirects=False) as resp:
            assert resp.status == 200          # no "choose your own password" detour: they chose it already
    status, _ = await get(server, path)
    assert status == 404
    assert await stored_raw(server, fox.message_id) is None
