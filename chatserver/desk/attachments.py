"""Files both ways: a visitor's upload into their open conversation, an agent's into a chat they hold, and reading
one back (only the conversation's visitor, and agents who may read the conversation). The type is read from the
bytes (chatserver/files/content.py); the bytes go to the file storage before the row is committed, and a retried
upload (the same client_id) finds the stored message, so a cut connection never doubles a file."""
from __future__ import annotations

import asyncio
import hashlib
import re
import time
import unicodedata

from ..errors import NotFound, RateLimited
from ..files import inspect_upload, thumbnail
from ..store import attachments as attachment_queries
from ..store import conversations as conv_queries
from . import access, assignment
from .events import MessageAdded
from .messages import message_ack

NAME_CHARS = 120


def clean_filename(raw: str | None, extension: str) -> str:
    """A name to show: the last path part, no control characters, at most 120 characters; `file.<ext>` if none."""
    name = re.split(r"[\\/]", raw or "")[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().strip(".")
    return name[-NAME_CHARS:] if name else f"file.{extension}"


async def _store_bytes(desk, data: bytes, filename: str | None) -> dict:
    """Check the bytes, write them (and an image's thumbnail) to the file storage; the row's fields."""
    config = desk.config
    inspected = await asyncio.to_thread(inspect_upload, data, config.attachment_types, config.attachment_max_bytes)
    thumb, width, height = (await asyncio.to_thread(thumbnail, data)) if inspected.is_image else (None, None, None)
    key = desk.files.new_key()
    await asyncio.to_thread(desk.files.put, key, data)
    thumbnail_key = None
    if thumb is not None:
        thumbnail_key = key + ".thumb"
        await asyncio.to_thread(desk.files.put, thumbnail_key, thumb)
    return {"filename": clean_filename(filename, inspected.extension), "content_type": inspected.content_type,
            "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "storage_key": key,
            "thumbnail_key": thumbnail_key, "width": width, "height": height}


async def _forget_bytes(desk, stored: dict) -> None:
    for key in (stored["storage_key"], stored["thumbnail_key"]):
        if key:
            await asyncio.to_thread(desk.files.delete, key)


def _ack(message: dict, duplicate: bool) -> dict:
    return {**message_ack(message, duplicate), "attachment": message["payload"]["attachment"]}


async def upload_from_visitor(desk, visitor: dict, client_id: str, filename: str | None, data: bytes) -> dict:
    visitor_id = visitor["visitor_id"]
    if not await desk.live.allow("visitor_messages", visitor_id, time.time()):
        raise RateLimited("too many messages; slow down")
    existing = await desk.store.read(attachment_queries.visitor_upload, visitor_id, client_id)
    if existing is not None and existing["kind"] == "attachment":
        return _ack(existing, True)          # a retried upload: nothing is written again
    stored = await _store_bytes(desk, data, filename)
    initial_status = "bot" if desk.config.bot_enabled else "queued"
    try:
        result = await desk.store.write(attachment_queries.add_visitor_attachment, visitor_id, client_id, stored,
                                        time.time(), initial_status, visitor.get("page_url"))
    except BaseException:
        await _forget_bytes(desk, stored)
        raise
    if result["duplicate"]:                  # the first try was committed meanwhile
        await _forget_bytes(desk, stored)
        return _ack(result["message"], True)
    conversation = result["conversation"]
    await desk.notifier.publish([MessageAdded(result["message"], visitor_id,
                                              await desk.live.holder(conversation["id"]), None)])
    if result["created"] and initial_status == "queued":
        await assignment.enqueue(desk, conversation)
    return _ack(result["message"], False)


async def upload_from_agent(desk, agent: dict, conversation_id: int, client_id: str, filename: str | None,
                            data: bytes) -> dict:
    conversation = await desk.store.read(conv_queries.get_conversation, conversation_id)
    access.may_reply(agent, conversation)           # before any bytes are written
    stored = await _store_bytes(desk, data, filename)

    def write(db, now):
        current = access.may_reply(agent, conv_queries.get_conversation(db, conversation_id))
        return attachment_queries.add_agent_attachment(db, current, agent["id"], client_id, stored, now)

    try:
        result = await desk.store.write(write, time.time())
    except BaseException:
        await _forget_bytes(desk, stored)
        raise
    if result["duplicate"]:
        await _forget_bytes(desk, stored)
        return _ack(result["message"], True)
    await desk.notifier.publish([MessageAdded(result["message"], conversation["visitor_id"],
                                              await desk.live.holder(conversation_id), None)])
    return _ack(result["message"], False)


def _visitor_file(db, visitor_id: str, attachment_id: int) -> dict:
    attachment = attachment_queries.get_attachment(db, attachment_id)
    if attachment is None:
        raise NotFound("no such attachment")
    access.visitor_owns(visitor_id, conv_queries.get_conversation(db, attachment["conversation_id"]))
    return attachment


def _agent_file(db, agent: dict, attachment_id: int) -> dict:
    attachment = attachment_queries.get_attachment(db, attachment_id)
    if attachment is None:
        raise NotFound("no such attachment")
    conversation = conv_queries.get_conversation(db, attachment["conversation_id"])
    holds_visitor = conversation is not None and conv_queries.visitor_held_by(db, conversation["visitor_id"],
                                                                              agent["id"])
    try:
        access.may_read(agent, conversation, holds_visitor)
    except Exception:
        raise NotFound("no such attachment") from None     # another conversation's file: nothing to tell
    return attachment


async def _read(desk, attachment: dict, want_thumbnail: bool) -> tuple[dict, bytes]:
    key = attachment["thumbnail_key"] if want_thumbnail else attachment["storage_key"]
    if key is None:
        raise NotFound("this attachment has no thumbnail")
    try:
        return attachment, await asyncio.to_thread(desk.files.get, key)
    except FileNotFoundError:
        raise NotFound("the file is gone from the storage") from None


async def file_for_visitor(desk, visitor_id: str, attachment_id: int, want_thumbnail: bool) -> tuple[dict, bytes]:
    return await _read(desk, await desk.store.read(_visitor_file, visitor_id, attachment_id), want_thumbnail)


async def file_for_agent(desk, agent: dict, attachment_id: int, want_thumbnail: bool) -> tuple[dict, bytes]:
    return await _read(desk, await desk.store.read(_agent_file, agent, attachment_id), want_thumbnail)
