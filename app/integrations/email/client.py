"""SMTP: one method, send a plain-text message; sandboxed (recorded, not sent) without a host."""

from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Literal

import aiosmtplib

from app.config import SmtpSettings
from app.integrations.errors import PermanentError, TransientError
from app.integrations.sandbox import recorded

Tls = Literal["starttls", "tls", "none"]


def _classify(exc: aiosmtplib.SMTPException) -> Exception:
    """A 5xx SMTP reply will be refused again; anything else (4xx, network, timeout) may pass later."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [refused.code for refused in exc.recipients]
        if codes and all(code >= 500 for code in codes):
            return PermanentError(f"SMTP refused every recipient: {exc}")
        return TransientError(f"SMTP refused recipients for now: {exc}")
    if isinstance(exc, aiosmtplib.SMTPResponseException) and exc.code >= 500:
        return PermanentError(f"SMTP error {exc.code}: {exc.message}")
    return TransientError(f"SMTP failed: {type(exc).__name__}: {exc}")


class EmailClient:
    def __init__(
        self,
        *,
        host: str | None,
        port: int,
        tls: Tls,
        username: str | None,
        password: str | None,
        timeout: float,
    ) -> None:
        self._host = host
        self._port = port
        self._tls = tls
        self._username = username
        self._password = password
        self._timeout = timeout

    @classmethod
    def from_settings(cls, smtp: SmtpSettings) -> "EmailClient":
        return cls(
            host=smtp.host,
            port=smtp.port,
            tls=smtp.tls,
            username=smtp.username,
            password=smtp.password.get_secret_value() if smtp.password else None,
            timeout=smtp.timeout_seconds,
        )

    @classmethod
    def sandbox(cls) -> "EmailClient":
        return cls(host=None, port=25, tls="none", username=None, password=None, timeout=10.0)

    @property
    def sandboxed(self) -> bool:
        return self._host is None

    async def send(
        self,
        *,
        sender: str,
        recipients: list[str],
        subject: str,
        text: str,
        message_id: str,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Send one message; its Message-ID stays the same on a retry so that readers can spot a repeat."""
        message = EmailMessage()
        message["From"] = sender
        message["To"] = ", ".join(recipients)
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = message_id
        for name, value in (headers or {}).items():
            message[name] = value
        message.set_content(text)
        calls = recorded.get()
        if calls is not None:
            calls.append(
                {
                    "method": "SMTP",
                    "url": f"smtp://{self._host or 'sandbox'}:{self._port}",
                    "headers": {name: str(value) for name, value in message.items()},
                    "body": text,
                }
            )
        if self._host is None:
            return {"message_id": message_id, "accepted": recipients, "refused": {}}
        try:
            refused, _ = await aiosmtplib.send(
                message,
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                use_tls=self._tls == "tls",
                start_tls=self._tls == "starttls",
                timeout=self._timeout,
            )
        except aiosmtplib.SMTPException as exc:
            raise _classify(exc) from exc
        except OSError as exc:
            raise TransientError(f"could not reach the SMTP server: {exc}") from exc
        return {
            "message_id": message_id,
            "accepted": [r for r in recipients if r not in refused],
            "refused": {r: str(reply) for r, reply in refused.items()},
        }
