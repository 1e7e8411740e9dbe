"""Settings, read from the environment (prefix ``RELAY_``) and an optional ``.env`` file."""

import json
from datetime import date
from functools import lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _split_secrets(value: object) -> object:
    if isinstance(value, str):
        return [SecretStr(part.strip()) for part in value.split(",") if part.strip()]
    return value


class DatabaseSettings(BaseModel):
    url: str = "sqlite+aiosqlite:///./relay.db"
    pool_size: int = 10
    echo: bool = False


class RedisSettings(BaseModel):
    # Unset means embedded mode: deliveries run inside the API process.
    url: str | None = None


class SlackSettings(BaseModel):
    api_url: str = "https://slack.com/api"
    bot_token: SecretStr | None = None
    signing_secret: SecretStr | None = None
    announcements_channel: str = "new-incidents"
    # Links posted in each new incident channel; {reference} and {channel} are filled in.
    video_bridge_url: str | None = None
    notes_url: str | None = None
    # views.open runs inside Slack's 3-second window, so it gets a short timeout of its own.
    views_timeout_seconds: float = Field(default=2.0, gt=0, le=2.5)
    history_page_size: int = Field(default=200, ge=1, le=1000)

    @field_validator("video_bridge_url", "notes_url")
    @classmethod
    def _link_template(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                value.format(reference="INC-1", channel="inc-channel")
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(f"may only use {{reference}} and {{channel}}: {exc!r}") from None
        return value

    @property
    def configured(self) -> bool:
        return self.bot_token is not None


class PagerDutySettings(BaseModel):
    api_url: str = "https://api.pagerduty.com"
    events_url: str = "https://events.pagerduty.com"
    api_token: SecretStr | None = None
    from_email: str | None = None
    routing_key: SecretStr | None = None
    default_service_id: str | None = None
    webhook_secrets: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    page_severities: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["SEV1"])
    # Which PagerDuty incidents Relay does not know yet become Relay incidents: every one, only those
    # on a service mapped to a team (Team.pagerduty_service_id), or none.
    auto_declare: Literal["all", "mapped", "none"] = "all"

    _split = field_validator("webhook_secrets", mode="before")(_split_secrets)

    @field_validator("page_severities", mode="before")
    @classmethod
    def _split_severities(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().upper() for part in value.split(",") if part.strip()]
        return value

    @property
    def configured(self) -> bool:
        return self.api_token is not None or self.routing_key is not None


TICKET_TEMPLATE_KEYS = {"name": "", "context": "", "link": "", "reference": ""}


class FreshdeskSettings(BaseModel):
    url: str = "https://example.freshdesk.com"
    api_key: SecretStr | None = None
    webhook_secrets: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    # The custom field that names the incident a ticket belongs to (holding "INC-<n>").
    incident_field: str = "cf_relay_incident"
    # Tickets carrying one of these tags are incident-related even before they name an incident.
    incident_tags: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["incident"])
    # Optionally, a checkbox (or any truthy) custom field that marks a ticket as incident-related.
    incident_marker_field: str | None = None
    # Where the acknowledgement points the customer; {base_url} and {reference} are filled in.
    incident_url: str = "{base_url}/incidents/{reference}"
    # Share of the account's API budget left for agents and other tools; Relay pauses below it.
    rate_limit_reserve: float = Field(default=0.2, ge=0, lt=1)
    rate_limit_window_seconds: float = Field(default=60.0, gt=0)
    # Replies in HTML with {name}, {context}, {link} and {reference}; unset keeps the built-in text.
    acknowledge_template: str | None = None
    resolved_template: str | None = None

    _split = field_validator("webhook_secrets", mode="before")(_split_secrets)

    @field_validator("incident_tags", mode="before")
    @classmethod
    def _split_tags(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip().lower() for part in value.split(",") if part.strip()]
        return value

    @field_validator("acknowledge_template", "resolved_template")
    @classmethod
    def _known_placeholders(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                value.format(**TICKET_TEMPLATE_KEYS)
            except (KeyError, IndexError, ValueError) as exc:
                raise ValueError(
                    f"unknown or broken placeholder {exc}; use {{name}}, {{context}}, {{link}}, {{reference}}"
                ) from exc
        return value

    @field_validator("incident_url")
    @classmethod
    def _url_placeholders(cls, value: str) -> str:
        try:
            value.format(base_url="", reference="")
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"unknown placeholder {exc}; use {{base_url}} and {{reference}}") from exc
        return value

    @property
    def configured(self) -> bool:
        return self.api_key is not None


