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


class FreshdeskSettings(BaseModel):
    url: str = "https://example.freshdesk.com"
    api_key: SecretStr | None = None
    webhook_secrets: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)

    _split = field_validator("webhook_secrets", mode="before")(_split_secrets)

    @property
    def configured(self) -> bool:
        return self.api_key is not None


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
