"""Domain values shared by every layer: enums with Azure's names and the frozen records the store keeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

__all__ = [
    "ACCEPTED_LIVENESS_MODELS",
    "ENGINE_MODEL_VERSION",
    "ApiKeyRecord",
    "AttemptRecord",
    "AuditEntryRecord",
    "FaceSessionStatus",
    "LivenessDecision",
    "LivenessOperationMode",
    "ReferenceFace",
    "SessionImageRecord",
    "SessionKind",
    "SessionRecord",
    "StoredVerifyImage",
]


class _CaseInsensitiveEnum(str, Enum):
    """Azure matches enum values case-insensitively on input."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if isinstance(value, str):
            for member in cls:
                if member.value.lower() == value.lower():
                    return member
        return None


class SessionKind(str, Enum):
    LIVENESS = "detectLiveness"
    LIVENESS_WITH_VERIFY = "detectLivenessWithVerify"


class LivenessOperationMode(_CaseInsensitiveEnum):
    PASSIVE = "Passive"
    PASSIVE_ACTIVE = "PassiveActive"


class FaceSessionStatus(_CaseInsensitiveEnum):
    NOT_STARTED = "NotStarted"
    STARTED = "Started"
    RESULT_AVAILABLE = "ResultAvailable"


class LivenessDecision(_CaseInsensitiveEnum):
    UNCERTAIN = "uncertain"
    REAL_FACE = "realface"
    SPOOF_FACE = "spoofface"


@dataclass(frozen=True, slots=True)
class ReferenceFace:
    """What face analysis found in a verification reference image (embedding kept server-side only)."""

    face_rectangle: dict[str, int]
    quality_for_recognition: str
    embedding: bytes


@dataclass(frozen=True, slots=True)
class StoredVerifyImage:
    content: bytes
    sha256: str
    face: ReferenceFace | None = None


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: str
    kind: SessionKind
    created_at: datetime
    token_expires_at: datetime
    expires_at: datetime
    auth_token_ttl_seconds: int
    operation_mode: LivenessOperationMode
    send_results_to_client: bool
    device_correlation_id: str | None
    device_correlation_id_set_in_client: bool
    enable_session_image: bool
    liveness_model: str | None
    return_verify_image_hash: bool = False
    verify_confidence_threshold: float | None = None
    status: FaceSessionStatus = FaceSessionStatus.NOT_STARTED
    started_at: datetime | None = None
    attempts_used: int = 0
    result_audit_id: int | None = None
    has_verify_image: bool = False
    verify_image_sha256: str | None = None
    reference_face: ReferenceFace | None = None


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    id: str
    session_id: str
    number: int
    created_at: datetime
    expires_at: datetime
    challenge: dict[str, Any] = field(default_factory=dict)
    used: bool = False


@dataclass(frozen=True, slots=True)
class AuditEntryRecord:
    """One client call as Azure audits it; `id` is assigned by the store (increasing int64)."""

    session_id: str
    request_id: str
    client_request_id: str
    received_at: datetime
    request: dict[str, Any]
    response: dict[str, Any]
    digest: str
    session_image_id: str | None = None
    verify_image_hash: str | None = None
    id: int = 0


@dataclass(frozen=True, slots=True)
class SessionImageRecord:
    id: str
    session_id: str
    content: bytes
    media_type: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    id: str
    name: str
    secret_hash: str
    created_at: datetime
    revoked_at: datetime | None = None


# The engine version reported as `modelVersionUsed`. Azure's model names are accepted on input so that
# existing app servers keep working; every name runs the current engine (the audit entry says which).
ENGINE_MODEL_VERSION = "openliveness-2026-11"
ACCEPTED_LIVENESS_MODELS = frozenset(
    {ENGINE_MODEL_VERSION, "2022-10-15-preview.04", "2023-12-20-preview.06", "2024-11-15"}
)
