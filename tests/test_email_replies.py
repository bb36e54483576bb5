"""The conversation continues by email, end to end with real parts: a visitor chats and leaves, the agent's replies
arrive in one email (aiosmtpd) in the visitor's language, the visitor answers it through the inbound SMTP listener
and through the signed HTTP endpoint, each answer appears live in the console in order, the agent resolves, an
email reopens it, and the visitor's widget shows everything. Then the refusals: forged, expired and unknown tokens,
a spoofed sender, an auto-reply, a bounce, a replay, an oversized and a malformed email, bad signatures."""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from email.message import EmailMessage

import aiohttp
import aiosmtplib
import pytest

from chatserver import keys
from chatserver.desk.email_replies import reply_token
from chatserver.store import conversations as conv_queries
from chatserver.store import outbox as outbox_queries

from support.server import free_port
from support.smtp_server import SmtpServer

FROM = "support@shop.example"
DOMAIN = "reply.shop.example"
SECRET = "inbound-test-secret"
VISITOR_EMAIL = "eve@example.org"
HOSTILE_NAME = '<img src=x onerror="alert(1)">Eve'


@pytest.fixture
async def desk(server_factory, tmp_path):
    mail = SmtpServer(tmp_path).start()
    inbound_port = free_port()
    server = await server_factory(smtp_url=mail.url(), email_from=FROM, email_reply_domain=DOMAIN,
                                  smtp_inbound=f"127.0.0.1:{inbound_port}", email_inbound_secret=SECRET,
                                  email_reply_delay_seconds=0.6, bot_enabled=False)
    await server.create_agent("dana@shop.example", "Dana <b>")
    yield server, mail, inbound_port
    mail.stop()


def reply_email(to: str, text: str, *, sender: str = VISITOR_EMAIL, message_id: str, in_reply_to: str | None = None,
                **headers) -> EmailMessage:
    email = EmailMessage()
    email["From"] = f"Eve <{sender}>"
    email["To"] = to
    email["Subject"] = "Re: your chat"
    email["Message-ID"] = message_id
    if in_reply_to:
        email["In-Reply-To"] = in_reply_to
        email["References"] = in_reply_to
    for name, value in headers.items():
        email[name.replace("_", "-")] = value
    email.set_content(text)
    return email


def signed(body: bytes, secret: str = SECRET, at: int | None = None) -> str:
    at = int(time.time()) if at is None else at
    return f"t={at},v1=" + hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()


async def post_inbound(server, body: bytes, signature: str | None = None, **headers) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http:
        async with http.post(server.url + "/api/email/inbound", data=body,
                             headers={"X-Chat-Signature": signature or signed(body), **headers}) as resp:
            return resp.status, await resp.json()


async def chat_then_leave(server, language: str = "de"):
    """A visitor asks, leaves an address, is answered by Dana... and closes the tab."""
    visitor = await server.visitor(language=language)
    token = visitor.of("session")[0]["visitor_token"]
    agent = await server.agent("dana@shop.example")
    ack = await visitor.call("message", {"client_id": "m1", "text": "Hallo, meine Bestellung 42 fehlt"})
    cid = ack["conversation_id"]
    await agent.wait_for("assigned", lambda a: a["conversation"]["id"] == cid)
    assert (await visitor.call("contact", {"email": VISITOR_EMAIL, "name": HOSTILE_NAME}))["ok"]
    await visitor.disconnect()
    await asyncio.sleep(0.2)            # the disconnect reaches the server
    return token, agent, cid


