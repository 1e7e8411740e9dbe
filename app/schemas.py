"""Schema pieces shared by every feature: bounded text and cursor pages."""

import base64
import binascii
import json
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, StringConstraints

from app.errors import ValidationFailed, field_error

T = TypeVar("T")

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500, pattern=r"^https?://")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


def encode_cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    """The values inside a cursor made by ``encode_cursor``; a clear 422 when it was tampered with."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != arity:
        raise ValidationFailed(
            "The cursor is not one this API handed out.",
            errors=[field_error("query.cursor", "unknown cursor")],
        )
    return values
