"""Tests move a frozen clock instead of sleeping."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from app import clock
from app.clock import FrozenClock


@contextmanager
def frozen_at(start: datetime) -> Iterator[FrozenClock]:
    """Install a frozen clock at ``start`` for the duration of the block."""
    frozen = FrozenClock(start)
    clock.install(frozen)
    try:
        yield frozen
    finally:
        clock.install(clock.Clock())
