"""Settings, read from the environment (prefix ``RELAY_``) and an optional ``.env`` file."""

from functools import lru_cache
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, SecretStr, field_validator
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
    # Inbound alerts larger than this are refused (the Events API v2 limit is 512 KB).
    max_body_bytes: int = Field(default=512_000, ge=1024)


class DeliverySettings(BaseModel):
    max_attempts: int = Field(default=8, ge=1)
    backoff_base_seconds: float = Field(default=2.0, gt=0)
    backoff_max_seconds: float = Field(default=900.0, gt=0)
    # A claimed delivery whose worker vanished becomes claimable again after this long.
    lease_seconds: float = Field(default=60.0, gt=0)
    sweep_interval_seconds: int = Field(default=5, ge=1, le=60)
    http_timeout_seconds: float = Field(default=10.0, gt=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="RELAY_",
        env_file=".env",
        env_file_encoding="utf-8",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="ignore",
    )

    environment: Literal["development", "production", "test"] = "development"
    base_url: str = "http://127.0.0.1:8000"
    timezone: str = "UTC"
    log_level: str = "INFO"
    log_json: bool = False

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    redis: RedisSettings = Field(default_factory=RedisSettings)
    slack: SlackSettings = Field(default_factory=SlackSettings)
    pagerduty: PagerDutySettings = Field(default_factory=PagerDutySettings)
    freshdesk: FreshdeskSettings = Field(default_factory=FreshdeskSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    alerting: AlertingSettings = Field(default_factory=AlertingSettings)

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
