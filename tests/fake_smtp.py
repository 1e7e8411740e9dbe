"""A local SMTP server (aiosmtpd) that records what it receives, for tests across the wire."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.processes import free_port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: Message


@dataclass
class FakeSmtp:
    host: str = "127.0.0.1"
    port: int = 0
    refuse: dict[str, str] = field(default_factory=dict)  # recipient -> SMTP reply, e.g. "550 no such user"
    received: list[Received] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        del server, session, rcpt_options
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        del server, session
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content))
        )
        return "250 Message accepted for delivery"


@contextmanager
def fake_smtp(*, password: str | None = None, **options: Any) -> Iterator[FakeSmtp]:
    """An SMTP server on 127.0.0.1; with ``password``, it offers AUTH and accepts only ``relay`` with it."""
    fake = FakeSmtp(port=free_port(), **options)

    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        del server, session, envelope, mechanism
        ok = (
            isinstance(data, LoginPassword)
            and data.login == b"relay"
            and data.password == (password or "").encode()
        )
        if ok:
            fake.logins.append(data.login.decode())
        return AuthResult(success=ok, handled=False)

    auth: dict[str, Any] = {"authenticator": authenticate, "auth_require_tls": False} if password else {}
    controller = Controller(fake, hostname=fake.host, port=fake.port, **auth)
    controller.start()
    try:
        yield fake
    finally:
        controller.stop()
