"""Email out: a real SMTP server (aiosmtpd on a free port) receives what the outbox sends. The admin's test email
through plain SMTP with a login, STARTTLS when offered or required, implicit TLS; multipart and threading headers;
a failing server (retries with backoff, the error visible to admins, recovery); a permanent refusal; email off
until configured; the settings form keeps the SMTP password masked; one row per Message-ID."""
from __future__ import annotations

import asyncio
import time

import pytest

from chatserver import keys
from chatserver.desk import outbox
from chatserver.store import outbox as outbox_queries

from support.admin_client import AdminClient, field_error
from support.smtp_server import SmtpServer

FROM = "support@shop.example"


@pytest.fixture
def smtp(tmp_path):
    servers = []

    def make(**options) -> SmtpServer:
        server = SmtpServer(tmp_path, **options).start()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


async def wait_status(server, message_id: str, status: str, timeout: float = 10.0, until=lambda e: True) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        email = await server.store.read(outbox_queries.email_by_message_id, message_id)
        if email["status"] == status and until(email):
            return email
        assert time.monotonic() < deadline, email
        await asyncio.sleep(0.05)


async def test_test_email_goes_out_multipart_threaded_after_login(server_factory, smtp):
    mail = smtp(login=("mailer", "s3cret:pw"))
    server = await server_factory(smtp_url=mail.url(credentials="mailer:s3cret%3Apw"), email_from=FROM)
    admin = await AdminClient.login(server)
    try:
        status, answer = await admin.call("POST", "/api/admin/email/test", {"to": "owner@shop.example"})
        assert status == 202, answer
        queued = answer["email"]
        assert queued["status"] == "queued" and queued["message_id"].endswith("@shop.example>")
        [received] = await mail.wait_for(1)
        assert received.login == "mailer" and not received.tls      # no STARTTLS offered: plain, still sent
        assert received.mail_from == FROM and received.rcpt_tos == ["owner@shop.example"]
        message = received.message
        assert message.get_content_type() == "multipart/alternative"
        assert message["Message-ID"] == queued["message_id"]
        assert message["Auto-Submitted"] == "auto-generated" and message["To"] == "owner@shop.example"
        assert "If you can read it, email works." in received.part("text/plain")
        assert "If you can read it, email works." in received.part("text/html")
        sent = await wait_status(server, queued["message_id"], "sent")
        assert sent["attempts"] == 1 and sent["sent_at"] is not None
        _, state = await admin.call("GET", "/api/admin/email")
        assert state["enabled"] and state["counts"] == {"sent": 1}
        assert state["emails"][0]["status"] == "sent"
    finally:
        await admin.close()
    await asyncio.sleep(1.5)            # the next runs of the worker find nothing more to send
    assert len(mail.received) == 1


async def test_starttls_when_offered_required_and_implicit_tls(server_factory, smtp, monkeypatch):
    offering = smtp(starttls=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(offering.cert))      # the test's certificate is trusted
    server = await server_factory(smtp_url=offering.url(), email_from=FROM)
    admin = await AdminClient.login(server)
    try:
        await admin.call("POST", "/api/admin/email/test", {"to": "a@shop.example"})
        [received] = await offering.wait_for(1)
        assert received.tls                                     # upgraded because the server offered it

        plain = smtp()                                          # offers no STARTTLS: ?starttls=require refuses it
        status, _ = await admin.call("PATCH", "/api/admin/settings", {"smtp_url": plain.url(query="?starttls=require")})
        assert status == 200
        _, answer = await admin.call("POST", "/api/admin/email/test", {"to": "b@shop.example"})
        failed = await wait_status(server, answer["email"]["message_id"], "queued", until=lambda e: e["attempts"])
        assert "STARTTLS" in failed["last_error"] and plain.received == []

        implicit = smtp(implicit_tls=True)
        monkeypatch.setenv("SSL_CERT_FILE", str(implicit.cert))
        await admin.call("PATCH", "/api/admin/settings", {"smtp_url": implicit.url("smtps")})
        _, answer = await admin.call("POST", "/api/admin/email/test", {"to": "c@shop.example"})
        [received] = await implicit.wait_for(1)
        assert received.tls and received.message_id == answer["email"]["message_id"]
    finally:
        await admin.close()


