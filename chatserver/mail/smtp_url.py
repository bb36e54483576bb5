"""`CHAT_SMTP_URL` (or the admin's Settings value): where and how email leaves.

- `smtp://user:password@host:587`: plain SMTP, upgraded with STARTTLS whenever the server offers it;
- `smtp://...?starttls=require`: STARTTLS or nothing (the send fails if the server does not offer it);
- `smtps://user:password@host:465`: TLS from the first byte (implicit TLS).
Certificates are always verified. User and password may be percent-encoded.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, unquote, urlsplit

DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
MASK = "********"


class BadSmtpUrl(ValueError):
    """The SMTP URL cannot be used; the message says why."""


@dataclass(frozen=True)
class SmtpTarget:
    host: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool
    require_starttls: bool

    def describe(self) -> str:
        how = "implicit TLS" if self.implicit_tls else ("STARTTLS required" if self.require_starttls
                                                        else "STARTTLS when offered")
        return f"{self.host}:{self.port} ({how})"


def parse(url: str) -> SmtpTarget:
    parts = urlsplit(url.strip())
    if parts.scheme not in DEFAULT_PORTS:
        raise BadSmtpUrl("the SMTP URL must start with smtp:// or smtps://")
    if not parts.hostname:
        raise BadSmtpUrl("the SMTP URL has no host")
    try:
        port = parts.port or DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise BadSmtpUrl("the SMTP URL's port is not a number from 1 to 65535") from None
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = set(query) - {"starttls"}
    if unknown:
        raise BadSmtpUrl(f"unknown SMTP URL option {sorted(unknown)[0]!r} (only starttls=require)")
    starttls = query.get("starttls", [""])[-1]
    if starttls not in ("", "require"):
        raise BadSmtpUrl("starttls= takes only 'require'")
    if starttls and parts.scheme == "smtps":
        raise BadSmtpUrl("smtps:// is TLS already; starttls=require is for smtp://")
    return SmtpTarget(host=parts.hostname, port=port,
                      username=unquote(parts.username) if parts.username else None,
                      password=unquote(parts.password) if parts.password is not None else None,
                      implicit_tls=parts.scheme == "smtps", require_starttls=starttls == "require")


def masked(url: str) -> str:
    """The URL with its password replaced by MASK, for showing it back to an admin."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = netloc[0].split(":", 1)[0]
    return parts._replace(netloc=f"{user}:{MASK}@{netloc[1]}").geturl()
