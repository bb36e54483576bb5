"""Erasing a visitor also reaches the tables of the features that keep their data apart (store/privacy.py's
registry): their attachments (rows and the files on disk), the emails queued to them, the example questions their
words proposed; their quality record and receipts are exported and kept as counts."""
from __future__ import annotations

import time

from chatserver import keys
from chatserver.desk import privacy
from chatserver.store import outbox as outbox_queries
from chatserver.store import proposals as proposal_queries
from support.uploads import fetch, png, stored_files, upload


async def test_erasing_a_visitor_removes_their_files_emails_and_proposals(server_factory):
    server = await server_factory()
    desk = server.app[keys.DESK]
    await server.create_agent("ana@example.com", "Ana")
    ana = await server.agent("ana@example.com")
    visitor = await server.visitor()
    session = visitor.of("session")[0]
    visitor_id, token = session["visitor_id"], session["visitor_token"]
    ack = await visitor.call("message", {"client_id": "m1", "text": "how do I track my parcel quokka"})
    cid = ack["conversation_id"]
    await visitor.call("request_agent", {})
    await ana.wait_for("assigned", lambda a: a["conversation"]["id"] == cid)
    status, uploaded, _ = await upload(server, token, png(40, 30), name="receipt-quokka.png")
    assert status == 201, uploaded
    attachment_id = uploaded["attachment"]["id"]
    assert len(stored_files(server)) == 2                   # the image and its thumbnail

    def leave_traces(db):
        now = time.time()
        outbox_queries.queue_email(db, "<quokka@test>", "transcript", "quokka@example.com", now,
                                   conversation_id=cid)
        proposal_queries.add_occurrence(db, "track-order", "how do I track my parcel quokka",
                                        "how do i track my parcel quokka", cid, "helpful", now)
    await server.store.write(leave_traces)

    exported = await privacy.export_visitor(desk, visitor_id)
    data = exported["data"]
    assert [a["filename"] for a in data["attachments"]] == ["receipt-quokka.png"]
    assert [e["recipient"] for e in data["emails_sent"]] == ["quokka@example.com"]
    assert [p["text"] for p in data["example_proposals"]] == ["how do I track my parcel quokka"]
    assert "quality" in data and "receipts" in data

    await visitor.disconnect()
    result = await privacy.erase_visitor(desk, visitor_id)
    assert result["erased"]["attachments"] == 1 and result["erased"]["emails_sent"] == 1
    assert stored_files(server) == []                       # the bytes went with the rows
    assert (await fetch(server, f"/widget/attachments/{attachment_id}", token))[0] in (401, 404)

    def leftovers(db):
        return {table: db.execute(f"SELECT COUNT(*) FROM {table} WHERE {where}", [value]).fetchone()[0]
                for table, where, value in [("attachments", "conversation_id = ?", cid),
                                            ("email_outbox", "conversation_id = ?", cid),
                                            ("example_proposal_sources", "conversation_id = ?", cid),
                                            ("example_proposals", "normalised = ?", "how do i track my parcel quokka")]}
    assert await server.store.read(leftovers) == {"attachments": 0, "email_outbox": 0,
                                                   "example_proposal_sources": 0, "example_proposals": 0}
    again = await privacy.export_visitor(desk, visitor_id)
    assert "quokka" not in str(again)
