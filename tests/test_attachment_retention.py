"""Attachment retention (docs/privacy.md, "How long"): with `attachment_retention_days` set, the daily retention run
deletes the rows and the stored files of attachments sent longer ago, once a day across the cluster; their messages
stay in the history marked removed, and fetching the file answers 404. Newer attachments are untouched."""
from __future__ import annotations

import time
from pathlib import Path

from chatserver import keys
from chatserver.desk import privacy, timed_jobs
from support.admin_client import AdminClient
from support.uploads import fetch, png, stored_files, upload

SITE_FORM = {"widget_greeting": "Hi", "widget_colour": "#2457d6", "allowed_origins": "", "business_hours": "9-5"}


async def test_old_attachments_are_deleted_once_a_day_and_their_messages_show_removed(server_factory):
    server = await server_factory(bot_enabled=False)
    desk = server.app[keys.DESK]
    visitor = await server.visitor()
    token = visitor.of("session")[0]["visitor_token"]
    assert (await visitor.call("message", {"client_id": "m1", "text": "here are my receipts"}))["ok"]
    status, old, _ = await upload(server, token, png(40, 30, (10, 200, 10)), client_id="f1", name="old-receipt.png")
    assert status == 201, old
    status, new, _ = await upload(server, token, png(50, 20, (10, 10, 200)), client_id="f2", name="new-receipt.png")
    assert status == 201, new
    old_id, new_id = old["attachment"]["id"], new["attachment"]["id"]
    assert len(stored_files(server)) == 4                           # two images, two thumbnails

    def keys_of(db, attachment_id):
        row = db.execute("SELECT storage_key, thumbnail_key FROM attachments WHERE id = ?", [attachment_id]).fetchone()
        return [row[0], row[1]]
    old_keys = await server.store.read(keys_of, old_id)
    forty_days_ago = time.time() - 40 * 86400
    await server.store.write(lambda db: db.execute("UPDATE attachments SET created_at = ? WHERE id = ?",
                                                   [forty_days_ago, old_id]))

    assert await privacy.apply_retention(desk) is None              # both retention periods off: nothing happens
    assert len(stored_files(server)) == 4
    admin = await AdminClient.login(server)                     # set on the admin settings page
    try:
        _, page, _ = await admin.get("/admin/settings")
        assert 'name="attachment_retention_days"' in page and "Keep attachments for (days)" in page
        status, page, _ = await admin.post_form("/admin/settings", {**SITE_FORM, "attachment_retention_days": "-3"})
        assert status == 400 and 'aria-describedby="attachment_retention_days-error"' in page
        assert server.app[keys.SETTINGS].get("attachment_retention_days") == 0
        status, _, _ = await admin.post_form("/admin/settings", {**SITE_FORM, "attachment_retention_days": "30"})
        assert status == 303 and server.app[keys.SETTINGS].get("attachment_retention_days") == 30
    finally:
        await admin.close()
    assert await timed_jobs.tick(desk)                              # the leader's daily run

    left = await server.store.read(lambda db: [r[0] for r in db.execute(
        "SELECT id FROM attachments ORDER BY id").fetchall()])
    assert left == [new_id]
    root = Path(server.app[keys.CONFIG].data_dir) / "attachments"
    files = stored_files(server)
    assert len(files) == 2 and not any(root / key in files for key in old_keys)
    status, _, _ = await fetch(server, f"/widget/attachments/{old_id}", token)
    assert status == 404
    status, _, _ = await fetch(server, f"/widget/attachments/{old_id}/thumbnail", token)
    assert status == 404
    status, body, _ = await fetch(server, f"/widget/attachments/{new_id}", token)
    assert status == 200 and body[:4] == b"\x89PNG"

    # The history still has both messages; the old one says its file was removed, the new one is as it was.
    history = await visitor.call("sync", {"after_seq": 0})
    shown = {m["payload"]["attachment"]["name"]: m["payload"]["attachment"]
             for m in history["messages"] if m["kind"] == "attachment"}
    assert set(shown) == {"old-receipt.png", "new-receipt.png"}
    assert shown["old-receipt.png"]["removed"] is True and shown["old-receipt.png"]["thumbnail"] is False
    assert "removed" not in shown["new-receipt.png"] and shown["new-receipt.png"]["thumbnail"] is True
    texts = [m["text"] for m in history["messages"] if m["author"] == "visitor"]
    assert "here are my receipts" in texts                          # conversations are not touched

    # Once a day across nodes: the run is recorded in the database, a second one the same day does nothing.
    assert await privacy.apply_retention(desk) is None
    assert await privacy.apply_retention(desk, time.time() + 86401) == {"conversations": 0, "attachments": 0, "audit_entries": 0}
    entries = await server.store.read(lambda db: db.execute(
        "SELECT count(*) FROM audit_log WHERE action = 'retention.applied'").fetchone()[0])
    assert entries == 1
