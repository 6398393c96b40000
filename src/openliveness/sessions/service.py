"""The session lifecycle: create, read, list, audit, delete; client tokens, attempts, expiry and audit entries."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import anyio.to_thread

from openliveness.cpu import CpuPool
from openliveness.domain import (
    AttemptRecord,
    AuditEntryRecord,
    LivenessOperationMode,
    ReferenceFace,
    SessionImageRecord,
    SessionKind,
    SessionRecord,
    StoredVerifyImage,
)
from openliveness.errors import (
    ConcurrentOperationConflict,
    SessionImageNotFound,
    SessionNotFound,
    Unauthorized,
)
from openliveness.sessions.limits import RateLimiter
from openliveness.sessions.tokens import TokenSigner
from openliveness.store.protocol import AttemptRejected, SessionStore

__all__ = [
    "CreatedSession",
    "ReferenceAnalyzer",
    "SessionParameters",
    "SessionService",
    "SessionView",
]


class ReferenceAnalyzer(Protocol):
    """Checks a verification reference image and finds its one face; raises InvalidImage / InvalidImageSize."""

    def __call__(self, data: bytes) -> ReferenceFace: ...


@dataclass(frozen=True, slots=True)
class SessionParameters:
    """A create request after wire validation (see `api/schemas.py`)."""

    operation_mode: LivenessOperationMode
    send_results_to_client: bool = False
    device_correlation_id: str | None = None
    device_correlation_id_set_in_client: bool = False
    enable_session_image: bool = False
    liveness_model: str | None = None
    auth_token_ttl_seconds: int = 600
    return_verify_image_hash: bool = False
    verify_confidence_threshold: float | None = None


@dataclass(frozen=True, slots=True)
class CreatedSession:
    session: SessionRecord
    auth_token: str


@dataclass(frozen=True, slots=True)
class SessionView:
    session: SessionRecord
    result: AuditEntryRecord | None
    session_expired: bool


class SessionService:
    """Owns every rule about sessions; routes call one method each, the store only persists."""

    def __init__(
        self,
        store: SessionStore,
        tokens: TokenSigner,
        *,
        analyze_reference: ReferenceAnalyzer,
        cpu: CpuPool,
        limiter: RateLimiter | None = None,
        session_lifetime: timedelta = timedelta(hours=48),
        max_attempts: int = 3,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        on_delete: Sequence[Callable[[str], None]] = (),
    ) -> None:
        self._on_delete = tuple(on_delete)  # what else holds a session's data (recorded captures)
        self._store = store
        self._tokens = tokens
        self._analyze_reference = analyze_reference
        self._cpu = cpu
        self._limiter = limiter
        self._lifetime = session_lifetime
        self._max_attempts = max_attempts
        self._clock = clock

    @property
    def max_attempts(self) -> int:
        return self._max_attempts

    @property
    def limiter(self) -> RateLimiter | None:
        return self._limiter

    def now(self) -> datetime:
        return self._clock()

    # -- app-server operations (API key) --------------------------------------------------------------------

    async def create(
        self, kind: SessionKind, params: SessionParameters, *, verify_image: bytes | None = None
    ) -> CreatedSession:
        now = self._clock()
        stored_image = None
        if verify_image is not None:
            stored_image = await self._check_reference(verify_image)
        session = SessionRecord(
            id=str(uuid.uuid4()),
            kind=kind,
            created_at=now,
            token_expires_at=now + timedelta(seconds=params.auth_token_ttl_seconds),
            expires_at=now + self._lifetime,
            auth_token_ttl_seconds=params.auth_token_ttl_seconds,
            operation_mode=params.operation_mode,
            send_results_to_client=params.send_results_to_client,
            device_correlation_id=params.device_correlation_id,
            device_correlation_id_set_in_client=params.device_correlation_id_set_in_client,
            enable_session_image=params.enable_session_image,
            liveness_model=params.liveness_model,
            return_verify_image_hash=params.return_verify_image_hash,
            verify_confidence_threshold=params.verify_confidence_threshold,
            has_verify_image=stored_image is not None,
            verify_image_sha256=stored_image.sha256 if stored_image else None,
            reference_face=stored_image.face if stored_image else None,
        )
        limiter, increment = self._limiter, None
        if limiter is not None:
            increment = limiter.increment(limiter.policy.sessions_per_device, params.device_correlation_id)
        counts = await self._store.create_session(session, stored_image, counter=increment)
        if limiter is not None and increment is not None and counts is not None:
            limiter.raise_if_refused(limiter.policy.sessions_per_device, increment, counts)
        return CreatedSession(session=session, auth_token=self._tokens.issue(session))

    async def get(self, kind: SessionKind, session_id: str) -> SessionView:
        session = await self._live_session(kind, session_id)
        result = None
        if session.result_audit_id is not None:
            result = await self._store.get_audit_entry(session.result_audit_id)
        return SessionView(session=session, result=result, session_expired=self._clock() >= session.token_expires_at)

    async def list_sessions(self, kind: SessionKind, *, start: str | None, top: int) -> list[SessionView]:
        now = self._clock()
        # Expired sessions are skipped, not counted: fetch until `top` live ones or the end.
        views: list[SessionView] = []
        after = start
        while len(views) < top:
            batch = await self._store.list_sessions(kind, after=after, limit=top - len(views))
            if not batch:
                break
            views += [
                SessionView(session=s, result=None, session_expired=now >= s.token_expires_at)
                for s in batch
                if now < s.expires_at
            ]
            after = batch[-1].id
        return views

    async def audit_entries(
        self, kind: SessionKind, session_id: str, *, start: int | None, top: int
    ) -> list[AuditEntryRecord]:
        await self._live_session(kind, session_id)
        return await self._store.list_audit_entries(session_id, after=start, limit=top)

    async def delete(self, kind: SessionKind, session_id: str) -> None:
        """Remove the session and everything it owns; its token stops working at once."""
        session = await self._store.get_session(session_id)
        if session is None or session.kind != kind:
            raise SessionNotFound()
        await self._store.delete_session(session_id)
        for forget in self._on_delete:
            await anyio.to_thread.run_sync(forget, session_id)

    async def session_image(self, image_id: str) -> SessionImageRecord:
        image = await self._store.get_session_image(image_id)
        if image is None:
            raise SessionImageNotFound()
        session = await self._store.get_session(image.session_id)
        if session is None or self._clock() >= session.expires_at:
            raise SessionImageNotFound()
        return image

    # -- client operations (session token) ------------------------------------------------------------------

    async def authenticate_client(self, token: str, kind: SessionKind) -> SessionRecord:
        """The session a client token may act on: signature, expiry, kind and existence all checked."""
        now = self._clock()
        claims = self._tokens.verify(token, now=now)
        if claims.kind != kind:
            raise Unauthorized("The session token is not valid for this operation.")
        session = await self._store.get_session(claims.session_id)
        if session is None or session.kind != kind or now >= session.expires_at:
            raise Unauthorized("The session of this token no longer exists.")
        return session

    async def start_attempt(
        self, session: SessionRecord, challenge: dict[str, Any], *, valid_for: timedelta
    ) -> AttemptRecord:
        """Take the session's next attempt (at most `max_attempts`, counted atomically in the store)."""
        now = self._clock()
        attempt = AttemptRecord(
            id=str(uuid.uuid4()),
            session_id=session.id,
            number=0,
            created_at=now,
            expires_at=min(now + valid_for, session.token_expires_at),
            challenge=challenge,
        )
        try:
            return await self._store.start_attempt(attempt, max_attempts=self._max_attempts, now=now)
        except AttemptRejected:
            raise Unauthorized(
                f"No attempts left: a session allows {self._max_attempts} attempts while its token is valid."
            ) from None

    async def open_attempt(self, session: SessionRecord, attempt_id: str) -> AttemptRecord:
        """The attempt a capture answers: it must belong to this session, be unused and not past its deadline."""
        attempt = await self._store.get_attempt(attempt_id)
        if attempt is None or attempt.session_id != session.id:
            raise Unauthorized("The attempt does not belong to this session.")
        if attempt.used:
            raise ConcurrentOperationConflict("This attempt has already been used; start a new attempt.")
        if self._clock() >= attempt.expires_at:
            raise Unauthorized("The attempt's deadline has passed; start a new attempt.")
        return attempt

    async def record_result(
        self,
        session: SessionRecord,
        attempt: AttemptRecord,
        entry: AuditEntryRecord,
        image: SessionImageRecord | None = None,
    ) -> AuditEntryRecord:
        """Store a detect call's audit entry as the session's result; the attempt is consumed exactly once."""
        if session.return_verify_image_hash and session.verify_image_sha256:
            entry = replace(entry, verify_image_hash=session.verify_image_sha256)
        stored = await self._store.complete_attempt(attempt.id, entry, image)
        if stored is None:
            raise ConcurrentOperationConflict("This attempt has already been used; start a new attempt.")
        return stored

    async def attach_client_reference(self, session: SessionRecord, data: bytes) -> StoredVerifyImage:
        """A with-verify session created without a reference image gets it from the client, once."""
        image = await self._check_reference(data)
        if not await self._store.set_verify_image(session.id, image):
            existing = await self._store.get_verify_image(session.id)
            assert existing is not None
            return existing
        return image

    # -- helpers --------------------------------------------------------------------------------------------

    async def _live_session(self, kind: SessionKind, session_id: str) -> SessionRecord:
        session = await self._store.get_session(session_id)
        # A session past its lifetime reads as gone even before retention has purged it.
        if session is None or session.kind != kind or self._clock() >= session.expires_at:
            raise SessionNotFound()
        return session

    async def _check_reference(self, data: bytes) -> StoredVerifyImage:
        # Decoding, limits and face finding are CPU work: off the event loop, at most `cpu_workers` at once.
        face = await self._cpu.run("reference", self._analyze_reference, data)
        return StoredVerifyImage(content=data, sha256=hashlib.sha256(data).hexdigest(), face=face)
