"""Reading an email that arrives (by the SMTP listener or the HTTP endpoint): its headers, its text, whether a
machine wrote it, and the visitor's own words with quoted history and signatures stripped by mail-parser-reply
(plus the mobile footers it does not know in every language). Pure: no policy about conversations here."""
from __future__ import annotations

import email
import email.policy
import html
import re
from dataclasses import dataclass, field
from email.utils import getaddresses, parseaddr

from mailparser_reply import EmailReplyParser

MAX_EMAIL_BYTES = 256 * 1024
REPLY_ADDRESS_RE = re.compile(r"^reply\+([a-z0-9-]{1,80})@(.+)$", re.IGNORECASE)
TOKEN_IN_ID_RE = re.compile(r"<reply\.\d+\.\d+\.([a-z0-9-]{1,80})@[^>]+>", re.IGNORECASE)
MOBILE_FOOTERS = re.compile(
    r"^\s*(sent from my \w+.*|get outlook for \w+.*|von meinem \w+ gesendet.*|gesendet von meinem \w+.*|"
    r"envoyé de mon \w+.*|enviado desde mi \w+.*)\s*$", re.IGNORECASE | re.MULTILINE)
_PARSER = EmailReplyParser(languages=["en", "de", "fr", "es"])


class BadEmail(ValueError):
    """Too large or unreadable; the message says which."""

    def __init__(self, reason: str, code: str):
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass
class InboundEmail:
    message_id: str | None
    sender: str                     # the From address, lower-cased
    subject: str
    text: str                       # the whole plain text, quoted history included (kept for agents)
    references: list[str] = field(default_factory=list)
    addressed_to: list[str] = field(default_factory=list)     # To, Cc, Delivered-To, X-Original-To
    automatic: str | None = None    # why a machine wrote it (auto-reply, bounce, bulk), or None

    def reply_tokens(self) -> list[str]:
        """Reply tokens carried by our own Message-IDs in In-Reply-To / References."""
        return [m.group(1).lower() for ref in self.references for m in [TOKEN_IN_ID_RE.search(ref)] if m]


def token_of_address(address: str, domain: str) -> str | None:
    """The token of reply+<token>@<domain>, or None for any other address."""
    found = REPLY_ADDRESS_RE.match(parseaddr(address)[1] or address.strip("<> "))
    if not found or not domain or found.group(2).lower() != domain.lower():
        return None
    return found.group(1).lower()


def _automatic(message, envelope_sender: str | None) -> str | None:
    if envelope_sender is not None and envelope_sender.strip("<> ") == "":
        return "null sender (a bounce)"
    submitted = (message.get("Auto-Submitted") or "no").strip().lower()
    if submitted != "no":
        return f"Auto-Submitted: {submitted}"
    precedence = (message.get("Precedence") or "").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {precedence}"
    for header in ("X-Autoreply", "X-Autorespond"):
        if message.get(header):
            return f"{header} present"
    if message.get_content_type() == "multipart/report":
        return "a delivery report"
    return None


def _plain_text(message) -> str:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = part.get_content()
    if part.get_content_type() == "text/html":
        content = html.unescape(re.sub(r"<[^>]+>", " ", re.sub(r"(?i)<br\s*/?>|</p>", "\n", content)))
    return content.replace("\r\n", "\n").strip()


def parse(raw: bytes, envelope_sender: str | None = None) -> InboundEmail:
    if len(raw) > MAX_EMAIL_BYTES:
        raise BadEmail(f"the email is larger than {MAX_EMAIL_BYTES // 1024} KB", "email_too_large")
    try:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        sender = parseaddr(str(message.get("From", "")))[1].lower()
        references = [ref for header in ("In-Reply-To", "References")
                      for ref in re.findall(r"<[^<>\s]+>", str(message.get(header, "")))]
        addressed_to = [address for _, address in getaddresses(
            [str(v) for h in ("To", "Cc", "Delivered-To", "X-Original-To") for v in message.get_all(h, [])])]
        text = _plain_text(message)
        subject = str(message.get("Subject", ""))[:300]
    except Exception as exc:        # the email package raises many kinds on broken input
        raise BadEmail(f"the email could not be read ({type(exc).__name__})", "email_malformed") from None
    if not sender or "@" not in sender:
        raise BadEmail("the email has no From address", "email_malformed")
    message_id = str(message.get("Message-ID", "")).strip() or None
    return InboundEmail(message_id=message_id, sender=sender, subject=subject, text=text, references=references,
                        addressed_to=addressed_to, automatic=_automatic(message, envelope_sender))


def visible_text(text: str) -> str:
    """What the visitor wrote this time: quoted history, signature blocks and mobile footers removed."""
    reply = _PARSER.read(text).replies
    body = reply[0].body if reply else text
    return MOBILE_FOOTERS.sub("", body).strip()

