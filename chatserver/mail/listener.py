"""The built-in inbound SMTP listener (aiosmtpd, CHAT_SMTP_INBOUND=host:port): a mail server relays the visitors'
replies to it. Each recipient is checked at RCPT time and each email posted at DATA time by the functions the
app factory gives it (the desk's email_in operations); their refusals become SMTP answers: 550 for an unknown,
forged or expired reply address or another sender, 552 for an oversized email, 554 for an unreadable one, 451
(try again later) when the server could not store it."""
from __future__ import annotations

import asyncio
import logging

from aiosmtpd.smtp import SMTP

from ..errors import ChatError, StorageError
from .inbound import MAX_EMAIL_BYTES

log = logging.getLogger(__name__)
SMTP_ANSWERS = {"email_too_large": "552 5.3.4", "email_malformed": "554 5.6.0"}


def _answer(exc: ChatError) -> str:
    if isinstance(exc, StorageError):
        return "451 4.3.0 Could not store the email now; try again later"
    return f"{SMTP_ANSWERS.get(exc.code, '550 5.1.1')} {exc.message}"


class InboundHandler:
    def __init__(self, check_recipient, receive):
        self.check_recipient = check_recipient      # async (address) -> anything; raises ChatError to refuse
        self.receive = receive                      # async (raw, envelope sender, recipients) -> dict

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        try:
            await self.check_recipient(address)
        except ChatError as exc:
            log.info("inbound SMTP: refused recipient %s: %s", address[:200], exc.message)
            return _answer(exc)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        try:
            result = await self.receive(envelope.original_content or envelope.content, envelope.mail_from,
                                        list(envelope.rcpt_tos))
        except ChatError as exc:
            log.info("inbound SMTP: refused an email from %s: %s", (envelope.mail_from or "<>")[:200], exc.message)
            return _answer(exc)
        except Exception:
            log.exception("inbound SMTP: could not take an email")
            return "451 4.3.0 Temporary failure; try again later"
        return f"250 OK {result.get('outcome', '')}".rstrip()


async def listen(host: str, port: int, handler: InboundHandler) -> asyncio.AbstractServer:
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: SMTP(handler, data_size_limit=MAX_EMAIL_BYTES, enable_SMTPUTF8=True, hostname="chatserver",
                     ident="chatserver inbound"), host=host, port=port)