class AlertingSettings(BaseModel):
    # A subscription whose deliveries die this many times in a row is paused until an admin resumes it.
    pause_after_dead_deliveries: int = Field(default=5, ge=1)


class ReconciliationSettings(BaseModel):
    """How often reconciliation compares Relay with the providers, and how far one run may go."""

    # Off: no scheduled runs (an admin can still start one through the API).
    enabled: bool = True
    interval_minutes: int = Field(default=5, ge=1, le=60)
    # Items per list call (PagerDuty and Freshdesk allow at most 100) and list calls per run.
    page_size: int = Field(default=100, ge=1, le=100)
    max_pages: int = Field(default=50, ge=1, le=300)
    # Each window starts this much before the last one ended: a change written late is still seen.
    overlap_seconds: int = Field(default=120, ge=0, le=3600)
    # How far back the first run of a provider looks.
    first_lookback_hours: int = Field(default=24, ge=1, le=24 * 30)
    # Objects whose Relay side changed, checked one by one (the rest wait for the next run).
    max_objects: int = Field(default=2000, ge=1)
    # Pinned summaries of open incidents read each run, least recently verified first.
    slack_spot_checks: int = Field(default=20, ge=0, le=1000)
    # A run that has not finished after this long is taken to have died with its worker.
    run_timeout_seconds: int = Field(default=600, ge=30)


class DeliverySettings(BaseModel):
    max_attempts: int = Field(default=8, ge=1)
    backoff_base_seconds: float = Field(default=2.0, gt=0)
    backoff_max_seconds: float = Field(default=900.0, gt=0)
    # A claimed delivery whose worker vanished becomes claimable again after this long.
    lease_seconds: float = Field(default=60.0, gt=0)
    sweep_interval_seconds: int = Field(default=5, ge=1, le=60)
    http_timeout_seconds: float = Field(default=10.0, gt=0)


Audience = Literal["internal", "external"]
AUDIENCE_INTERNAL: Audience = "internal"


