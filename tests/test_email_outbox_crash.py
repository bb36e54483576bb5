"""The outbox survives kill -9: the server (a real process) is killed while emails are queued and while one is
in the middle of its SMTP conversation; after a restart every email arrives exactly once at the test SMTP server
(aiosmtpd, counting by Message-ID), the interrupted one at its second attempt, none lost, none twice."""
from __future__ import annotations

import asyncio
import collections
import time

import pytest

from support.admin_client import AdminClient
from support.process import ServerProcess
from support.server import free_port
from support.smtp_server import SmtpServer

EMAILS = 5


@pytest.fixture
def mail(tmp_path):
    server = SmtpServer(tmp_path).start()
    yield server
    server.handler.release.set()
    server.stop()


async def outbox_state(admin) -> list[dict]:
    status, state = await admin.call("GET", "/api/admin/email")
    assert status == 200, state
    return state["emails"]


async def test_kill_9_while_queued_and_while_sending_delivers_each_email_once(tmp_path, mail, sentence_vector_cache):
    mail.handler.hold = 1                       # the first email's DATA hangs: the server is killed mid-send
    process = ServerProcess(tmp_path / "data", free_port(), vector_cache=sentence_vector_cache, env={
        "CHAT_SMTP_URL": mail.url(), "CHAT_EMAIL_FROM": "support@shop.example", "CHAT_KB_ENCODER": "false",
        "CHAT_SMTP_TIMEOUT_SECONDS": "2", "CHAT_EMAIL_RETRY_SECONDS": "0.5"})
    await process.start()
    try:
        admin = await AdminClient.login(process)
        queued = []
        for n in range(EMAILS):
            status, answer = await admin.call("POST", "/api/admin/email/test", {"to": f"owner{n}@shop.example"})
            assert status == 202, answer
            queued.append(answer["email"]["message_id"])
        deadline = time.monotonic() + 10
        while not mail.handler.holding.is_set():
            assert time.monotonic() < deadline, "the first email never reached DATA"
            await asyncio.sleep(0.02)
        before = await outbox_state(admin)
        assert sorted(e["status"] for e in before) == ["queued"] * (EMAILS - 1) + ["sending"]
        await admin.close()
        process.kill9()                         # one email mid-SMTP, the others queued
        mail.handler.release.set()
        await asyncio.sleep(0.3)
        assert mail.received == [] and mail.handler.abandoned == 1

        await process.start()                   # same data dir (or database)
        admin = await AdminClient.login(process)
        received = await mail.wait_for(EMAILS, timeout=30)
        await asyncio.sleep(3.0)                # every lease ran out long ago: nothing else may arrive
        counts = collections.Counter(r.message_id for r in mail.received)
        assert counts == {message_id: 1 for message_id in queued}, counts
        after = {e["message_id"]: e for e in await outbox_state(admin)}
        assert {e["status"] for e in after.values()} == {"sent"}
        attempts = sorted(e["attempts"] for e in after.values())
        assert attempts == [1] * (EMAILS - 1) + [2], attempts     # the interrupted one was tried again
        assert len(received) == EMAILS
        await admin.close()
    finally:
        if process.proc and process.proc.poll() is None:
            process.kill9()
