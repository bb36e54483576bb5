"""Changing a setting and the canned replies. Validation of each setting lives in site_settings.clean; every
change is checked first (all field errors at once), then saved together."""
from __future__ import annotations

import re
import time

from .. import validation
from ..errors import InvalidPayload
from ..site_settings import clean
from ..store import settings as settings_queries
from ..validation import collect_fields
from . import audit

SHORTCUT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
CANNED_TEXT_CHARS = 2000


async def update_settings(desk, changes: dict, actor: audit.Actor | None = None) -> dict:
    """Validate every change first (all field errors at once), then save them together (with their audit entry)."""
    cleaned = collect_fields({name: (lambda n=name: clean(n, changes[n])) for name in changes})
    changed = audit.diff(desk.settings.all(), cleaned, cleaned)
    values = await desk.settings.update(cleaned, also=lambda db: audit.record(db, actor, "settings.updated",
                                                                               "settings", None, changed))
    if "kb_threshold" in cleaned:
        desk.kb.threshold_override = values["kb_threshold"]     # the bot's next suggestion uses it
    return values


def clean_canned_reply(fields: dict) -> dict:
    def shortcut():
        value = fields.get("shortcut")
        if not isinstance(value, str):
            raise InvalidPayload("'shortcut' must be a string")
        value = value.strip().lstrip("/").lower()
        if not SHORTCUT_RE.match(value):
            raise InvalidPayload("a shortcut is 1-32 lowercase letters, digits, '-' or '_' (typed as /shortcut)")
        return value

    return collect_fields({"shortcut": shortcut,
                           "text": lambda: validation.text(fields, "text", CANNED_TEXT_CHARS)})


async def add_canned_reply(desk, fields: dict, actor: audit.Actor | None = None) -> dict:
    reply = clean_canned_reply(fields)
    write = audit.audited(settings_queries.add_canned_reply, actor, "canned_reply.added", "canned_reply",
                          lambda added: (added["id"], {"shortcut": [None, added["shortcut"]]}))
    return await desk.store.write(write, reply["shortcut"], reply["text"], time.time())


async def delete_canned_reply(desk, reply_id: int, actor: audit.Actor | None = None) -> None:
    write = audit.audited(settings_queries.delete_canned_reply, actor, "canned_reply.deleted", "canned_reply",
                          lambda _: (reply_id, None))
    await desk.store.write(write, reply_id)
