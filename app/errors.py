"""Application errors carry their HTTP status; one handler renders them as RFC 9457 problem+json."""

from collections.abc import Sequence
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://relay.dev/problems/"


class AppError(Exception):
    """Base of every error the API answers with on purpose."""

    status: int = 400
    type: str = "bad-request"
    title: str = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        errors: Sequence[dict[str, Any]] = (),
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = list(errors)
        self.headers = headers or {}
        self.extra = extra


class NotFound(AppError):
    status = 404
    type = "not-found"
    title = "Not found"


class Conflict(AppError):
    status = 409
    type = "conflict"
    title = "Conflict"


class InvalidTransition(AppError):
    status = 409
    type = "invalid-transition"
    title = "Transition not allowed"


class DuplicateIncident(AppError):
    status = 409
    type = "duplicate-incident"
    title = "An open incident already covers this"


class StaleVersion(AppError):
    status = 412
    type = "stale-version"
    title = "The resource changed since you read it"


class PreconditionRequired(AppError):
    status = 428
    type = "precondition-required"
    title = "If-Match required"


class Unauthorized(AppError):
    status = 401
    type = "unauthorized"
    title = "Authentication required"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="relay"'})


class Forbidden(AppError):
    status = 403
    type = "forbidden"
    title = "Not allowed"


class InvalidSignature(AppError):
    status = 401
    type = "invalid-signature"
    title = "The request is not signed or authenticated as expected"


class UnreadableBody(AppError):
    status = 400
    type = "unreadable-body"
    title = "The request body could not be read"


class PayloadTooLarge(AppError):
    status = 413
    type = "payload-too-large"
    title = "The request body is too large"


class NotConfigured(AppError):
    """Relay's own configuration is at fault: a 5xx, so that a webhook sender retries meanwhile."""

    status = 503
    type = "not-configured"
    title = "This endpoint is not configured"


class ValidationFailed(AppError):
    status = 422
    type = "validation-error"
    title = "The request is not valid"


def field_error(field: str, message: str) -> dict[str, str]:
    """One entry of a problem's ``errors`` list."""
    return {"field": field, "message": message}


def problem(
    status: int,
    type_: str,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    errors: Sequence[dict[str, Any]] = (),
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + type_,
        "title": title,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = list(errors)
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _location(loc: Sequence[int | str]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header"}:
        where, rest = parts[0], parts[1:]
        return ".".join(rest) if where == "body" and rest else ".".join([where, *rest])
    return ".".join(parts)


def problem_for(request: Request, exc: AppError) -> JSONResponse:
    """The problem+json answer for an application error."""
    return problem(
        exc.status,
        exc.type,
        exc.title,
        exc.detail,
        instance=request.url.path,
        errors=exc.errors,
        headers=exc.headers,
        **exc.extra,
    )


async def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    return problem_for(request, exc)


def _field_error(err: dict[str, Any]) -> dict[str, str]:
    if err.get("type") == "json_invalid":
        position = err.get("loc", ("body", "?"))[-1]
        return field_error("body", f"malformed JSON near character {position}")
    return field_error(_location(err.get("loc", ())), str(err.get("msg", "")))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [_field_error(err) for err in exc.errors()]
    fields = ", ".join(e["field"] for e in errors) or "body"
    return problem(
        ValidationFailed.status,
        ValidationFailed.type,
        ValidationFailed.title,
        f"Check these fields: {fields}.",
        instance=request.url.path,
        errors=errors,
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    return problem(
        exc.status_code,
        slug,
        str(exc.detail),
        str(exc.detail),
        instance=request.url.path,
        headers=dict(exc.headers or {}),
    )


async def _store_unavailable(request: Request, exc: Exception) -> JSONResponse:
    # Our fault and temporary: a 5xx makes webhook senders retry instead of dropping the event.
    log.warning("database_unavailable", path=request.url.path, error=type(exc).__name__)
    return problem(
        503,
        "unavailable",
        "Relay cannot reach its database",
        "Relay could not store this request; nothing was changed. Try again shortly.",
        instance=request.url.path,
        headers={"Retry-After": "5"},
    )


# A database that is down or unreachable surfaces as one of these.
STORE_UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, ConnectionError, TimeoutError)


def install_handlers(app: FastAPI) -> None:
    """Render every error as problem+json."""
    for exc_type in STORE_UNAVAILABLE:
        app.add_exception_handler(exc_type, _store_unavailable)
    app.add_exception_handler(AppError, _app_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
