"""Handing one composed email to the SMTP server with aiosmtplib (STARTTLS when offered or required, or implicit
TLS: smtp_url.py). Raises SendFailed with a readable reason, marked permanent when retrying cannot help."""
from __future__ import annotations

import asyncio
import ssl

import aiosmtplib

from .smtp_url import SmtpTarget


class SendFailed(Exception):
    def __init__(self, reason: str, permanent: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


class SmtpMailer:
    """What the desk's outbox worker calls (Desk.mailer); tests may give the desk another object with `send`."""

    async def send(self, target: SmtpTarget, sender: str, recipient: str, raw: bytes, timeout: float) -> str:
        """Deliver `raw` (a whole RFC 5322 message) to `recipient`; the server's answer on success."""
        try:
            errors, answer = await aiosmtplib.send(
                raw, sender=sender, recipients=[recipient], hostname=target.host, port=target.port,
                username=target.username, password=target.password, use_tls=target.implicit_tls,
                start_tls=True if target.require_starttls else (False if target.implicit_tls else None),
                timeout=timeout, validate_certs=True)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise SendFailed(f"the server refused the recipient: {_first(exc)}", permanent=True) from None
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise SendFailed(f"the SMTP server refused the login: {exc.code} {exc.message}") from None
        except aiosmtplib.SMTPResponseException as exc:
            raise SendFailed(f"the SMTP server answered {exc.code} {exc.message}",
                             permanent=exc.code >= 500 and exc.code not in (530, 535)) from None
        except aiosmtplib.SMTPException as exc:     # connect, timeouts, STARTTLS not offered...
            raise SendFailed(f"{type(exc).__name__}: {exc}") from None
        except (OSError, ssl.SSLError, asyncio.TimeoutError) as exc:
            raise SendFailed(f"{type(exc).__name__}: {exc}") from None
        if errors:
            raise SendFailed(f"the server refused the recipient: {errors}", permanent=True)
        return answer


def _first(exc) -> str:
    refused = getattr(exc, "recipients", None) or []
    return f"{refused[0].code} {refused[0].message}" if refused else str(exc)
