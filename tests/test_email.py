"""Email over SMTP against a local aiosmtpd server that records what it receives."""

from email.message import Message
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import col

from app.auth.models import Scope
from app.config import Settings, SmtpSettings
from app.deliveries.models import Delivery
from app.integrations.email.client import EmailClient
from app.integrations.errors import PermanentError, TransientError
from tests.clock_helpers import send_update
from tests.conftest import RelayApp, make_token
from tests.factories import declaration
from tests.fake_smtp import fake_smtp
from tests.processes import free_port


def client_for(port: int, **overrides: Any) -> EmailClient:
    smtp = SmtpSettings(host="127.0.0.1", port=port, tls="none", timeout_seconds=5, **overrides)
    return EmailClient.from_settings(smtp)


def body_of(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode().replace("\r\n", "\n").strip()


async def send(client: EmailClient, to: list[str]) -> dict[str, object]:
    return await client.send(
        sender="relay@example.com",
        recipients=to,
        subject="[INC-7] Update: Logins fail (SEV1)",
        text="UPDATE: Logging in is down for all users.",
        message_id="<INC-7.email.update-3@example.com>",
        headers={"X-Relay-Incident": "INC-7"},
    )


async def test_a_message_reaches_the_server_with_its_headers() -> None:
    with fake_smtp() as server:
        result = await send(client_for(server.port), ["incidents@example.com", "oncall@example.com"])
    assert result["accepted"] == ["incidents@example.com", "oncall@example.com"]
    [mail] = server.received
    assert mail.sender == "relay@example.com"
    assert mail.recipients == ["incidents@example.com", "oncall@example.com"]
    assert mail.message["Subject"] == "[INC-7] Update: Logins fail (SEV1)"
    assert mail.message["Message-ID"] == "<INC-7.email.update-3@example.com>"
    assert mail.message["X-Relay-Incident"] == "INC-7"
    assert body_of(mail.message) == "UPDATE: Logging in is down for all users."


async def test_credentials_are_used_and_a_wrong_password_is_permanent() -> None:
    with fake_smtp(password="s3cret") as server:
        await send(client_for(server.port, username="relay", password=SecretStr("s3cret")), ["a@example.com"])
        with pytest.raises(PermanentError, match="535"):
            await send(
                client_for(server.port, username="relay", password=SecretStr("nope")), ["a@example.com"]
            )
    assert server.logins == ["relay"]
    assert len(server.received) == 1


async def test_refused_recipients_are_permanent_on_5xx_and_transient_on_4xx() -> None:
    refuse = {"gone@example.com": "550 no such user", "full@example.com": "452 mailbox full, try later"}
    with fake_smtp(refuse=refuse) as server:
        client = client_for(server.port)
        with pytest.raises(PermanentError):
            await send(client, ["gone@example.com"])
        with pytest.raises(TransientError):
            await send(client, ["full@example.com"])
        partial = await send(client, ["gone@example.com", "ok@example.com"])
    assert partial["accepted"] == ["ok@example.com"]
    assert list(partial["refused"]) == ["gone@example.com"]  # type: ignore[call-overload]
    assert [m.recipients for m in server.received] == [["ok@example.com"]]


async def test_an_unreachable_server_is_transient() -> None:
    with pytest.raises(TransientError):
        await send(client_for(free_port()), ["a@example.com"])


async def test_without_a_host_the_message_is_recorded_not_sent() -> None:
    client = EmailClient.from_settings(SmtpSettings())
    assert client.sandboxed
    result = await send(client, ["a@example.com"])
    assert result["accepted"] == ["a@example.com"]


@pytest.mark.usefixtures("clean_database")
async def test_a_status_update_is_mailed_through_the_outbox(
    settings: Settings, relay_app: RelayApp, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    token = {"Authorization": f"Bearer {await make_token(sessionmaker, Scope.write)}"}
    with fake_smtp() as server:
        smtp = SmtpSettings(
            host=server.host,
            port=server.port,
            tls="none",
            from_address="relay@example.com",
            mailing_list=["new-incidents-grp@example.com"],
        )
        async with relay_app(settings.model_copy(update={"smtp": smtp})) as app:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://relay.test") as client:
                created = await client.post(
                    "/api/v1/incidents",
                    json=declaration(severity="SEV1", functionality="Logging in"),
                    headers=token,
                )
                ref = created.json()["reference"]
                update = await send_update(client, token, ref, audience="internal", template="mitigated")
                await app.state.dispatcher.drain()
    [mail] = server.received
    assert mail.recipients == ["new-incidents-grp@example.com"]
    assert mail.message["From"] == "relay@example.com"
    assert mail.message["Subject"].startswith(f"[{ref}] Mitigated: ")
    assert body_of(mail.message) == update["body"]
    async with sessionmaker() as session:
        delivery = await session.scalar(select(Delivery).where(col(Delivery.action) == "email.send"))
    assert delivery is not None
    assert delivery.status == "done"
    assert delivery.idempotency_key == f"{ref}:email:update-{update['id']}"
