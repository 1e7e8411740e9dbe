"""Shared HTTP plumbing for the provider clients."""

from collections.abc import Mapping
from email.utils import parsedate_to_datetime

import httpx

from app import clock
from app.integrations.errors import PermanentError, TransientError

USER_AGENT = "Relay/0.1 (+https://relay.dev)"
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


def build_http_client(
    base_url: str,
    *,
    timeout: float,
    headers: Mapping[str, str] | None = None,
    auth: httpx.Auth | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """One pooled client per provider, made once per process."""
    return httpx.AsyncClient(
        base_url=base_url.rstrip("/") + "/",
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        headers={"User-Agent": USER_AGENT, **(headers or {})},
        auth=auth,
        transport=transport,
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
    )


def retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or HTTP date) or ``ratelimit-reset``."""
    value = response.headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, (parsedate_to_datetime(value) - clock.now()).total_seconds())
            except (TypeError, ValueError):
                return None
    reset = response.headers.get("ratelimit-reset")
    if reset:
        try:
            return max(0.0, float(reset))
        except ValueError:
            return None
    return None


def check(response: httpx.Response) -> httpx.Response:
    """Classify an error response as transient or permanent; pass a success through."""
    if response.is_success:
        return response
    excerpt = response.text[:500]
    message = (
        f"HTTP {response.status_code} from {response.request.method} {response.request.url.path}: {excerpt}"
    )
    if response.status_code in TRANSIENT_STATUSES or response.status_code >= 500:
        raise TransientError(message, retry_after=retry_after(response))
    raise PermanentError(message)


async def request(client: httpx.AsyncClient, method: str, path: str, **kwargs: object) -> httpx.Response:
    """Make one call and return whatever answered; network failures and timeouts are transient."""
    try:
        return await client.request(method, path.lstrip("/"), **kwargs)  # type: ignore[arg-type]
    except httpx.TimeoutException as exc:
        raise TransientError(f"timed out calling {method} {path}") from exc
    except httpx.TransportError as exc:
        raise TransientError(f"could not reach the provider for {method} {path}: {exc}") from exc


async def send(client: httpx.AsyncClient, method: str, path: str, **kwargs: object) -> httpx.Response:
    """Make one call; network failures and timeouts are transient, error answers classified."""
    return check(await request(client, method, path, **kwargs))
