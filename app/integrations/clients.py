"""The provider clients of one process: real when credentials are set, sandboxed otherwise."""

from dataclasses import dataclass, field

import httpx

from app.config import Settings
from app.integrations.email.client import EmailClient
from app.integrations.freshdesk import client as freshdesk
from app.integrations.freshdesk.ratelimit import RateBudget
from app.integrations.http import build_http_client
from app.integrations.pagerduty import client as pagerduty
from app.integrations.sandbox import RecordingTransport, Responder, SandboxTransport
from app.integrations.slack import client as slack


def _transport(configured: bool, respond: Responder) -> httpx.AsyncBaseTransport:
    return RecordingTransport() if configured else SandboxTransport(respond)


@dataclass
class Clients:
    slack: slack.SlackClient
    pagerduty: pagerduty.PagerDutyClient
    freshdesk: freshdesk.FreshdeskClient
    sandboxed: frozenset[str]
    # Subscribers' own URLs, each set by an admin: never sandboxed.
    webhooks: httpx.AsyncClient
    email: EmailClient = field(default_factory=EmailClient.sandbox)
    _http: list[httpx.AsyncClient] = field(default_factory=list)

    @classmethod
    def from_settings(cls, settings: Settings) -> "Clients":
        timeout = settings.delivery.http_timeout_seconds
        sandboxed = set()
        if not settings.slack.configured:
            sandboxed.add("slack")
        if not settings.pagerduty.configured:
            sandboxed.add("pagerduty")
        if not settings.freshdesk.configured:
            sandboxed.add("freshdesk")
        if not settings.smtp.configured:
            sandboxed.add("email")

        token = settings.slack.bot_token
        slack_http = build_http_client(
            settings.slack.api_url,
            timeout=timeout,
            headers={"Authorization": f"Bearer {token.get_secret_value()}"} if token else None,
            transport=_transport("slack" not in sandboxed, slack.sandbox_response),
        )
        pd_token = settings.pagerduty.api_token
        pd_headers = {"Accept": "application/vnd.pagerduty+json;version=2"}
        if pd_token:
            pd_headers["Authorization"] = f"Token token={pd_token.get_secret_value()}"
        pd_transport = _transport("pagerduty" not in sandboxed, pagerduty.sandbox_response)
        pd_rest = build_http_client(
            settings.pagerduty.api_url, timeout=timeout, headers=pd_headers, transport=pd_transport
        )
        pd_events = build_http_client(
            settings.pagerduty.events_url,
            timeout=timeout,
            transport=_transport("pagerduty" not in sandboxed, pagerduty.sandbox_response),
        )
        fd_key = settings.freshdesk.api_key
        fd_http = build_http_client(
            settings.freshdesk.url,
            timeout=timeout,
            auth=httpx.BasicAuth(fd_key.get_secret_value(), "X") if fd_key else None,
            transport=_transport("freshdesk" not in sandboxed, freshdesk.sandbox_response),
        )
        webhooks_http = build_http_client("http://localhost", timeout=timeout, transport=RecordingTransport())
        return cls(
            slack=slack.SlackClient(slack_http),
            pagerduty=pagerduty.PagerDutyClient(pd_rest, pd_events, from_email=settings.pagerduty.from_email),
            freshdesk=freshdesk.FreshdeskClient(
                fd_http,
                budget=RateBudget(
                    reserve=settings.freshdesk.rate_limit_reserve,
                    window_seconds=settings.freshdesk.rate_limit_window_seconds,
                ),
            ),
            sandboxed=frozenset(sandboxed),
            webhooks=webhooks_http,
            email=EmailClient.from_settings(settings.smtp),
            _http=[slack_http, pd_rest, pd_events, fd_http, webhooks_http],
        )

    async def aclose(self) -> None:
        for http in self._http:
            await http.aclose()
