"""Composing an email from plain blocks: one text/plain part and one simple HTML part (every piece of text
escaped), threading headers (Message-ID, In-Reply-To, References) and `Auto-Submitted: auto-generated` so
vacation responders do not answer it (RFC 3834). Pure: the same blocks give the same bytes."""
from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr
from datetime import datetime, timezone


@dataclass(frozen=True)
class Paragraph:
    text: str


@dataclass(frozen=True)
class Quote:
    """One chat message: who said it, when (already formatted), what."""
    author: str
    when: str
    text: str


@dataclass(frozen=True)
class Link:
    label: str
    url: str


@dataclass
class Draft:
    message_id: str                 # "<...@domain>", the outbox's idempotency key
    sender: str                     # From address
    sender_name: str
    recipient: str
    subject: str
    language: str
    blocks: list = field(default_factory=list)
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    reply_to: str | None = None
    created_at: float = 0.0


def plain_text(blocks: list) -> str:
    lines: list[str] = []
    for block in blocks:
        if isinstance(block, Paragraph):
            lines += [block.text, ""]
        elif isinstance(block, Quote):
            lines += [f"{block.author} ({block.when}):"] + [f"  {line}" for line in block.text.splitlines()] + [""]
        elif isinstance(block, Link):
            lines += [f"{block.label}: {block.url}", ""]
    return "\n".join(lines).rstrip() + "\n"


def html_text(blocks: list, language: str) -> str:
    e = html.escape
    body: list[str] = []
    for block in blocks:
        if isinstance(block, Paragraph):
            body.append(f"<p>{e(block.text)}</p>")
        elif isinstance(block, Quote):
            text = "<br>".join(e(line) for line in block.text.splitlines())
            body.append(f'<div style="margin:0 0 12px;padding:8px 12px;border-left:3px solid #ccd">'
                        f'<div style="color:#556;font-size:13px"><strong>{e(block.author)}</strong> · {e(block.when)}'
                        f"</div><div>{text}</div></div>")
        elif isinstance(block, Link):
            body.append(f'<p><a href="{e(block.url, quote=True)}">{e(block.label)}</a></p>')
    return (f'<!doctype html><html lang="{e(language)}"><head><meta charset="utf-8"></head>'
            f'<body style="font-family:sans-serif;line-height:1.45;color:#223">{"".join(body)}</body></html>\n')


def compose(draft: Draft) -> EmailMessage:
    message = EmailMessage(policy=SMTP)
    message["Message-ID"] = draft.message_id
    message["Date"] = format_datetime(datetime.fromtimestamp(draft.created_at, timezone.utc))
    message["From"] = formataddr((draft.sender_name, draft.sender))
    message["To"] = draft.recipient
    message["Subject"] = draft.subject
    if draft.reply_to:
        message["Reply-To"] = draft.reply_to
    if draft.in_reply_to:
        message["In-Reply-To"] = draft.in_reply_to
    if draft.references:
        message["References"] = " ".join(draft.references)
    message["Auto-Submitted"] = "auto-generated"
    # quoted-printable: 7-bit safe for any SMTP server, and the stored message stays ASCII text
    message.set_content(plain_text(draft.blocks), cte="quoted-printable")
    message.add_alternative(html_text(draft.blocks, draft.language), subtype="html", cte="quoted-printable")
    message["Content-Language"] = draft.language      # after the content: set_content clears Content-* headers
    message.set_boundary("=_" + hashlib.sha256(draft.message_id.encode()).hexdigest()[:32])   # not random
    return message


def to_bytes(draft: Draft) -> bytes:
    return compose(draft).as_bytes()
