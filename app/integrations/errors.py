"""How a provider call failed: worth retrying, or not."""


class ProviderError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TransientError(ProviderError):
    """Timeouts, 5xx, 429: try again later, no sooner than ``retry_after`` seconds when given."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(ProviderError):
    """The provider refused the request and will refuse it again."""
