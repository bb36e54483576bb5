"""Attachments over real HTTP and sockets: type and size checked by content (a renamed executable, SVG and HTML
refused), stored once per client_id (a retried upload is not doubled), served only to the conversation's visitor
and agents with nosniff, Content-Disposition and a CSP that runs nothing, thumbnails for images."""
from __future__ import annotations

import io

import aiohttp
from PIL import Image

from support.server import FIXTURE_KB
from support.uploads import fetch, png, stored_files, upload

EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 200
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'
HTML = b"<!doctype html><html><body><script>alert(3)</script></body></html>"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


async def chat_with_agent(server):
    await server.create_agent("ana@example.com", "Ana")
    ana = await server.agent("ana@example.com")
    visitor = await server.visitor()
    await visitor.call("message", {"client_id": "m1", "text": "I have a photo of the damage"})
    await visitor.call("request_agent", {})
    assigned = await ana.wait_for("assigned")
    token = visitor.of("session")[0]["visitor_token"]
    return visitor, token, ana, assigned["conversation"]["id"]


async def test_a_visitors_image_reaches_the_agent_with_a_thumbnail_and_is_served_safely(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB)
    visitor, token, ana, cid = await chat_with_agent(server)
    image = png()
    status, ack, _ = await upload(server, token, image, name="../../etc/Schaden 1.png")
    assert status == 201 and ack["ok"] and not ack["duplicate"], ack
    attachment = ack["attachment"]
    assert attachment["name"] == "Schaden 1.png" and attachment["type"] == "image/png"
    assert (attachment["width"], attachment["height"], attachment["thumbnail"]) == (800, 600, True)
    message = await ana.wait_for("message", lambda m: m.get("kind") == "attachment")
    assert message["payload"]["attachment"] == attachment and message["author"] == "visitor"
    assert message["conversation_id"] == cid and message["text"] == "Schaden 1.png"

    status, body, headers = await fetch(server, f"/widget/attachments/{attachment['id']}", token=token)
    assert status == 200 and body == image
    assert headers["Content-Type"] == "image/png" and headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Content-Disposition"].startswith("inline;") and "Schaden%201.png" in headers["Content-Disposition"]
    assert "sandbox" in headers["Content-Security-Policy"] and "default-src 'none'" in headers["Content-Security-Policy"]
    status, thumb, headers = await fetch(server, f"/widget/attachments/{attachment['id']}/thumbnail", token=token)
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(thumb)).size == (320, 240)
    # The agent holding the chat reads it with their login.
    agent_token = await server.login("ana@example.com", "agent-password-1")
    status, body, _ = await fetch(server, f"/attachments/{attachment['id']}", token=agent_token)
    assert status == 200 and body == image
    # A PDF is a download.
    status, ack, _ = await upload(server, token, PDF, client_id="f2", name="invoice.pdf")
    assert status == 201 and ack["attachment"]["type"] == "application/pdf" and not ack["attachment"]["thumbnail"]
    status, body, headers = await fetch(server, f"/widget/attachments/{ack['attachment']['id']}", token=token)
    assert status == 200 and headers["Content-Disposition"].startswith("attachment;")
    # The history keeps it after a reload.
    history = await visitor.call("sync", {"after_seq": 0})
    assert [m["payload"]["attachment"]["name"] for m in history["messages"] if m["kind"] == "attachment"] == \
        ["Schaden 1.png", "invoice.pdf"]


async def test_type_and_size_are_read_from_the_bytes(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB, attachment_max_bytes=50_000)
    visitor, token, ana, cid = await chat_with_agent(server)
    refusals = [(EXE, "holiday.png", 415, "attachment_type_not_allowed"),      # a renamed executable
                (b"\x7fELF\x02\x01\x01" + b"\x00" * 100, "cat.jpg", 415, "attachment_type_not_allowed"),
                (SVG, "logo.svg", 415, "attachment_type_not_allowed"),
                (HTML, "page.png", 415, "attachment_type_not_allowed"),
                (png()[:40], "broken.png", 415, "attachment_unreadable"),         # starts like a PNG, is not one
                (b"", "empty.png", 400, "attachment_empty"),
                (png(1500, 1500, (1, 2, 3)) + b"\x00" * 60_000, "big.png", 413, "attachment_too_large")]
    for n, (data, name, status_wanted, code) in enumerate(refusals):
        status, body, _ = await upload(server, token, data, client_id=f"bad{n}", name=name)
        assert (status, body["error"]) == (status_wanted, code), (name, body)
    assert stored_files(server) == []
    assert await server.store.read(lambda db: db.execute("SELECT count(*) FROM attachments").fetchone()[0]) == 0
    # Bad requests: no token, a forged one, no client id.
    assert (await upload(server, "v1.forged.token", png(10, 10)))[0] == 401
    status, body, _ = await upload(server, token, png(10, 10), client_id="not a valid id!")
    assert (status, body["error"]) == (400, "invalid_payload")


