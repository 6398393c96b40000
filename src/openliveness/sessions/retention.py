"""Retention: sessions past their lifetime are removed with everything they own (attempts, audit entries,
reference and session images, recorded captures), plus rate-limit counters nobody reads any more.

Every server process runs `run_forever` (on PostgreSQL one purges at a time); `openliveness purge` does one
pass from a scheduler instead. Recorded captures live in each host's data directory, so each process also ages
out its own host's files, whichever process removed the rows."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import anyio.to_thread

from openliveness.metrics import PURGED
from openliveness.sessions.recording import CaptureRecorder

__all__ = ["PurgeReport", "RetentionService"]

log = logging.getLogger("openliveness.retention")


class PurgeStore(Protocol):
    async def purge_expired(self, now: datetime, *, batch: int = ...) -> list[str]: ...

    async def purge_counters(self, before: int) -> int: ...


@dataclass(frozen=True, slots=True)
class PurgeReport:
    sessions: int
    counters: int
    recordings: int


class RetentionService:
    def __init__(
        self,
        store: PurgeStore,
        *,
        clock: Callable[[], datetime],
        session_lifetime: timedelta,
        counter_horizon: timedelta,
        on_delete: Sequence[Callable[[str], None]] = (),
        recorder: CaptureRecorder | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._lifetime = session_lifetime
        self._counter_horizon = counter_horizon
        self._on_delete = tuple(on_delete)
        self._recorder = recorder

    async def purge(self) -> PurgeReport:
        """One full pass; safe to run from any number of processes at once."""
        now = self._clock()
        removed = 0
        while True:
            ids = await self._store.purge_expired(now)
            for session_id in ids:
                for forget in self._on_delete:
                    await anyio.to_thread.run_sync(forget, session_id)
            removed += len(ids)
            if not ids:
                break
        counters = await self._store.purge_counters(int((now - self._counter_horizon).timestamp()))
        recordings = 0
        if self._recorder is not None:
            recordings = await anyio.to_thread.run_sync(self._recorder.purge_older_than, now - self._lifetime)
        PURGED.inc(removed)
        return PurgeReport(sessions=removed, counters=counters, recordings=recordings)

    async def run_forever(self, interval_seconds: float) -> None:
        """Purge every `interval_seconds` (jittered, so processes started together do not purge together)."""
        while True:
            await asyncio.sleep(interval_seconds * random.uniform(0.5, 1.0))
            try:
                report = await self.purge()
            except Exception as exc:  # the database may be down for a while: try again next time
                log.warning("retention pass failed: %s", type(exc).__name__)
                continue
            if report.sessions or report.recordings:
                log.info(
                    "retention removed %d expired sessions, %d recordings, %d counters",
                    report.sessions,
                    report.recordings,
                    report.counters,
                )