async def test_failing_server_is_retried_with_backoff_shown_to_admins_then_recovers(server_factory, smtp):
    mail = smtp()
    mail.handler.failures = ["451 4.3.0 Mailbox busy, try later"] * 2
    server = await server_factory(smtp_url=mail.url(), email_from=FROM, email_retry_seconds=0.5)
    admin = await AdminClient.login(server)
    try:
        _, answer = await admin.call("POST", "/api/admin/email/test", {"to": "owner@shop.example"})
        message_id = answer["email"]["message_id"]
        deadline = time.monotonic() + 10
        while True:                                         # the first failed attempt, as admins see it
            _, state = await admin.call("GET", "/api/admin/email")
            shown = state["emails"][0]
            if shown["attempts"] >= 1 and shown["status"] == "queued":
                break
            assert time.monotonic() < deadline, shown
            await asyncio.sleep(0.05)
        assert "451" in shown["last_error"] and "Mailbox busy" in shown["last_error"]
        assert shown["next_attempt_at"] > time.time() - 1
        _, page, _ = await admin.get("/admin/settings")
        assert "Mailbox busy" in page and "Retry now" in page
        [received] = await mail.wait_for(1)                 # two refusals, then accepted
        sent = await wait_status(server, message_id, "sent")
        assert sent["attempts"] == 3 and sent["last_error"] is None and received.message_id == message_id
    finally:
        await admin.close()


async def test_permanent_refusal_stops_retrying_until_an_admin_retries(server_factory, smtp):
    mail = smtp()
    mail.handler.refuse_rcpt = "550 5.1.1 No such user"
    server = await server_factory(smtp_url=mail.url(), email_from=FROM, email_retry_seconds=0.2)
    admin = await AdminClient.login(server)
    try:
        _, answer = await admin.call("POST", "/api/admin/email/test", {"to": "nobody@shop.example"})
        message_id = answer["email"]["message_id"]
        failed = await wait_status(server, message_id, "failed")
        assert failed["attempts"] == 1 and "No such user" in failed["last_error"]
        await asyncio.sleep(1.0)
        assert (await server.store.read(outbox_queries.email_by_message_id, message_id))["attempts"] == 1
        mail.handler.refuse_rcpt = None
        status, retried = await admin.call("POST", f"/api/admin/email/{failed['id']}/retry", {})
        assert status == 200 and retried["email"]["status"] == "queued"
        await mail.wait_for(1)
        assert (await wait_status(server, message_id, "sent"))["attempts"] == 2
        status, answer = await admin.call("POST", "/api/admin/email/999999/retry", {})
        assert (status, answer["error"]) == (404, "email_not_found")
    finally:
        await admin.close()


async def test_email_is_off_until_configured(server, admin):
    _, page, _ = await admin.get("/admin/settings")
    assert "Email is off" in page and "no SMTP server is set" in page
    status, answer = await admin.call("POST", "/api/admin/email/test", {"to": "owner@shop.example"})
    assert (status, answer["error"]) == (409, "email_off")
    status, answer = await admin.call("POST", "/api/admin/email/test", {"to": "not an address"})
    assert (status, answer["error"]) == (400, "invalid_email")
    status, _, _ = await admin.post_form("/admin/settings/email/test", {"to": "owner@shop.example"})
    assert status == 409
    assert await server.store.read(outbox_queries.counts) == {}


async def test_settings_form_masks_the_password_and_keeps_it(server, admin):
    url = "smtp://mailer:hunter2@mail.shop.example:587?starttls=require"
    status, _, headers = await admin.post_form("/admin/settings/email", {"smtp_url": url, "email_from": FROM})
    assert status == 303, headers
    settings = server.app[keys.SETTINGS]
    assert settings.get("smtp_url") == url and settings.get("email_from") == FROM
    _, page, _ = await admin.get("/admin/settings")
    assert "hunter2" not in page and "smtp://mailer:********@mail.shop.example:587?starttls=require" in page
    assert "mail.shop.example:587 (STARTTLS required)" in page
    # Sent back as shown, the stored password stays; the widget settings form leaves email alone.
    await admin.post_form("/admin/settings/email", {"smtp_url": "smtp://mailer:********@mail.shop.example:587"
                                                    "?starttls=require", "email_from": FROM})
    assert settings.get("smtp_url") == url
    status, page, _ = await admin.post_form("/admin/settings/email", {"smtp_url": "http://mail.example",
                                                                      "email_from": "nope"})
    assert status == 400 and "smtp://" in field_error(page, "smtp_url") and field_error(page, "email_from")
    assert settings.get("smtp_url") == url
    status, answer = await admin.call("PATCH", "/api/admin/settings", {"smtp_url": "smtp://h?starttls=maybe"})
    assert (status, answer["error"]) == (400, "invalid_smtp_url")


async def test_one_outbox_row_per_message_id(server):
    now = time.time()
    first, created = await server.store.write(outbox_queries.queue_email, "<x.1@shop.example>", "test",
                                              "a@shop.example", now, subject="one", raw="raw")
    again, created_again = await server.store.write(outbox_queries.queue_email, "<x.1@shop.example>", "test",
                                                    "b@shop.example", now, subject="two", raw="raw")
    assert created and not created_again and again == first
    assert await server.store.read(outbox_queries.counts) == {"queued": 1}


async def test_backoff_doubles_up_to_an_hour(server):
    desk = server.app[keys.DESK]
    assert [outbox.backoff(desk, n) for n in (1, 2, 3)] == [30.0, 60.0, 120.0]
    assert outbox.backoff(desk, 12) == 3600.0