async def test_whole_journey_by_email_smtp_and_http_in_order(desk):
    server, mail, inbound_port = desk
    token, agent, cid = await chat_then_leave(server)
    for n, text in enumerate(["Wir prüfen das <b>sofort</b> & melden uns.", "Gefunden: sie kommt morgen."]):
        ack = await agent.call("message", {"conversation_id": cid, "client_id": f"a{n}", "text": text})
        assert ack["ok"], ack
    [digest] = await mail.wait_for(1)
    await asyncio.sleep(1.0)
    assert len(mail.received) == 1                              # both replies of the window in one email
    message = digest.message
    assert digest.rcpt_tos == [VISITOR_EMAIL] and message["Content-Language"] == "de"
    assert message["Subject"].startswith("Neue Antwort in Ihrem Chat")
    reply_to = message["Reply-To"]
    assert reply_to.startswith("reply+") and reply_to.endswith("@" + DOMAIN)
    assert reply_to[len("reply+"):].split("@")[0] in message["Message-ID"]
    plain, html = digest.part("text/plain"), digest.part("text/html")
    assert "Wir prüfen das <b>sofort</b> & melden uns." in plain and "Gefunden: sie kommt morgen." in plain
    assert "Hallo, meine Bestellung 42 fehlt" in plain           # the context before the replies
    assert "<b>sofort</b>" not in html and "&lt;b&gt;sofort&lt;/b&gt; &amp; melden uns." in html
    assert "Dana &lt;b&gt;" in html and "<b>\n" not in html

    # The visitor answers through the inbound SMTP listener: quoted history and signature are stripped.
    answer = reply_email(reply_to, "Danke, perfekt!\n\n-- \nEve Example\nACME GmbH\n\n"
                                   "Am 01.12.2026 um 10:00 schrieb Support <support@shop.example>:\n"
                                   "> Gefunden: sie kommt morgen.\n", message_id="<answer-1@example.org>",
                         in_reply_to=message["Message-ID"])
    await aiosmtplib.send(answer, hostname="127.0.0.1", port=inbound_port)
    live = await agent.wait_for("message", lambda m: m.get("kind") == "email")
    assert live["text"] == "Danke, perfekt!" and live["author"] == "visitor"
    assert "> Gefunden: sie kommt morgen." in live["payload"]["email"]["original"]
    assert "Eve Example" in live["payload"]["email"]["original"]

    # The agent resolves it; a second answer, through the signed HTTP endpoint, reopens it into the queue.
    assert (await agent.call("close", {"conversation_id": cid}))["ok"]
    second = reply_email(reply_to, "Noch eine Frage: kann ich umtauschen?\n\nVon meinem iPhone gesendet\n",
                         message_id="<answer-2@example.org>", in_reply_to=message["Message-ID"])
    status, result = await post_inbound(server, second.as_bytes())
    assert status == 202 and result == {"ok": True, "posted": True, "outcome": "posted", "conversation_id": cid}
    assigned = await agent.wait_for("assigned", lambda a: a["conversation"]["id"] == cid and
                                    any(m.get("kind") == "email" and "umtauschen" in m["text"]
                                        for m in a["messages"]))
    texts = [m["text"] for m in assigned["messages"] if m["author"] == "visitor"]
    assert texts == ["Hallo, meine Bestellung 42 fehlt", "Danke, perfekt!", "Noch eine Frage: kann ich umtauschen?"]
    events = [e["type"] for e in await server.store.read(conv_queries.conversation_events, cid)]
    assert "reopened" in events and events.count("email_received") == 2

    # The visitor opens the widget again: the same conversation, email messages included, in order.
    visitor = await server.visitor(token=token)
    session = visitor.of("session")[0]
    assert session["conversation"]["id"] == cid
    seen = [(m["author"], m["text"]) for m in session["messages"]]
    # (after it, only the stored "joined" line of the agent who took the reopened chat)
    assert [m for m in seen if m[0] != "system"][-1] == ("visitor", "Noch eine Frage: kann ich umtauschen?")
    assert [text for _, text in seen if _ == "visitor"] == texts
    assert [m["seq"] for m in session["messages"]] == sorted(m["seq"] for m in session["messages"])


