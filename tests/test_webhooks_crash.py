"""kill -9 with webhook deliveries pending loses none: the outbox is written in each event's own transaction, so the
server process killed while its receiver is failing still sends every event after a restart (at least once, each
conversation in order)."""
from __future__ import annotations


from support.admin_client import AdminClient
from support.process import ServerProcess
from support.server import Recorder, free_port
from support.webhook_receiver import Receiver

MESSAGES = 15


async def test_kill_9_with_deliveries_pending_loses_none(tmp_path):
    receiver = await Receiver().start()
    receiver.answer = 503                       # down: everything stays in the outbox
    process = ServerProcess(tmp_path / "data", free_port(), env={
        "CHAT_KB_ENCODER": "false", "CHAT_BOT_ENABLED": "false", "CHAT_WEBHOOK_RETRY_BASE_SECONDS": "0.2",
        "CHAT_WEBHOOK_PAUSE_AFTER_FAILURES": "100000", "CHAT_WEBHOOK_MAX_ATTEMPTS": "1000"})
    await process.start()
    try:
        admin = await AdminClient.login(process)
        status, body = await admin.call("PATCH", "/api/admin/settings", {"webhooks_allow_private": True})
        assert status == 200, body
        fields = [("url", receiver.url), ("secret", "")] + [("events", "message.created"),
                                                            ("events", "conversation.created")]
        status, page, _ = await admin.post_form("/admin/webhooks", fields)
        assert status == 200 and "new-webhook-secret" in page, page[:500]
        await admin.close()

        acked: dict[int, list[str]] = {}
        visitors = []
        for v in range(3):
            visitor = Recorder("/visitor")
            await visitor.connect(process.url, auth={})
            await visitor.wait_for("session")
            visitors.append(visitor)
        for n in range(MESSAGES):
            visitor = visitors[n % 3]
            ack = await visitor.call("message", {"client_id": f"m{n}", "text": f"message {n}"})
            assert ack["ok"], ack
            acked.setdefault(ack["conversation_id"], []).append(f"message {n}")
        await receiver.wait_until(lambda: len(receiver.requests) >= 3)      # attempts are being made, and fail
        for visitor in visitors:
            await visitor.disconnect()
        process.kill9()
        assert not receiver.events(accepted_only=True)

        receiver.answer = 200
        await process.start()
        total = sum(len(texts) for texts in acked.values()) + len(acked)    # messages + conversation.created
        await receiver.wait_until(lambda: len({e["id"] for e in receiver.events(accepted_only=True)}) == total,
                                  timeout=30)
        delivered = receiver.events(accepted_only=True)
        for conversation_id, texts in acked.items():
            mine = [e for e in delivered if e["conversation_id"] == conversation_id]
            assert mine[0]["type"] == "conversation.created"
            assert [e["data"]["message"]["text"] for e in mine if e["type"] == "message.created"] == texts
    finally:
        process.stop()
        await receiver.stop()
