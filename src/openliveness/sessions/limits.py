"""Anti-hammer limits (Azure's `deviceCorrelationId` abuse protection): sliding-window counts per device id and
per client address, kept in the database so that every server process enforces the same numbers.

Each limit counts events in fixed windows and estimates the sliding window as the current window's count plus
the previous window's count weighted by how much of it still overlaps (the "sliding window counter"): one row
per key whatever the traffic, one statement per count, and an error of at most one window's skew. A limit
guarding a write (sessions per device) is counted inside that write's transaction (`increment`). Counts are
keyed by an HMAC of the subject, so the database holds neither addresses nor device ids.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Protocol

from openliveness.errors import TooManyRequests
from openliveness.metrics import RATE_LIMITED
from openliveness.store.protocol import CounterIncrement

__all__ = ["CounterStore", "Limit", "LimitPolicy", "RateLimiter"]


class CounterStore(Protocol):
    async def add_to_counter(self, key: str, window_start: int, window_seconds: int, amount: int) -> tuple[int, int]:
        """Add `amount` (0: just read) to the counter of (key, window); return (this window, previous window)."""
        ...


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `max_events` per `window_seconds` for one subject; `max_events` 0 switches the limit off."""

    name: str
    max_events: int
    window_seconds: int

    @property
    def enabled(self) -> bool:
        return self.max_events > 0


@dataclass(frozen=True, slots=True)
class LimitPolicy:
    """The configured limits (see `Settings`); each applies per subject (a device id or a client address)."""

    sessions_per_device: Limit
    failed_attempts_per_device: Limit
    failed_attempts_per_ip: Limit
    attempts_per_ip: Limit
    guidance_per_ip: Limit

    @property
    def longest_window_seconds(self) -> int:
        return max(int(getattr(self, f.name).window_seconds) for f in fields(self))


class RateLimiter:
    """`hit` counts an event and refuses it when over the limit (refused events count too: a client that keeps
    hammering stays blocked); `check` refuses without counting and `record` counts without refusing, for limits
    on outcomes (failed attempts) that are known only after the work is done."""

    def __init__(self, store: CounterStore, secret: bytes, policy: LimitPolicy, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._secret = secret
        self.policy = policy
        self._clock = clock

    async def hit(self, limit: Limit, subject: str | None) -> None:
        await self._count(limit, subject, amount=1)

    async def check(self, limit: Limit, subject: str | None) -> None:
        await self._count(limit, subject, amount=0)

    async def record(self, limit: Limit, subject: str | None) -> None:
        await self._count(limit, subject, amount=1, enforce=False)

    def increment(self, limit: Limit, subject: str | None) -> CounterIncrement | None:
        """A hit for the store to count inside the write it guards (see `raise_if_refused`); None if unlimited."""
        if not limit.enabled or not subject:
            return None
        window_start, elapsed = self._window(limit)
        return CounterIncrement(
            key=self._key(limit, subject),
            window_start=window_start,
            window_seconds=limit.window_seconds,
            allows=lambda current, previous: _allowed(limit, previous, current - 1, elapsed),
        )

    def raise_if_refused(self, limit: Limit, increment: CounterIncrement, counts: tuple[int, int]) -> None:
        current, previous = counts
        if not increment.allows(current, previous):
            raise self._refusal(limit, previous, current, self._window(limit)[1])

    async def _count(self, limit: Limit, subject: str | None, *, amount: int, enforce: bool = True) -> None:
        if not limit.enabled or not subject:
            return
        window_start, elapsed = self._window(limit)
        current, previous = await self._store.add_to_counter(
            self._key(limit, subject), window_start, limit.window_seconds, amount
        )
        # A hit is allowed when the events before it are under the limit; a check when one more would be.
        if enforce and not _allowed(limit, previous, current - amount, elapsed):
            raise self._refusal(limit, previous, current, elapsed)

    @staticmethod
    def _refusal(limit: Limit, previous: int, current: int, elapsed: float) -> TooManyRequests:
        RATE_LIMITED.labels(limit=limit.name).inc()
        retry_after = _seconds_until_allowed(previous, current, elapsed, limit)
        return TooManyRequests(
            f"Too many requests for this device or address ({limit.name.replace('_', ' ')}); "
            f"retry after {retry_after} seconds.",
            retry_after_seconds=retry_after,
        )

    def _window(self, limit: Limit) -> tuple[int, float]:
        now = self._clock().timestamp()
        start = int(now // limit.window_seconds) * limit.window_seconds
        return start, now - start

    def _key(self, limit: Limit, subject: str) -> str:
        message = f"{limit.name}\0{subject}".encode()
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()[:48]


def _allowed(limit: Limit, previous: int, before: int, elapsed: float) -> bool:
    """Whether the sliding-window estimate of the events before this one is under the limit."""
    return previous * (1 - elapsed / limit.window_seconds) + before < limit.max_events


def _seconds_until_allowed(previous: int, current: int, elapsed: float, limit: Limit) -> int:
    """How long until the estimate falls under the limit if nothing more arrives (the temporary block)."""
    window, most = limit.window_seconds, limit.max_events
    if current < most and previous > 0:
        # Still in this window: the previous window's weight has to fade enough.
        at = window * (1 - (most - current) / previous)
    else:
        # Only in a later window, once this window's own count has faded under the limit.
        at = window + window * max(0.0, 1 - most / current) if current else float(window)
    # Strictly after the boundary: at the boundary itself the estimate still equals the limit.
    return max(1, math.floor(at - elapsed) + 1)