async def test_a_retried_upload_is_stored_once(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB)
    visitor, token, ana, cid = await chat_with_agent(server)
    image = png(40, 40)
    first = await upload(server, token, image, client_id="up-1")
    again = await upload(server, token, image, client_id="up-1")
    assert first[0] == 201 and again[0] == 200 and again[1]["duplicate"] is True
    assert again[1]["id"] == first[1]["id"] and again[1]["attachment"] == first[1]["attachment"]
    assert len(stored_files(server)) == 2           # the file and its thumbnail, once
    rows = await server.store.read(lambda db: db.execute("SELECT count(*) FROM attachments").fetchone()[0])
    assert rows == 1
    messages = (await visitor.call("sync", {"after_seq": 0}))["messages"]
    assert sum(1 for m in messages if m["kind"] == "attachment") == 1


async def test_nobody_else_can_fetch_it(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB)
    visitor, token, ana, cid = await chat_with_agent(server)
    status, ack, _ = await upload(server, token, png(20, 20))
    attachment_id = ack["attachment"]["id"]
    other = await server.visitor()
    other_token = other.of("session")[0]["visitor_token"]
    for path in (f"/widget/attachments/{attachment_id}", f"/widget/attachments/{attachment_id}/thumbnail"):
        status, body, _ = await fetch(server, path, token=other_token)
        assert status == 404 and b"PNG" not in body
        assert (await fetch(server, path))[0] == 401
    await server.create_agent("ben@example.com", "Ben")
    ben_token = await server.login("ben@example.com", "agent-password-1")
    status, body, _ = await fetch(server, f"/attachments/{attachment_id}", token=ben_token)
    assert status == 404 and b"PNG" not in body
    status, _, headers = await fetch(server, f"/attachments/{attachment_id}")
    assert status == 302 and headers["Location"].startswith("/login")
    assert (await fetch(server, "/widget/attachments/abc", token=token))[0] == 400


async def test_cors_only_for_allowed_sites(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB, allowed_origins=["https://shop.example.com"])
    visitor, token, ana, cid = await chat_with_agent(server)
    status, _, headers = await upload(server, token, png(8, 8), client_id="c1", origin="https://shop.example.com")
    assert status == 201 and headers["Access-Control-Allow-Origin"] == "https://shop.example.com"
    status, _, headers = await upload(server, token, png(8, 8), client_id="c2", origin="https://evil.example.net")
    assert "Access-Control-Allow-Origin" not in headers
    async with aiohttp.ClientSession() as http:
        async with http.options(server.url + "/widget/attachments", headers={
                "Origin": "https://shop.example.com", "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, x-client-id, x-file-name"}) as resp:
            assert resp.status == 204 and "X-Client-Id" in resp.headers["Access-Control-Allow-Headers"]


async def test_an_agents_file_reaches_the_visitor(server_factory):
    server = await server_factory(kb_dir=FIXTURE_KB)
    visitor, token, ana, cid = await chat_with_agent(server)
    agent_token = await server.login("ana@example.com", "agent-password-1")
    headers = {"Authorization": f"Bearer {agent_token}", "X-Client-Id": "a-1", "X-File-Name": "label.pdf"}
    async with aiohttp.ClientSession() as http:
        url = f"{server.url}/api/console/conversations/{cid}/attachments"
        async with http.post(url, data=PDF, headers=headers) as resp:
            ack = await resp.json()
            assert resp.status == 201, ack
        async with http.post(url, data=PDF, headers=headers) as resp:
            assert resp.status == 200 and (await resp.json())["duplicate"] is True
        async with http.post(url, data=EXE, headers={**headers, "X-Client-Id": "a-2"}) as resp:
            assert resp.status == 415
        async with http.post(f"{server.url}/api/console/conversations/999/attachments", data=PDF,
                             headers={**headers, "X-Client-Id": "a-3"}) as resp:
            assert resp.status == 404
    message = await visitor.wait_for("message", lambda m: m.get("kind") == "attachment")
    assert message["author"] == "agent" and message["payload"]["attachment"]["name"] == "label.pdf"
    status, body, _ = await fetch(server, f"/widget/attachments/{message['payload']['attachment']['id']}", token=token)
    assert status == 200 and body == PDF
    rows = await server.store.read(lambda db: db.execute("SELECT count(*) FROM attachments").fetchone()[0])
    assert rows == 1
