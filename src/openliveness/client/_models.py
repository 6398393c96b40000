"""Typed values of the liveness session API: enums, request contents and parsed results.

Names and fields follow `azure.ai.vision.face.models`; parsing is lenient where a newer server may add values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from enum import Enum, StrEnum
from typing import Any, TypeVar

__all__ = [
    "AuditLivenessResponseInfo",
    "AuditRequestInfo",
    "CreateLivenessSessionContent",
    "CreateLivenessSessionResult",
    "CreateLivenessWithVerifySessionContent",
    "CreateLivenessWithVerifySessionResult",
    "FaceImageType",
    "FaceLivenessDecision",
    "FaceRectangle",
    "FaceSessionStatus",
    "LivenessOperationMode",
    "LivenessOutputsTarget",
    "LivenessResponseBody",
    "LivenessSession",
    "LivenessSessionAuditEntry",
    "LivenessSessionItem",
    "LivenessWithVerifyImage",
    "LivenessWithVerifyOutputs",
    "LivenessWithVerifySession",
    "QualityForRecognition",
    "ResponseFormatError",
    "Versions",
]


class ResponseFormatError(ValueError):
    """A response body does not have the shape the API defines (raised by the parsers in this module)."""


# --- enums ---------------------------------------------------------------------------------------------


class Versions(StrEnum):
    """API versions this client speaks (the path segment after `/face/`)."""

    V1_1_PREVIEW_1 = "v1.1-preview.1"
    V1_2_PREVIEW_1 = "v1.2-preview.1"


class LivenessOperationMode(StrEnum):
    """How the end user is asked to prove liveness."""

    PASSIVE = "Passive"
    PASSIVE_ACTIVE = "PassiveActive"


class FaceSessionStatus(StrEnum):
    """Where a session is in its life."""

    NOT_STARTED = "NotStarted"
    STARTED = "Started"
    RESULT_AVAILABLE = "ResultAvailable"


class FaceLivenessDecision(StrEnum):
    """The outcome of a liveness attempt."""

    UNCERTAIN = "uncertain"
    REAL_FACE = "realface"
    SPOOF_FACE = "spoofface"


class QualityForRecognition(StrEnum):
    """How usable a face image is for verification."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class FaceImageType(StrEnum):
    """The kind of image the liveness target was found in."""

    COLOR = "Color"
    INFRARED = "Infrared"
    DEPTH = "Depth"


_E = TypeVar("_E", bound=Enum)


def _enum(cls: type[_E], value: object) -> _E | str:
    """Map a wire value to `cls`, case-insensitively; keep an unknown value as its raw string.

    A newer server may return values this client does not know yet; failing the whole parse for them
    would break callers that never look at that field.
    """
    if not isinstance(value, str):
        raise ResponseFormatError(f"expected a string for {cls.__name__}, got {value!r}")
    lowered = value.casefold()
    for member in cls:
        if str(member.value).casefold() == lowered:
            return member
    return value


# --- parsing helpers -------------------------------------------------------------------------------------


