"""Webhooks end to end: an admin adds an endpoint on the page; a real aiohttp receiver on a free port gets every
event signed, in order per conversation, retried after it answers 500, the endpoint paused after repeated
failures (the admin told), and a delivery resent from the log. Loopback and link-local targets are refused unless
the admin setting allows them (these tests switch it on to reach their receiver on 127.0.0.1)."""
from __future__ import annotations

import asyncio
import json
import re
import time

import pytest

from chatserver import keys
from chatserver.desk import settings as settings_ops
from support.admin_client import AdminClient
from support.webhook_receiver import Receiver, verify

ALL_EVENTS = ["conversation.created", "conversation.queued", "conversation.assigned", "conversation.transferred",
              "conversation.closed", "message.created", "survey.submitted"]


@pytest.fixture
async def receiver():
    r = await Receiver().start()
    yield r
    await r.stop()


async def allow_private(server, allowed: bool = True):
    await settings_ops.update_settings(server.app[keys.DESK], {"webhooks_allow_private": allowed})


async def add_webhook(admin, url, events=ALL_EVENTS, secret="") -> tuple[int, str, str]:
    """(status, page, secret shown once)."""
    fields = [("url", url), ("secret", secret)] + [("events", e) for e in events]
    status, page, _ = await admin.post_form("/admin/webhooks", fields)
    found = re.search(r'id="new-webhook-secret">([^<]+)<', page)
    return status, page, found.group(1) if found else ""


async def page_when(admin, path: str, text: str, timeout: float = 10.0) -> str:
    """The admin page once it shows `text` (the server records an attempt just after the receiver answered)."""
    deadline = time.monotonic() + timeout
    while True:
        _, page, _ = await admin.get(path)
        if text in page or time.monotonic() > deadline:
            return page
        await asyncio.sleep(0.1)


async def test_loopback_link_local_private_and_odd_urls_are_refused_by_default(server, admin):
    for url in ("http://127.0.0.1:9/hooks", "http://169.254.169.254/latest/meta-data", "http://10.1.2.3/x",
                "http://[::1]/x", "http://localhost/x", "ftp://example.com/x", "http://user:pw@example.com/",
                "not a url"):
        status, page, secret = await add_webhook(admin, url)
        assert status == 400 and not secret, url
        assert 'id="url-error"' in page, url
    assert "No webhooks yet." in (await admin.get("/admin/webhooks"))[1]


async def test_signed_events_arrive_in_order_per_conversation(server_factory, receiver):
    server = await server_factory(bot_enabled=False)
    admin = await AdminClient.login(server)
    try:
        await allow_private(server)
        status, page, secret = await add_webhook(admin, receiver.url)
        assert status == 200 and len(secret) >= 16, page[:500]
        await server.create_agent("kim@example.com", "Kim")
        kim = await server.agent("kim@example.com")
        visitor = await server.visitor()
        ack = await visitor.call("message", {"client_id": "m1", "text": "my parcel is late"})
        conversation_id = ack["conversation_id"]
        await kim.wait_for("assigned")
        assert (await kim.call("message", {"conversation_id": conversation_id, "client_id": "a1",
                                           "text": "Let me check"}))["ok"]
        assert (await kim.call("note", {"conversation_id": conversation_id, "client_id": "n1",
                                        "text": "internal note"}))["ok"]
        assert (await visitor.call("message", {"client_id": "m2", "text": "thanks"}))["ok"]
        assert (await kim.call("close", {"conversation_id": conversation_id}))["ok"]
        assert (await visitor.call("survey", {"conversation_id": conversation_id, "csat": 5}))["ok"]
        await receiver.wait_until(lambda: "survey.submitted" in [e["type"] for e in receiver.events()])

        events = receiver.events()
        assert [e["type"] for e in events] == [
            "conversation.created", "conversation.queued", "message.created", "conversation.assigned",
            "message.created", "message.created", "conversation.closed", "survey.submitted"]
        assert [e["data"]["message"]["text"] for e in events if e["type"] == "message.created"] == [
            "my parcel is late", "Let me check", "thanks"]          # the private note is not sent
        assert all(e["conversation_id"] == conversation_id for e in events)
        assert len({e["id"] for e in events}) == len(events)
        for headers, body, _ in receiver.requests:
            assert verify(secret, headers, body)
            assert headers["X-Chat-Event-Id"] == json.loads(body)["id"]
            assert headers["X-Chat-Event"] == json.loads(body)["type"]
            assert not verify(secret + "x", headers, body)
            assert not verify(secret, headers, body + b" ")
        assert events[3]["data"]["agent_id"] is not None and events[-1]["data"]["csat"] == 5
    finally:
        await admin.close()


