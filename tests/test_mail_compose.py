"""Composing emails (chatserver/mail/compose.py) and reading the SMTP URL (smtp_url.py): hostile names and texts
are escaped in the HTML part and kept as typed in the plain one; threading headers; every URL form and its refusals."""
from __future__ import annotations

import email
import email.policy

import pytest

from chatserver.mail.compose import Draft, Link, Paragraph, Quote, to_bytes
from chatserver.mail.smtp_url import BadSmtpUrl, masked, parse

HOSTILE_NAME = '<img src=x onerror="alert(1)">Eve & "Co"'
HOSTILE_TEXT = "</div><script>steal()</script>\nsecond line <b>bold</b>"


def parsed(draft: Draft) -> email.message.EmailMessage:
    return email.message_from_bytes(to_bytes(draft), policy=email.policy.default)


def parts(message) -> dict:
    return {p.get_content_type(): p.get_content() for p in message.walk() if not p.is_multipart()}


def test_hostile_names_and_texts_are_escaped_in_html_and_kept_in_plain_text():
    draft = Draft(message_id="<c1.s4@shop.example>", sender="support@shop.example", sender_name="Support",
                  recipient="eve@example.org", subject="Re: " + HOSTILE_NAME, language="de",
                  blocks=[Paragraph("Hallo " + HOSTILE_NAME), Quote(HOSTILE_NAME, "10:02", HOSTILE_TEXT),
                          Link("Zurück zum Chat", 'https://shop.example/chat?x="><script>')],
                  in_reply_to="<c1.s2@shop.example>", references=["<c1.s1@shop.example>", "<c1.s2@shop.example>"],
                  reply_to="reply+abc@reply.shop.example", created_at=1_700_000_000)
    message = parsed(draft)
    body = parts(message)
    html = body["text/html"]
    assert "<script>" not in html and "<img" not in html and "onerror=\"" not in html
    assert "&lt;script&gt;steal()&lt;/script&gt;" in html and "Eve &amp; &quot;Co&quot;" in html
    assert 'href="https://shop.example/chat?x=&quot;&gt;&lt;script&gt;"' in html
    assert "second line &lt;b&gt;bold&lt;/b&gt;" in html and '<html lang="de">' in html
    plain = body["text/plain"]
    assert HOSTILE_NAME in plain and "  second line <b>bold</b>" in plain
    assert message["Message-ID"] == "<c1.s4@shop.example>" and message["In-Reply-To"] == "<c1.s2@shop.example>"
    assert message["References"] == "<c1.s1@shop.example> <c1.s2@shop.example>"
    assert message["Reply-To"] == "reply+abc@reply.shop.example" and message["Subject"] == "Re: " + HOSTILE_NAME
    assert message["Content-Language"] == "de" and message["Auto-Submitted"] == "auto-generated"
    assert to_bytes(draft) == to_bytes(draft)       # the same draft, the same bytes (retries resend them)


def test_smtp_urls():
    target = parse("smtp://us%40er:p%3Aw@mail.example.com?starttls=require")
    assert (target.host, target.port, target.username, target.password) == ("mail.example.com", 587, "us@er", "p:w")
    assert target.require_starttls and not target.implicit_tls
    assert parse("smtps://mail.example.com").port == 465 and parse("smtps://mail.example.com").implicit_tls
    plain = parse("smtp://127.0.0.1:2525")
    assert not plain.require_starttls and plain.username is None and plain.describe() == "127.0.0.1:2525 (STARTTLS when offered)"
    assert masked("smtp://u:secret@h:25") == "smtp://u:********@h:25" and masked("smtp://h") == "smtp://h"
    for bad in ("http://h", "smtp://", "smtp://h:99999", "smtp://h?tls=1", "smtp://h?starttls=maybe",
                "smtps://h?starttls=require"):
        with pytest.raises(BadSmtpUrl):
            parse(bad)
