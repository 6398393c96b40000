"""The client side of a session (session token): start an attempt with a fresh challenge, guidance frames, and
the detect call that runs the engine, verifies the face and records the audit entry."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio.to_thread
import numpy as np

from openliveness.cpu import CpuPool
from openliveness.domain import (
    ENGINE_MODEL_VERSION,
    AttemptRecord,
    AuditEntryRecord,
    LivenessDecision,
    ReferenceFace,
    SessionImageRecord,
    SessionKind,
    SessionRecord,
)
from openliveness.errors import (
    BadArgument,
    ConcurrentOperationConflict,
    InvalidDeviceCorrelationId,
    InvalidImage,
    OpenLivenessError,
)
from openliveness.liveness import Capture, CaptureFrame, Challenge, new_challenge
from openliveness.liveness.engine_api import LivenessEvaluator
from openliveness.liveness.types import MIN_JPEG_QUALITY
from openliveness.metrics import ATTEMPTS, DECISIONS
from openliveness.sessions.guidance import HINT_MESSAGES, guidance_hint, main_face_box
from openliveness.sessions.limits import RateLimiter
from openliveness.sessions.recording import CaptureRecorder
from openliveness.sessions.service import SessionService
from openliveness.store.protocol import SessionStore
from openliveness.vision import FaceAnalyzer, ImageLimits, decode_image, embedding_from_bytes, jpeg_quality, verify
from openliveness.vision.verify import DEFAULT_VERIFY_CONFIDENCE_THRESHOLD

__all__ = [
    "AttemptService",
    "DetectOutcome",
    "DetectRequest",
    "FramePart",
    "Guidance",
    "StartedAttempt",
    "payload_digest",
]

# After the challenge's own duration, how long the client has to upload the capture.
UPLOAD_GRACE = timedelta(seconds=30)
FRAME_LIMITS = ImageLimits(min_bytes=100, max_bytes=1024 * 1024, min_side=64, max_side=1280, max_pixels=1280 * 960)
GUIDANCE_LIMITS = ImageLimits(min_bytes=100, max_bytes=256 * 1024, min_side=64, max_side=1280, max_pixels=1280 * 960)


@dataclass(frozen=True, slots=True)
class StartedAttempt:
    attempt: AttemptRecord
    challenge: Challenge
    attempts_remaining: int


@dataclass(frozen=True, slots=True)
class Guidance:
    hint: str
    message: str
    face_rectangle: dict[str, int] | None


@dataclass(frozen=True, slots=True)
class FramePart:
    data: bytes
    timestamp_ms: float
    step_index: int | None


@dataclass(frozen=True, slots=True)
class DetectRequest:
    """A detect call as the API layer read it (sizes and counts already within limits)."""

    attempt_id: str
    frames: Sequence[FramePart]
    verify_image: bytes | None
    device_correlation_id: str | None
    digest: str
    request_id: str
    client_request_id: str
    received_at: datetime
    request_info: dict[str, Any]
    client_ip: str | None = None


@dataclass(frozen=True, slots=True)
class DetectOutcome:
    entry: AuditEntryRecord
    client_body: dict[str, Any] | None  # None: answer 204 (the session keeps results from the client)


class AttemptService:
    """Session rules (attempt count, expiry, ownership) stay with `SessionService`; this adds the challenge,
    the engine and verification around them."""

    def __init__(
        self,
        sessions: SessionService,
        store: SessionStore,
        engine: LivenessEvaluator,
        analyzer: FaceAnalyzer,
        *,
        cpu: CpuPool,
        limiter: RateLimiter | None = None,
        recorder: CaptureRecorder | None = None,
    ) -> None:
        self._recorder = recorder
        self._sessions = sessions
        self._store = store
        self._engine = engine
        self._analyzer = analyzer
        self._cpu = cpu
        self._limiter = limiter

    def now(self) -> datetime:
        return self._sessions.now()

    async def start(
        self, session: SessionRecord, *, device_correlation_id: str | None, client_ip: str | None = None
    ) -> StartedAttempt:
        limits = self._limiter
        if limits is not None:
            await limits.hit(limits.policy.attempts_per_ip, client_ip)
            await limits.check(limits.policy.failed_attempts_per_ip, client_ip)
        device = session.device_correlation_id
        if session.device_correlation_id_set_in_client and device is None:
            if not device_correlation_id or len(device_correlation_id) > 64:
                raise InvalidDeviceCorrelationId(
                    "This session expects the client to supply deviceCorrelationId (1 to 64 characters)."
                )
            if await self._store.set_device_correlation_id(session.id, device_correlation_id) and limits:
                # The session's device is known only now: it counts against that device's sessions here.
                await limits.hit(limits.policy.sessions_per_device, device_correlation_id)
            device = device_correlation_id
        if limits is not None:
            await limits.check(limits.policy.failed_attempts_per_device, device)
        challenge = new_challenge(session.operation_mode)
        valid_for = timedelta(milliseconds=challenge.total_ms) + UPLOAD_GRACE
        attempt = await self._sessions.start_attempt(session, challenge.to_json(), valid_for=valid_for)
        ATTEMPTS.labels(mode=session.operation_mode.value).inc()
        return StartedAttempt(
            attempt=attempt,
            challenge=challenge,
            attempts_remaining=max(0, self._sessions.max_attempts - attempt.number),
        )

    async def guidance(self, data: bytes, *, client_ip: str | None = None) -> Guidance:
        if self._limiter is not None:
            await self._limiter.hit(self._limiter.policy.guidance_per_ip, client_ip)
        return await self._cpu.run("guidance", self._guidance, data)

    def _guidance(self, data: bytes) -> Guidance:
        image = decode_image(data, GUIDANCE_LIMITS)
        faces = self._analyzer.detect(image)
        box = main_face_box(faces)
        hint = guidance_hint(image, faces_found=len(faces), box=box)
        return Guidance(hint=hint, message=HINT_MESSAGES[hint], face_rectangle=box)

    async def detect(self, kind: SessionKind, session: SessionRecord, request: DetectRequest) -> DetectOutcome:
        attempt = await self._sessions.open_attempt(session, request.attempt_id)
        challenge = Challenge.from_json(attempt.challenge)
        if len(request.frames) > challenge.max_frames:
            raise BadArgument(f"At most {challenge.max_frames} frames may be sent for this challenge.")
        if await self._store.digest_seen(request.digest):
            await self._count_failure(session, request.client_ip)
            raise ConcurrentOperationConflict("This capture has been submitted before; start a new attempt.")
        reference = await self._reference(kind, session, request.verify_image)
        # Headers only, before the attempt is claimed: a client encoding too coarsely is told so and keeps it.
        await self._cpu.run("decode", _check_frame_encoding, request.frames)
        # Claimed before any costly work: concurrent or repeated calls for one attempt cost the decoding and
        # the engine once, not N times. A capture with an undecodable frame therefore uses up its attempt.
        if not await self._store.claim_attempt(attempt.id):
            raise ConcurrentOperationConflict("This attempt has already been used; start a new attempt.")
        capture = await self._cpu.run("decode", _decode_capture, request.frames, self._cpu.parts)
        result = await self._cpu.run("liveness", self._engine.evaluate, challenge, capture)
        for reason in result.reasons or ("none",):
            DECISIONS.labels(decision=result.decision.value, reason=reason).inc()
        if result.decision is not LivenessDecision.REAL_FACE:
            await self._count_failure(session, request.client_ip)

        body: dict[str, Any] = {"livenessDecision": result.decision.value}
        best = result.best_frame_index
        if result.face_rectangle is not None and best is not None:
            body["target"] = {
                "faceRectangle": result.face_rectangle,
                "fileName": f"frame{best}.jpg",
                "timeOffsetWithinFile": round(capture.frames[best].timestamp_ms),
                "imageType": "Color",
            }
        body["modelVersionUsed"] = ENGINE_MODEL_VERSION
        if reference is not None and capture.frames:
            # The engine's best frame; without one (e.g. a refused capture) the middle frame still says who it is.
            probe_index = best if best is not None else len(capture.frames) // 2
            verify_result = await self._cpu.run(
                "verify",
                self._verify,
                reference,
                capture.frames[probe_index].image,
                session.verify_confidence_threshold,
            )
            if verify_result is not None:
                body["verifyResult"] = verify_result

        image = None
        if session.enable_session_image and best is not None:
            image = SessionImageRecord(
                id=str(uuid.uuid4()),
                session_id=session.id,
                content=request.frames[best].data,
                media_type="image/jpeg",
                created_at=self._sessions.now(),
            )
        status = 200 if session.send_results_to_client else 204
        audit_body = {**body, "signals": dict(result.scores), "reasons": list(result.reasons)}
        entry = AuditEntryRecord(
            session_id=session.id,
            request_id=request.request_id,
            client_request_id=request.client_request_id,
            received_at=request.received_at,
            request=request.request_info,
            response={
                "body": audit_body,
                "statusCode": status,
                "latencyInMilliseconds": round((self.now() - request.received_at).total_seconds() * 1000),
            },
            digest=request.digest,
            session_image_id=image.id if image else None,
        )
        stored = await self._sessions.record_result(session, attempt, entry, image)
        if self._recorder is not None:
            frames = [(f.data, f.timestamp_ms, f.step_index) for f in request.frames]
            await anyio.to_thread.run_sync(
                self._recorder.record, session.id, attempt.id, challenge, frames, result.decision.value
            )
        # The client sees Azure's fields only: signal scores and reasons would teach an attacker what failed.
        return DetectOutcome(entry=stored, client_body=body if session.send_results_to_client else None)

    async def _count_failure(self, session: SessionRecord, client_ip: str | None) -> None:
        if self._limiter is not None:
            await self._limiter.record(self._limiter.policy.failed_attempts_per_device, session.device_correlation_id)
            await self._limiter.record(self._limiter.policy.failed_attempts_per_ip, client_ip)

    async def _reference(
        self, kind: SessionKind, session: SessionRecord, supplied: bytes | None
    ) -> ReferenceFace | None:
        if kind is not SessionKind.LIVENESS_WITH_VERIFY:
            if supplied is not None:
                raise BadArgument("VerifyImage is only accepted by detectLivenessWithVerify.")
            return None
        if session.reference_face is not None or session.has_verify_image:
            if supplied is not None:
                # The app server's reference must not be replaceable by the (untrusted) client.
                raise BadArgument("This session already has a reference image; do not send VerifyImage.")
            return session.reference_face
        if supplied is None:
            raise BadArgument("This session has no reference image: send one as the VerifyImage part.")
        stored = await self._sessions.attach_client_reference(session, supplied)
        return stored.face

    def _verify(self, reference: ReferenceFace, frame: np.ndarray, threshold: float | None) -> dict[str, Any] | None:
        probe = self._analyzer.analyze_probe(frame)
        if probe is None:
            return None
        score = verify(embedding_from_bytes(reference.embedding), probe.embedding)
        limit = DEFAULT_VERIFY_CONFIDENCE_THRESHOLD if threshold is None else threshold
        return {
            "verifyImage": {
                "faceRectangle": reference.face_rectangle,
                "qualityForRecognition": reference.quality_for_recognition,
            },
            "matchConfidence": round(score.match_confidence, 6),
            "isIdentical": score.match_confidence >= limit,
        }


def _decode_capture(frames: Sequence[FramePart], parts: Executor) -> Capture:
    """Decode every frame (spread over `parts`: the decoder releases the GIL); the first bad frame is named."""
    images = list(parts.map(_decode_frame, range(len(frames)), frames))
    return Capture(
        frames=tuple(
            CaptureFrame(image=image, timestamp_ms=part.timestamp_ms, step_index=part.step_index)
            for image, part in zip(images, frames, strict=True)
        )
    )


def _check_frame_encoding(frames: Sequence[FramePart]) -> None:
    """Refuse JPEG frames encoded more coarsely than `MIN_JPEG_QUALITY` (liveness/types.py says why)."""
    for index, part in enumerate(frames):
        quality = jpeg_quality(part.data)
        if quality is not None and round(quality) < MIN_JPEG_QUALITY:
            raise InvalidImage(
                f"Frame {index} is a JPEG of quality about {quality:.0f}; encode frames at the challenge's "
                f"capture.jpegQuality (quality {MIN_JPEG_QUALITY} at least, or PNG)."
            )


def _decode_frame(index: int, part: FramePart) -> np.ndarray:
    try:
        return decode_image(part.data, FRAME_LIMITS)
    except OpenLivenessError as exc:  # InvalidImage or InvalidImageSize: say which frame
        raise InvalidImage(f"Frame {index} is not a usable image: {exc.message}") from None


def payload_digest(metadata: bytes, frames: Sequence[bytes]) -> str:
    """SHA-256 over the metadata and every frame, in order: identifies a payload byte for byte."""
    digest = hashlib.sha256(metadata)
    for frame in frames:
        digest.update(len(frame).to_bytes(8, "big"))
        digest.update(frame)
    return digest.hexdigest().upper()
