"""The storage contract the service layer depends on; `tests/store` runs it against every backend."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from openliveness.domain import (
    ApiKeyRecord,
    AttemptRecord,
    AuditEntryRecord,
    ReferenceFace,
    SessionImageRecord,
    SessionKind,
    SessionRecord,
    StoredVerifyImage,
)

__all__ = ["AttemptRejected", "CounterIncrement", "SessionStore"]


class AttemptRejected(Exception):
    """`start_attempt` refused: the session is gone, its token has expired, or no attempts are left."""


@dataclass(frozen=True, slots=True)
class CounterIncrement:
    """One more event on a rate-limit counter, in the same transaction as a write that happens only if
    `allows(current, previous)` (the counts after the increment). See sessions/limits.py."""

    key: str
    window_start: int
    window_seconds: int
    allows: Callable[[int, int], bool]


class SessionStore(Protocol):
    async def create_session(
        self, session: SessionRecord, verify_image: StoredVerifyImage | None, *, counter: CounterIncrement | None = None
    ) -> tuple[int, int] | None:
        """Insert the session; with `counter`, count first and insert only if it allows. Returns the counter's
        (current, previous) counts when one was given."""
        ...

    async def get_session(self, session_id: str) -> SessionRecord | None: ...

    async def list_sessions(self, kind: SessionKind, *, after: str | None, limit: int) -> list[SessionRecord]:
        """Sessions of one kind ordered by id, those with id greater than `after`."""
        ...

    async def delete_session(self, session_id: str) -> bool:
        """Remove the session with its attempts, audit entries and images; False when there was none."""
        ...

    async def get_verify_image(self, session_id: str) -> StoredVerifyImage | None: ...

    async def set_verify_image(self, session_id: str, image: StoredVerifyImage) -> bool:
        """Attach a reference image the client supplied; False if the session already has one."""
        ...

    async def update_reference_face(self, session_id: str, face: ReferenceFace) -> None: ...

    async def start_attempt(self, attempt: AttemptRecord, *, max_attempts: int, now: datetime) -> AttemptRecord:
        """Atomically take the session's next attempt (number assigned here) or raise AttemptRejected."""
        ...

    async def get_attempt(self, attempt_id: str) -> AttemptRecord | None: ...

    async def claim_attempt(self, attempt_id: str) -> bool:
        """Mark an unused attempt as taken by a detect call, atomically; False if it was already taken."""
        ...

    async def digest_seen(self, digest: str) -> bool:
        """Whether any stored audit entry has this payload digest (a replayed upload)."""
        ...

    async def set_device_correlation_id(self, session_id: str, device_correlation_id: str) -> bool:
        """Set the device id a client supplies, once (for sessions created with deviceCorrelationIdSetInClient)."""
        ...

    async def complete_attempt(
        self, attempt_id: str, entry: AuditEntryRecord, image: SessionImageRecord | None
    ) -> AuditEntryRecord | None:
        """Store the attempt's audit entry (and image) and make it the session's result, in one transaction,
        exactly once per attempt (claimed or not). Returns the stored entry with its id, or None if the attempt
        already has a result."""
        ...

    async def list_audit_entries(self, session_id: str, *, after: int | None, limit: int) -> list[AuditEntryRecord]: ...

    async def get_audit_entry(self, entry_id: int) -> AuditEntryRecord | None: ...

    async def get_session_image(self, image_id: str) -> SessionImageRecord | None: ...

    async def add_api_key(self, key: ApiKeyRecord) -> None: ...

    async def get_api_key(self, key_id: str) -> ApiKeyRecord | None: ...

    async def list_api_keys(self) -> list[ApiKeyRecord]: ...

    async def revoke_api_key(self, key_id: str, now: datetime) -> bool: ...

    async def ping(self) -> None:
        """Raise if the database cannot be reached."""
        ...

    async def close(self) -> None: ...