class SmtpSettings(BaseModel):
    # Unset host means sandboxed: messages are recorded on the delivery, not sent.
    host: str | None = None
    port: int = Field(default=587, ge=1, le=65535)
    # "starttls" upgrades a plain connection, "tls" connects with TLS (port 465), "none" sends in clear.
    tls: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    from_address: str = "relay@localhost"
    mailing_list: Annotated[list[str], NoDecode] = Field(default_factory=list)
    # Which status-update audiences the mailing list reads.
    audiences: Annotated[list[Audience], NoDecode] = Field(default_factory=lambda: [AUDIENCE_INTERNAL])
    timeout_seconds: float = Field(default=10.0, gt=0)

    @field_validator("mailing_list", "audiences", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @property
    def configured(self) -> bool:
        return self.host is not None


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class CalendarSettings(BaseModel):
    """When the team works: every rule that counts working time reads this."""

    # Unset: the service's RELAY_TIMEZONE.
    timezone: str | None = None
    working_days: Annotated[list[str], NoDecode] = Field(default_factory=lambda: list(WEEKDAYS[:5]))
    hours: str = Field(default="09:00-17:00", pattern=r"^\d{2}:\d{2}-\d{2}:\d{2}$")
    holidays: Annotated[list[date], NoDecode] = Field(default_factory=list)

    @field_validator("working_days", mode="before")
    @classmethod
    def _split_days(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list):
            days = [str(day).lower()[:3] for day in value]
            unknown = [day for day in days if day not in WEEKDAYS]
            if unknown or not days:
                raise ValueError(f"working days must be some of {', '.join(WEEKDAYS)}")
            return days
        return value

    @field_validator("holidays", mode="before")
    @classmethod
    def _split_holidays(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {value!r}; use a name such as Europe/Paris") from exc
        return value

    @field_validator("hours")
    @classmethod
    def _ordered_hours(cls, value: str) -> str:
        start, end = (int(h) * 60 + int(m) for h, m in (part.split(":") for part in value.split("-")))
        if not 0 <= start < end <= 24 * 60:
            raise ValueError("hours must be HH:MM-HH:MM with the start before the end, at most 24:00")
        return value


class SeverityPolicy(BaseModel):
    """The process clock's rules for one severity."""

    internal_update_minutes: int = Field(default=30, ge=1)
    # None: this severity has no customer-update cadence.
    external_update_minutes: int | None = Field(default=180, ge=1)
    # None: never escalate this severity.
    escalate_after_minutes: int | None = Field(default=30, ge=1)
    retrospective_working_days: int = Field(default=2, ge=1)
    autoclose_working_hours: float = Field(default=48, gt=0)


_SEVERITY_DEFAULTS: dict[str, dict[str, Any]] = {
    "sev1": {"external_update_minutes": 120, "retrospective_working_days": 1},
    "sev2": {"external_update_minutes": 180},
    "sev3": {"external_update_minutes": 240},
}


class PolicySettings(BaseModel):
    """Cadence, escalation, retrospective and auto-close rules, per severity."""

    sev1: SeverityPolicy = Field(default_factory=lambda: SeverityPolicy(**_SEVERITY_DEFAULTS["sev1"]))
    sev2: SeverityPolicy = Field(default_factory=lambda: SeverityPolicy(**_SEVERITY_DEFAULTS["sev2"]))
    sev3: SeverityPolicy = Field(default_factory=lambda: SeverityPolicy(**_SEVERITY_DEFAULTS["sev3"]))
    retrospective_max_days: int = Field(default=7, ge=1)
    # Where the escalation ping goes when the owning team has no Slack channel (else the announcements).
    escalation_channel: str | None = None
    # Prepended to the escalation ping, e.g. "<!subteam^S0ENG>" to notify a user group.
    escalation_mention: str | None = None
    # Keep asking for updates while mitigated (the durable fix may take days: off by default).
    updates_while_mitigated: bool = False
    tick_seconds: int = Field(default=60, ge=1, le=60)

    @model_validator(mode="before")
    @classmethod
    def _merge_severity_defaults(cls, data: Any) -> Any:
        # RELAY_POLICY_SEV3='{"external_update_minutes": 480}' changes one rule and keeps the others.
        if not isinstance(data, dict):
            return data
        merged = dict(data)
        for name, defaults in _SEVERITY_DEFAULTS.items():
            given = merged.get(name)
            if isinstance(given, str):
                given = json.loads(given)
            if isinstance(given, dict):
                merged[name] = {**defaults, **given}
        return merged

    def for_severity(self, severity: str) -> SeverityPolicy:
        policy: SeverityPolicy = getattr(self, severity.lower())
        return policy


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RELAY_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="ignore",
    )

    base_url: str = "http://127.0.0.1:8000"
    timezone: str = "UTC"
    log_level: str = "INFO"
    log_json: bool = False
    # Every inbound webhook or alert larger than this is refused unread (PagerDuty sends up to 256 KB,
    # the Events API v2 takes 512 KB).
    webhook_max_body_bytes: int = Field(default=512_000, ge=1024)

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    pagerduty: PagerDutySettings = Field(default_factory=PagerDutySettings)
    freshdesk: FreshdeskSettings = Field(default_factory=FreshdeskSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    reconciliation: ReconciliationSettings = Field(default_factory=ReconciliationSettings)
    alerting: AlertingSettings = Field(default_factory=AlertingSettings)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    calendar: CalendarSettings = Field(default_factory=CalendarSettings)
    policy: PolicySettings = Field(default_factory=PolicySettings)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        ZoneInfo(value)  # raises with a clear message on an unknown zone
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