async def test_replies_seen_in_the_widget_send_no_email(desk):
    server, mail, _ = desk
    token, agent, cid = await chat_then_leave(server, language="en")
    assert (await agent.call("message", {"conversation_id": cid, "client_id": "a1", "text": "Still there?"}))["ok"]
    visitor = await server.visitor(token=token)            # back within the delay: the reply is shown
    assert any(m["text"] == "Still there?" for m in visitor.of("session")[0]["messages"])
    await asyncio.sleep(1.0)
    assert (await agent.call("message", {"conversation_id": cid, "client_id": "a2", "text": "Live one"}))["ok"]
    await visitor.wait_for("message", lambda m: m["text"] == "Live one")
    await asyncio.sleep(2.0)
    assert mail.received == []
    emails = await server.store.read(outbox_queries.recent)
    assert [e["status"] for e in emails] == ["cancelled"]


async def test_forged_expired_unknown_tokens_and_spoofed_senders_are_refused(desk):
    server, mail, inbound_port = desk
    _, agent, cid = await chat_then_leave(server)
    secret = server.app[keys.SECRETS]
    good = f"reply+{reply_token(secret, cid, time.time())}@{DOMAIN}"
    forged = good.replace(good.split("-")[-1].split("@")[0], "0" * 24)
    expired = f"reply+{reply_token(secret, cid, time.time() - 91 * 86400)}@{DOMAIN}"
    other = f"reply+{reply_token(secret, 999999, time.time())}@{DOMAIN}"
    for address in (forged, expired, other, f"support@{DOMAIN}"):
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
            await aiosmtplib.send(reply_email(address, "hi", message_id=f"<x-{address}@e.org>"),
                                  hostname="127.0.0.1", port=inbound_port)
        assert refused.value.recipients[0].code == 550
        body = reply_email(address, "hi", message_id=f"<y-{address}@e.org>").as_bytes()
        status, answer = await post_inbound(server, body)
        assert (status, answer["error"]) == (404, "email_token_invalid")
    # The right token from another sender: refused at DATA time (550) and by the endpoint (403).
    spoofed = reply_email(good, "I am Eve, honest", sender="mallory@example.net", message_id="<spoof@e.net>")
    with pytest.raises(aiosmtplib.SMTPDataError) as refused:
        await aiosmtplib.send(spoofed, hostname="127.0.0.1", port=inbound_port)
    assert refused.value.code == 550
    status, answer = await post_inbound(server, spoofed.as_bytes())
    assert (status, answer["error"]) == (403, "email_sender_mismatch")
    # Neither the subject nor the sender alone finds the conversation.
    status, answer = await post_inbound(server, reply_email(f"support@{DOMAIN}", "hello", message_id="<s@e.org>")
                                        .as_bytes())
    assert (status, answer["error"]) == (404, "email_token_invalid")
    messages = await server.store.read(conv_queries.messages_after, cid, 0, True)
    assert [m["kind"] for m in messages if m["author"] == "visitor"] == ["text"]