def _obj(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ResponseFormatError(f"expected a JSON object for {what}, got {type(value).__name__}")
    return value


def _req(data: Mapping[str, Any], key: str, what: str) -> Any:
    try:
        return data[key]
    except KeyError:
        raise ResponseFormatError(f"{what} lacks the required field {key!r}") from None


def _str(value: object, key: str) -> str:
    if not isinstance(value, str):
        raise ResponseFormatError(f"{key!r} must be a string, got {value!r}")
    return value


def _opt_str(value: object, key: str) -> str | None:
    return None if value is None else _str(value, key)


def _int(value: object, key: str) -> int:
    # bool is an int subclass; a boolean where a number belongs is a malformed response
    if isinstance(value, bool) or not isinstance(value, int):
        raise ResponseFormatError(f"{key!r} must be an integer, got {value!r}")
    return value


def _opt_int(value: object, key: str) -> int | None:
    return None if value is None else _int(value, key)


def _float(value: object, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ResponseFormatError(f"{key!r} must be a number, got {value!r}")
    return float(value)


def _bool(value: object, key: str) -> bool:
    if not isinstance(value, bool):
        raise ResponseFormatError(f"{key!r} must be a boolean, got {value!r}")
    return value


def _datetime(value: object, key: str) -> datetime:
    text = _str(value, key)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ResponseFormatError(f"{key!r} is not an ISO 8601 timestamp: {text!r}") from None
    # The API's timestamps are UTC; an offset-less one is read as UTC so comparisons never mix naive/aware.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _opt_datetime(value: object, key: str) -> datetime | None:
    return None if value is None else _datetime(value, key)


# --- request contents --------------------------------------------------------------------------------------


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _content_dict(content: object) -> dict[str, Any]:
    """Serialise a request content dataclass to its wire JSON, leaving out fields that are None."""
    out: dict[str, Any] = {}
    for f in fields(content):  # type: ignore[arg-type]
        value = getattr(content, f.name)
        if value is None:
            continue
        out[_camel(f.name)] = value.value if isinstance(value, Enum) else value
    return out


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateLivenessSessionContent:
    """Body of `create_liveness_session`.

    `device_correlation_id` is required unless `device_correlation_id_set_in_client` is true;
    `auth_token_time_to_live_in_seconds` must be within 60..86400 (server default 600).
    """

    liveness_operation_mode: LivenessOperationMode | str
    send_results_to_client: bool | None = None
    device_correlation_id_set_in_client: bool | None = None
    enable_session_image: bool | None = None
    liveness_single_modal_model: str | None = None
    device_correlation_id: str | None = None
    auth_token_time_to_live_in_seconds: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the wire JSON object (camelCase keys, unset fields left out)."""
        return _content_dict(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateLivenessWithVerifySessionContent:
    """Body of `create_liveness_with_verify_session`: the liveness fields plus verification options."""

    liveness_operation_mode: LivenessOperationMode | str
    send_results_to_client: bool | None = None
    device_correlation_id_set_in_client: bool | None = None
    enable_session_image: bool | None = None
    liveness_single_modal_model: str | None = None
    device_correlation_id: str | None = None
    auth_token_time_to_live_in_seconds: int | None = None
    return_verify_image_hash: bool | None = None
    verify_confidence_threshold: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the wire JSON object (camelCase keys, unset fields left out)."""
        return _content_dict(self)


# --- results ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class FaceRectangle:
    """A face's box in pixels of the image it was found in."""

    top: int
    left: int
    width: int
    height: int

    @classmethod
    def from_dict(cls, data: object) -> FaceRectangle:
        """Parse the wire JSON object."""
        d = _obj(data, "faceRectangle")
        return cls(**{k: _int(_req(d, k, "faceRectangle"), k) for k in ("top", "left", "width", "height")})


@dataclass(frozen=True, slots=True, kw_only=True)
class LivenessWithVerifyImage:
    """What the server found in the reference (verify) image."""

    face_rectangle: FaceRectangle
    quality_for_recognition: QualityForRecognition | str

    @classmethod
    def from_dict(cls, data: object) -> LivenessWithVerifyImage:
        """Parse the wire JSON object."""
        d = _obj(data, "verifyImage")
        return cls(
            face_rectangle=FaceRectangle.from_dict(_req(d, "faceRectangle", "verifyImage")),
            quality_for_recognition=_enum(QualityForRecognition, _req(d, "qualityForRecognition", "verifyImage")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class LivenessWithVerifyOutputs:
    """The verification part of a result: does the live face match the reference image."""

    verify_image: LivenessWithVerifyImage
    match_confidence: float
    is_identical: bool

    @classmethod
    def from_dict(cls, data: object) -> LivenessWithVerifyOutputs:
        """Parse the wire JSON object."""
        d = _obj(data, "verifyResult")
        return cls(
            verify_image=LivenessWithVerifyImage.from_dict(_req(d, "verifyImage", "verifyResult")),
            match_confidence=_float(_req(d, "matchConfidence", "verifyResult"), "matchConfidence"),
            is_identical=_bool(_req(d, "isIdentical", "verifyResult"), "isIdentical"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class LivenessOutputsTarget:
    """The face the decision is about, and where it was taken from."""

    face_rectangle: FaceRectangle
    file_name: str
    time_offset_within_file: int
    image_type: FaceImageType | str

    @classmethod
    def from_dict(cls, data: object) -> LivenessOutputsTarget:
        """Parse the wire JSON object."""
        d = _obj(data, "target")
        return cls(
            face_rectangle=FaceRectangle.from_dict(_req(d, "faceRectangle", "target")),
            file_name=_str(_req(d, "fileName", "target"), "fileName"),
            time_offset_within_file=_int(_req(d, "timeOffsetWithinFile", "target"), "timeOffsetWithinFile"),
            image_type=_enum(FaceImageType, _req(d, "imageType", "target")),
        )


_BODY_KEYS = frozenset({"livenessDecision", "target", "modelVersionUsed", "verifyResult", "signals", "reasons"})


@dataclass(frozen=True, slots=True, kw_only=True)
class LivenessResponseBody:
    """The body the liveness call answered with, as recorded in an audit entry.

    `signals` (signal name -> score) and `reasons` are OpenLiveness additions, None from a server that
    does not send them. Keys this client does not know (for example an `error` object when the attempt
    failed) are kept in `additional_properties`.
    """

    liveness_decision: FaceLivenessDecision | str | None = None
    target: LivenessOutputsTarget | None = None
    model_version_used: str | None = None
    verify_result: LivenessWithVerifyOutputs | None = None
    signals: Mapping[str, float] | None = None
    reasons: tuple[str, ...] | None = None
    additional_properties: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: object) -> LivenessResponseBody:
        """Parse the wire JSON object."""
        d = _obj(data, "response body")
        decision = d.get("livenessDecision")
        target = d.get("target")
        verify = d.get("verifyResult")
        signals = d.get("signals")
        reasons = d.get("reasons")
        if signals is not None:
            signals = {_str(k, "signals"): _float(v, f"signals.{k}") for k, v in _obj(signals, "signals").items()}
        if reasons is not None:
            if not isinstance(reasons, list):
                raise ResponseFormatError(f"'reasons' must be a list, got {reasons!r}")
            reasons = tuple(_str(r, "reasons") for r in reasons)
        return cls(
            liveness_decision=None if decision is None else _enum(FaceLivenessDecision, decision),
            target=None if target is None else LivenessOutputsTarget.from_dict(target),
            model_version_used=_opt_str(d.get("modelVersionUsed"), "modelVersionUsed"),
            verify_result=None if verify is None else LivenessWithVerifyOutputs.from_dict(verify),
            signals=signals,
            reasons=reasons,
            additional_properties={k: v for k, v in d.items() if k not in _BODY_KEYS},
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditRequestInfo:
    """The client's liveness request as the server received it."""

    url: str
    method: str
    content_length: int | None = None
    content_type: str | None = None
    user_agent: str | None = None

    @classmethod
    def from_dict(cls, data: object) -> AuditRequestInfo:
        """Parse the wire JSON object."""
        d = _obj(data, "request")
        return cls(
            url=_str(_req(d, "url", "request"), "url"),
            method=_str(_req(d, "method", "request"), "method"),
            content_length=_opt_int(d.get("contentLength"), "contentLength"),
            content_type=_opt_str(d.get("contentType"), "contentType"),
            user_agent=_opt_str(d.get("userAgent"), "userAgent"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditLivenessResponseInfo:
    """The server's answer to the client's liveness request."""

    body: LivenessResponseBody
    status_code: int
    latency_in_milliseconds: int

    @classmethod
    def from_dict(cls, data: object) -> AuditLivenessResponseInfo:
        """Parse the wire JSON object."""
        d = _obj(data, "response")
        return cls(
            body=LivenessResponseBody.from_dict(_req(d, "body", "response")),
            status_code=_int(_req(d, "statusCode", "response"), "statusCode"),
            latency_in_milliseconds=_int(_req(d, "latencyInMilliseconds", "response"), "latencyInMilliseconds"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class LivenessSessionAuditEntry:
    """One liveness call of a session: request, response and digest. `id` is also the paging cursor."""

    id: int
    session_id: str
    request_id: str
    client_request_id: str
    received_date_time: datetime
    request: AuditRequestInfo
    response: AuditLivenessResponseInfo
    digest: str
    session_image_id: str | None = None
    verify_image_hash: str | None = None

    @classmethod
    def from_dict(cls, data: object) -> LivenessSessionAuditEntry:
        """Parse the wire JSON object."""
        d = _obj(data, "audit entry")
        w = "audit entry"
        return cls(
            id=_int(_req(d, "id", w), "id"),
            session_id=_str(_req(d, "sessionId", w), "sessionId"),
            request_id=_str(_req(d, "requestId", w), "requestId"),
            client_request_id=_str(_req(d, "clientRequestId", w), "clientRequestId"),
            received_date_time=_datetime(_req(d, "receivedDateTime", w), "receivedDateTime"),
            request=AuditRequestInfo.from_dict(_req(d, "request", w)),
            response=AuditLivenessResponseInfo.from_dict(_req(d, "response", w)),
            digest=_str(_req(d, "digest", w), "digest"),
            session_image_id=_opt_str(d.get("sessionImageId"), "sessionImageId"),
            verify_image_hash=_opt_str(d.get("verifyImageHash"), "verifyImageHash"),
        )


def _session_fields(d: Mapping[str, Any], w: str) -> dict[str, Any]:
    return {
        "id": _str(_req(d, "id", w), "id"),
        "created_date_time": _datetime(_req(d, "createdDateTime", w), "createdDateTime"),
        "session_start_date_time": _opt_datetime(d.get("sessionStartDateTime"), "sessionStartDateTime"),
        "session_expired": _bool(_req(d, "sessionExpired", w), "sessionExpired"),
        "device_correlation_id": _opt_str(d.get("deviceCorrelationId"), "deviceCorrelationId"),
        "auth_token_time_to_live_in_seconds": _opt_int(
            d.get("authTokenTimeToLiveInSeconds"), "authTokenTimeToLiveInSeconds"
        ),
    }


def _session_state(d: Mapping[str, Any], w: str) -> dict[str, Any]:
    result = d.get("result")
    return {
        "status": _enum(FaceSessionStatus, _req(d, "status", w)),
        "result": None if result is None else LivenessSessionAuditEntry.from_dict(result),
    }


@dataclass(frozen=True, slots=True, kw_only=True)
class LivenessSessionItem:
    """A session as listed: its metadata, without status or result."""

    id: str
    created_date_time: datetime
    session_start_date_time: datetime | None
    session_expired: bool
    device_correlation_id: str | None = None
    auth_token_time_to_live_in_seconds: int | None = None

    @classmethod
    def from_dict(cls, data: object) -> LivenessSessionItem:
        """Parse the wire JSON object."""
        return cls(**_session_fields(_obj(data, "session item"), "session item"))


@dataclass(frozen=True, slots=True, kw_only=True)
class LivenessSession:
    """A liveness session with its status and, once there is one, its latest result."""

    id: str
    created_date_time: datetime
    session_start_date_time: datetime | None
    session_expired: bool
    device_correlation_id: str | None = None
    auth_token_time_to_live_in_seconds: int | None = None
    status: FaceSessionStatus | str
    result: LivenessSessionAuditEntry | None = None

    @classmethod
    def from_dict(cls, data: object) -> LivenessSession:
        """Parse the wire JSON object."""
        d = _obj(data, "session")
        return cls(**_session_fields(d, "session"), **_session_state(d, "session"))


@dataclass(frozen=True, slots=True, kw_only=True)
class LivenessWithVerifySession:
    """A liveness-with-verify session; its result's body carries `verify_result`."""

    id: str
    created_date_time: datetime
    session_start_date_time: datetime | None
    session_expired: bool
    device_correlation_id: str | None = None
    auth_token_time_to_live_in_seconds: int | None = None
    status: FaceSessionStatus | str
    result: LivenessSessionAuditEntry | None = None

    @classmethod
    def from_dict(cls, data: object) -> LivenessWithVerifySession:
        """Parse the wire JSON object."""
        d = _obj(data, "session")
        return cls(**_session_fields(d, "session"), **_session_state(d, "session"))


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateLivenessSessionResult:
    """A new session: its id (for the app server) and the auth token (for the end-user's device only)."""

    session_id: str
    auth_token: str

    @classmethod
    def from_dict(cls, data: object) -> CreateLivenessSessionResult:
        """Parse the wire JSON object."""
        d = _obj(data, "create result")
        return cls(
            session_id=_str(_req(d, "sessionId", "create result"), "sessionId"),
            auth_token=_str(_req(d, "authToken", "create result"), "authToken"),
        )

    def __repr__(self) -> str:
        # The token authorises a device; keep it out of logs that print results.
        return f"{type(self).__name__}(session_id={self.session_id!r}, auth_token='***')"


@dataclass(frozen=True, slots=True, kw_only=True)
class CreateLivenessWithVerifySessionResult:
    """A new verify session; `verify_image` describes the reference image when one was sent."""

    session_id: str
    auth_token: str
    verify_image: LivenessWithVerifyImage | None = None

    @classmethod
    def from_dict(cls, data: object) -> CreateLivenessWithVerifySessionResult:
        """Parse the wire JSON object."""
        d = _obj(data, "create result")
        verify = d.get("verifyImage")
        return cls(
            session_id=_str(_req(d, "sessionId", "create result"), "sessionId"),
            auth_token=_str(_req(d, "authToken", "create result"), "authToken"),
            verify_image=None if verify is None else LivenessWithVerifyImage.from_dict(verify),
        )

    def __repr__(self) -> str:
        # The token authorises a device; keep it out of logs that print results.
        return (
            f"{type(self).__name__}(session_id={self.session_id!r}, auth_token='***', "
            f"verify_image={self.verify_image!r})"
        )
