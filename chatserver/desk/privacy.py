"""Privacy (docs/privacy.md): export one visitor's data as JSON, erase it, and the daily retention job. The
per-table work is the registry of chatserver/store/privacy.py, so features with tables of their own plug in there.

Erasure: the visitor's open conversation is closed first (resolution `erased`), then every part erases in one
transaction with the audit entry (counts only, never content); on SQLite deleted content is zeroed
(secure_delete) and the WAL emptied afterwards, so the erased text is neither readable through any page or the API
nor left in the database file or its WAL. The visitor's old token then opens a new, empty visitor."""
from __future__ import annotations

import asyncio
import time

from ..errors import NotFound
from ..store import attachments as attachment_queries
from ..store import audit as audit_queries
from ..store import privacy as privacy_queries
from . import assignment, audit

DAY = 86400.0
# A stored file no attachment row names is removed by the retention sweep once it is this old (younger ones may be
# an upload whose row is being written).
ORPHAN_AGE_SECONDS = 3600.0


async def _remove_files(desk, keys: list[str]) -> None:
    """The bytes of attachments whose rows are gone (after the commit: a file is not part of a transaction)."""
    if desk.files is not None:
        for key in keys:
            await asyncio.to_thread(desk.files.delete, key)


async def _remove_unreferenced_files(desk) -> None:
    if desk.files is None:
        return
    stored = await asyncio.to_thread(desk.files.keys_older_than, ORPHAN_AGE_SECONDS)
    referenced = await desk.store.read(attachment_queries.referenced_keys)
    await _remove_files(desk, [key for key in stored if key not in referenced])


def _visitor_id(raw: str) -> str:
    if not isinstance(raw, str) or not raw.isalnum() or len(raw) > 64:
        raise NotFound("no such visitor", code="visitor_not_found")
    return raw


def _exported(db, visitor_id: str, actor: audit.Actor | None):
    found = privacy_queries.export_visitor(db, visitor_id)
    if found is not None:
        audit.record(db, actor, "visitor.exported", "visitor", visitor_id, None)
    return found


async def export_visitor(desk, visitor_id: str, actor: audit.Actor | None = None) -> dict:
    """Everything the server keeps about one visitor, part by part (read in one transaction, audited)."""
    found = await desk.store.write(_exported, _visitor_id(visitor_id), actor)
    if found is None:
        raise NotFound("no such visitor", code="visitor_not_found")
    return {"ok": True, "visitor_id": visitor_id, "exported_at": time.time(), "data": found}


def _erased(db, visitor_id: str, actor: audit.Actor | None, now: float):
    counts = privacy_queries.erase_visitor(db, visitor_id, now)
    if counts is not None:
        audit.record(db, actor, "visitor.erased", "visitor", visitor_id,
                     {name: [None, count] for name, count in counts.items()})
    return counts


async def erase_visitor(desk, visitor_id: str, actor: audit.Actor | None = None) -> dict:
    visitor_id = _visitor_id(visitor_id)
    for conversation_id in await desk.store.read(privacy_queries.open_conversation_ids, visitor_id):
        await assignment.close(desk, conversation_id,
                               lambda db, c: ("system", None, "erased", "the visitor's data was erased"))
    conversation_ids = await desk.store.read(privacy_queries.conversation_ids, visitor_id)
    files = await desk.store.read(attachment_queries.storage_keys, conversation_ids)
    counts = await desk.store.write(_erased, visitor_id, actor, time.time())
    if counts is None:
        raise NotFound("no such visitor", code="visitor_not_found")
    await _remove_files(desk, files)
    await desk.store.truncate_wal()
    return {"ok": True, "visitor_id": visitor_id, "erased": counts}


async def apply_retention(desk, now: float | None = None) -> dict | None:
    """Anonymise conversations closed more than `retention_days` ago, remove attachments sent more than
    `attachment_retention_days` ago and audit entries older than `audit_retention_days` (0: keep them), at most once
    a day across the cluster (the last run is in the database). Returns {"conversations": n, "attachments": m,
    "audit_entries": k}, or None when it was not time (or all three are off)."""
    days = int(desk.settings.get("retention_days") or 0)
    file_days = int(desk.settings.get("attachment_retention_days") or 0)
    audit_days = int(desk.settings.get("audit_retention_days") or 0)
    if days <= 0 and file_days <= 0 and audit_days <= 0:
        return None
    now = time.time() if now is None else now

    def run(db):
        done = privacy_queries.apply_retention(db, now - days * DAY if days > 0 else None, now, DAY,
                                               now - file_days * DAY if file_days > 0 else None)
        if done is not None:
            done["audit_entries"] = audit_queries.prune(db, now - audit_days * DAY) if audit_days > 0 else 0
        return done

    done = await desk.store.write(run)
    if done is None:
        return None
    await _remove_files(desk, done["files"])
    if done["conversations"] or done["attachments"] or done["audit_entries"]:
        await audit.append_now(desk, audit.SYSTEM, "retention.applied", "conversations", None,
                               {"conversations": [None, done["conversations"]], "days": [None, days],
                                "attachments": [None, done["attachments"]], "attachment_days": [None, file_days],
                                "audit_entries": [None, done["audit_entries"]], "audit_days": [None, audit_days]})
        await _remove_unreferenced_files(desk)
        await desk.store.truncate_wal()
    return {"conversations": done["conversations"], "attachments": done["attachments"],
            "audit_entries": done["audit_entries"]}