async def test_a_500_is_retried_with_backoff_and_later_events_wait(server_factory, receiver):
    server = await server_factory(bot_enabled=False, webhook_retry_base_seconds=0.3)
    admin = await AdminClient.login(server)
    try:
        await allow_private(server)
        await add_webhook(admin, receiver.url, ["message.created"])
        receiver.script = [500, 500]
        visitor = await server.visitor()
        for n in range(3):
            assert (await visitor.call("message", {"client_id": f"m{n}", "text": f"message {n}"}))["ok"]
        await receiver.wait_until(lambda: len(receiver.events(accepted_only=True)) == 3)
        texts = [e["data"]["message"]["text"] for e in receiver.events()]
        assert texts == ["message 0", "message 0", "message 0", "message 1", "message 2"]
        first_ids = {e["id"] for e in receiver.events()[:3]}
        assert len(first_ids) == 1                                  # the same idempotency key each time
        page = await page_when(admin, "/admin/webhooks/1", "HTTP 200")
        assert page.count("HTTP 500") == 2 and "HTTP 200" in page and "answered 500" in page
        assert "x" * 200 not in page                                 # only an excerpt of the response is kept
    finally:
        await admin.close()


async def test_an_endpoint_that_keeps_failing_is_paused_and_resumed(server_factory, receiver):
    server = await server_factory(bot_enabled=False, webhook_retry_base_seconds=0.05,
                                  webhook_pause_after_failures=3)
    admin = await AdminClient.login(server)
    try:
        await allow_private(server)
        await add_webhook(admin, receiver.url, ["message.created"])
        receiver.answer = 500
        visitor = await server.visitor()
        assert (await visitor.call("message", {"client_id": "m1", "text": "hello"}))["ok"]
        await receiver.wait_until(lambda: len(receiver.requests) >= 3)
        status, page, _ = await admin.get("/admin/webhooks")
        for _ in range(40):
            if "paused" in page:
                break
            await asyncio.sleep(0.1)
            status, page, _ = await admin.get("/admin/webhooks")
        assert 'class="ad-error webhook-paused"' in page and "3 failed attempts in a row" in page
        _, audit, _ = await admin.get("/admin/audit?action=webhook.paused")
        assert 'data-action="webhook.paused"' in audit
        tried = len(receiver.requests)
        await asyncio.sleep(0.5)
        assert len(receiver.requests) == tried                       # paused: nothing more is sent
        receiver.answer = 200
        status, _, _ = await admin.post_form("/admin/webhooks/1/resume", {})
        assert status == 303
        await receiver.wait_until(lambda: len(receiver.events(accepted_only=True)) == 1)
        assert receiver.events(accepted_only=True)[0]["data"]["message"]["text"] == "hello"
    finally:
        await admin.close()


async def test_resend_from_the_delivery_log_sends_the_same_event_again(server_factory, receiver):
    server = await server_factory(bot_enabled=False)
    admin = await AdminClient.login(server)
    try:
        await allow_private(server)
        await add_webhook(admin, receiver.url, ["conversation.created"])
        visitor = await server.visitor()
        assert (await visitor.call("message", {"client_id": "m1", "text": "hello"}))["ok"]
        await receiver.wait_until(lambda: len(receiver.events()) == 1)
        page = await page_when(admin, "/admin/webhooks/1", 'data-status="delivered"')
        delivery_id = re.search(r'data-delivery-id="(\d+)" data-status="delivered"', page).group(1)
        status, _, _ = await admin.post_form(f"/admin/webhooks/1/deliveries/{delivery_id}/resend", {})
        assert status == 303
        await receiver.wait_until(lambda: len(receiver.events()) == 2)
        assert receiver.events()[0]["id"] == receiver.events()[1]["id"]
        _, audit, _ = await admin.get("/admin/audit?action=webhook.resent")
        assert 'data-action="webhook.resent"' in audit
    finally:
        await admin.close()


async def test_the_guard_applies_when_sending_too(server_factory, receiver):
    """An endpoint saved while internal addresses were allowed is not reached once they are not (nor would a DNS
    name that later resolves inside be)."""
    server = await server_factory(bot_enabled=False, webhook_max_attempts=1)
    admin = await AdminClient.login(server)
    try:
        await allow_private(server)
        await add_webhook(admin, receiver.url, ["conversation.created"])
        await allow_private(server, False)
        visitor = await server.visitor()
        assert (await visitor.call("message", {"client_id": "m1", "text": "hello"}))["ok"]
        for _ in range(50):
            _, page, _ = await admin.get("/admin/webhooks/1")
            if 'data-status="failed"' in page:
                break
            await asyncio.sleep(0.1)
        assert 'data-status="failed"' in page and "refused" in page
        assert receiver.requests == []
    finally:
        await admin.close()