async def test_auto_replies_bounces_replays_and_bad_input_are_not_posted(desk):
    server, mail, inbound_port = desk
    _, agent, cid = await chat_then_leave(server)
    address = f"reply+{reply_token(server.app[keys.SECRETS], cid, time.time())}@{DOMAIN}"
    vacation = reply_email(address, "I am on holiday until Monday.", message_id="<auto@e.org>",
                           Auto_Submitted="auto-replied")
    await aiosmtplib.send(vacation, hostname="127.0.0.1", port=inbound_port)        # accepted (no bounce loop)
    bulk = reply_email(address, "Newsletter", message_id="<bulk@e.org>", Precedence="bulk")
    status, answer = await post_inbound(server, bulk.as_bytes())
    assert status == 202 and answer["posted"] is False and answer["outcome"] == "automatic"
    bounce = reply_email(address, "Delivery failed", message_id="<bounce@e.org>")
    await aiosmtplib.send(bounce, sender="", recipients=[address], hostname="127.0.0.1", port=inbound_port)

    real = reply_email(address, "A real answer", message_id="<real@e.org>")
    status, answer = await post_inbound(server, real.as_bytes())
    assert answer["posted"] is True
    status, answer = await post_inbound(server, real.as_bytes())             # replayed: accepted, posted once
    assert status == 202 and answer == {"ok": True, "posted": False, "outcome": "duplicate", "conversation_id": cid}
    await aiosmtplib.send(real, hostname="127.0.0.1", port=inbound_port)
    await agent.wait_for("message", lambda m: m["text"] == "A real answer")

    huge = reply_email(address, "x" * 300_000, message_id="<huge@e.org>").as_bytes()
    status, answer = await post_inbound(server, huge)
    assert (status, answer["error"]) == (413, "email_too_large")
    with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
        await aiosmtplib.send(huge, sender=VISITOR_EMAIL, recipients=[address], hostname="127.0.0.1",
                              port=inbound_port)
    assert refused.value.code == 552
    status, answer = await post_inbound(server, b"\x00\x01 not an email at all")
    assert status in (400, 404) and answer["error"] in ("email_malformed", "email_token_invalid")
    no_sender = f"To: {address}\r\nSubject: hi\r\n\r\nbody\r\n".encode()
    status, answer = await post_inbound(server, no_sender)
    assert (status, answer["error"]) == (400, "email_malformed")

    body = real.as_bytes()
    for signature in ("", "t=1,v1=00", signed(body, secret="wrong"), signed(body, at=int(time.time()) - 3600)):
        status, answer = await post_inbound(server, body, signature=signature or "none")
        assert (status, answer["error"]) == (401, "invalid_signature")
    messages = await server.store.read(conv_queries.messages_after, cid, 0, True)
    assert [m["text"] for m in messages if m["kind"] == "email"] == ["A real answer"]


async def test_transcripts_from_the_widget_and_the_console(desk):
    server, mail, _ = desk
    visitor = await server.visitor(language="fr")
    agent = await server.agent("dana@shop.example")
    ack = await visitor.call("message", {"client_id": "m1", "text": "Bonjour <script>x()</script>"})
    cid = ack["conversation_id"]
    await agent.wait_for("assigned", lambda a: a["conversation"]["id"] == cid)
    await agent.call("message", {"conversation_id": cid, "client_id": "a1", "text": "Bonjour, Dana ici."})
    answer = await agent.call("send_transcript", {"conversation_id": cid})
    assert answer["ok"] is False and answer["error"] == "no_email_address"
    assert (await visitor.call("close", {}))["ok"]
    answer = await visitor.call("transcript", {"conversation_id": cid, "email": VISITOR_EMAIL})
    assert answer["ok"] and answer["recipient"] == VISITOR_EMAIL
    again = await visitor.call("transcript", {"conversation_id": cid})        # the same state: sent once
    assert again["message_id"] == answer["message_id"]
    [transcript] = await mail.wait_for(1)
    assert transcript.message["Subject"].startswith("Transcription de votre discussion")
    html = transcript.part("text/html")
    assert "Bonjour &lt;script&gt;x()&lt;/script&gt;" in html and "<script>" not in html
    assert "Bonjour, Dana ici." in transcript.part("text/plain")
    answer = await agent.call("send_transcript", {"conversation_id": cid})
    assert answer["ok"] and answer["message_id"] == transcript.message_id       # nothing new since
    other = await server.visitor()
    refused = await other.call("transcript", {"conversation_id": cid, "email": "x@example.org"})
    assert refused["ok"] is False and refused["error"] == "not_found"
    for bad in ({}, {"conversation_id": "1"}, {"conversation_id": cid, "email": "nope"}):
        refused = await visitor.call("transcript", bad)
        assert refused["ok"] is False and refused["error"] in ("invalid_payload", "invalid_email"), bad
    await asyncio.sleep(1.0)
    assert len(mail.received) == 1
