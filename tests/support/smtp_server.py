"""A real SMTP server for the tests (aiosmtpd on a free port, in its own thread): it keeps every message it
accepted, can answer with an error for a while, offers STARTTLS or speaks TLS from the first byte with a
certificate the test trusts (SSL_CERT_FILE), and can ask for a login."""
from __future__ import annotations

import asyncio
import datetime
import email
import email.policy
import ipaddress
import ssl
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from .server import free_port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes
    tls: bool
    login: str | None
    message: email.message.EmailMessage = field(init=False)

    def __post_init__(self):
        self.message = email.message_from_bytes(self.raw, policy=email.policy.default)

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"]).strip()

    def part(self, content_type: str) -> str:
        for part in self.message.walk():
            if part.get_content_type() == content_type:
                return part.get_content()
        raise AssertionError(f"no {content_type} part in {self.message.get_content_type()}")


class Handler:
    def __init__(self):
        self.received: list[Received] = []
        self.failures: list[str] = []       # answers for the next DATA commands, one each (e.g. "451 ...")
        self.refuse_rcpt: str | None = None
        # Hold the next `hold` emails at DATA (the client waits for our answer) until `release` is set; an email
        # whose client went away meanwhile is not accepted (SMTP takes responsibility only with the final 250).
        self.hold = 0
        self.holding = threading.Event()
        self.release = threading.Event()
        self.abandoned = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.refuse_rcpt:
            return self.refuse_rcpt
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.failures:
            return self.failures.pop(0)
        if self.hold > 0:
            self.hold -= 1
            self.holding.set()
            try:
                while not self.release.is_set():
                    await asyncio.sleep(0.02)
            except asyncio.CancelledError:      # aiosmtpd cancels the session when the client's connection drops
                self.abandoned += 1
                raise
            if server.transport is None or server.transport.is_closing():
                self.abandoned += 1
                return "451 4.4.2 Connection lost"
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content
                                      or envelope.content, server.transport.get_extra_info("ssl_object") is not None,
                                      login))
        return "250 Message accepted for delivery"

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Once at least `count` emails arrived (the server under test runs on this event loop: never block it)."""
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"the SMTP server received {len(self.received)} emails, not {count}")
            await asyncio.sleep(0.05)
        return list(self.received)


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (cert, key) PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class SmtpServer:
    def __init__(self, tmp_path: Path | None = None, starttls: bool = False, implicit_tls: bool = False,
                 login: tuple[str, str] | None = None):
        self.handler = Handler()
        self.port = free_port()
        self.cert: Path | None = None
        kwargs: dict = {}
        if starttls or implicit_tls:
            self.cert, key = make_certificate(tmp_path)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.cert, key)
            kwargs["ssl_context" if implicit_tls else "tls_context"] = context
        if login:
            def authenticate(server, session, envelope, mechanism, auth_data):
                ok = isinstance(auth_data, LoginPassword) and (auth_data.login.decode(),
                                                                auth_data.password.decode()) == login
                return AuthResult(success=ok, auth_data=auth_data)
            kwargs.update(authenticator=authenticate, auth_require_tls=False)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **kwargs)

    def url(self, scheme: str = "smtp", credentials: str = "", query: str = "") -> str:
        return f"{scheme}://{credentials + '@' if credentials else ''}127.0.0.1:{self.port}{query}"

    def start(self) -> "SmtpServer":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def received(self) -> list[Received]:
        return list(self.handler.received)

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        return await self.handler.wait_for(count, timeout)
