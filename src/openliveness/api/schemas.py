"""Wire schemas: the JSON shapes of the Azure liveness session API, and how request errors map to its codes."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from openliveness.domain import (
    ACCEPTED_LIVENESS_MODELS,
    AuditEntryRecord,
    FaceSessionStatus,
    LivenessOperationMode,
)
from openliveness.errors import (
    BadArgument,
    InvalidDeviceCorrelationId,
    InvalidLivenessOperationMode,
    InvalidRequestBody,
    InvalidTokenLifetime,
    OpenLivenessError,
)
from openliveness.sessions.service import SessionParameters, SessionView

__all__ = [
    "CreateLivenessSessionContent",
    "CreateLivenessSessionResult",
    "CreateLivenessWithVerifySessionContent",
    "CreateLivenessWithVerifySessionResult",
    "ErrorResponse",
    "LivenessSession",
    "LivenessSessionAuditEntry",
    "LivenessSessionItem",
    "LivenessWithVerifyImage",
    "audit_entry_json",
    "request_error",
    "session_item_json",
    "session_json",
]


def _operation_mode(value: Any) -> Any:
    # Case-insensitive enum matching (Azure's rule), done before strict validation sees the value.
    if isinstance(value, str):
        try:
            return LivenessOperationMode(value)
        except ValueError:
            raise ValueError("must be one of: Passive, PassiveActive") from None
    return value


class _Wire(BaseModel):
    # strict: "yes" is not a boolean and "600" is not an integer; unknown fields are ignored (newer clients).
    model_config = ConfigDict(strict=True, extra="ignore", populate_by_name=True, frozen=True)


class CreateLivenessSessionContent(_Wire):
    livenessOperationMode: Annotated[LivenessOperationMode, BeforeValidator(_operation_mode)] = Field(
        description="Passive (screen flash only) or PassiveActive (flash plus a head movement)."
    )
    sendResultsToClient: bool = Field(False, description="True: the client's detect call gets 200 with the result.")
    deviceCorrelationIdSetInClient: bool = Field(False, description="True: the client supplies deviceCorrelationId.")
    enableSessionImage: bool = Field(False, description="Keep the best frame; its id is in the audit entry.")
    livenessSingleModalModel: str | None = Field(None, max_length=64, description="Model version; latest if absent.")
    deviceCorrelationId: str | None = Field(None, description="Unique per end-user device, 1..64 characters.")
    authTokenTimeToLiveInSeconds: int = Field(600, ge=60, le=86400, description="Token lifetime, 60..86400 s.")

    @model_validator(mode="after")
    def _device_id_rules(self) -> CreateLivenessSessionContent:
        if self.deviceCorrelationIdSetInClient:
            if self.deviceCorrelationId is not None:
                raise ValueError("deviceCorrelationId must be null when deviceCorrelationIdSetInClient is true.")
        elif self.deviceCorrelationId is None:
            raise ValueError("deviceCorrelationId is required unless deviceCorrelationIdSetInClient is true.")
        if self.deviceCorrelationId is not None and not 1 <= len(self.deviceCorrelationId) <= 64:
            raise ValueError("deviceCorrelationId must be 1 to 64 characters long.")
        return self

    @model_validator(mode="after")
    def _known_model(self) -> CreateLivenessSessionContent:
        if self.livenessSingleModalModel is not None and self.livenessSingleModalModel not in ACCEPTED_LIVENESS_MODELS:
            raise ValueError(f"livenessSingleModalModel must be one of: {', '.join(sorted(ACCEPTED_LIVENESS_MODELS))}.")
        return self

    def to_parameters(self) -> SessionParameters:
        return SessionParameters(
            operation_mode=self.livenessOperationMode,
            send_results_to_client=self.sendResultsToClient,
            device_correlation_id=self.deviceCorrelationId,
            device_correlation_id_set_in_client=self.deviceCorrelationIdSetInClient,
            enable_session_image=self.enableSessionImage,
            liveness_model=self.livenessSingleModalModel,
            auth_token_ttl_seconds=self.authTokenTimeToLiveInSeconds,
        )


class CreateLivenessWithVerifySessionContent(CreateLivenessSessionContent):
    returnVerifyImageHash: bool = Field(False, description="Put the reference image's SHA-256 in audit entries.")
    verifyConfidenceThreshold: float | None = Field(
        None, ge=0, le=1, description="isIdentical is matchConfidence >= this; the server default if absent."
    )

    def to_parameters(self) -> SessionParameters:
        return replace(
            super().to_parameters(),
            return_verify_image_hash=self.returnVerifyImageHash,
            verify_confidence_threshold=self.verifyConfidenceThreshold,
        )


# Which error code a problem in which field gets (Azure's codes); anything else is InvalidRequestBody.
_FIELD_ERRORS: dict[str, type[OpenLivenessError]] = {
    "livenessOperationMode": InvalidLivenessOperationMode,
    "authTokenTimeToLiveInSeconds": InvalidTokenLifetime,
    "deviceCorrelationId": InvalidDeviceCorrelationId,
}


def request_error(exc: ValidationError) -> OpenLivenessError:
    """The Azure error for the first problem pydantic found in a request body."""
    first = exc.errors(include_url=False)[0]
    loc = first.get("loc", ())
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    if first.get("type") == "model_type":
        return BadArgument("The request body must be a JSON object.")
    field = str(loc[0]) if loc else ""
    if not field and "deviceCorrelationId" in message:
        return InvalidDeviceCorrelationId(message)
    error = _FIELD_ERRORS.get(field, InvalidRequestBody)
    return error(f"{field}: {message}" if field else message)


# -- responses ---------------------------------------------------------------------------------------------


class FaceRectangle(BaseModel):
    top: int
    left: int
    width: int
    height: int


class LivenessWithVerifyImage(BaseModel):
    faceRectangle: FaceRectangle
    qualityForRecognition: str = Field(description="low | medium | high")


class CreateLivenessSessionResult(BaseModel):
    sessionId: str
    authToken: str


class CreateLivenessWithVerifySessionResult(CreateLivenessSessionResult):
    verifyImage: LivenessWithVerifyImage | None = None


class AuditRequestInfo(BaseModel):
    url: str
    method: str
    contentLength: int | None = None
    contentType: str
    userAgent: str | None = None


class AuditLivenessResponseInfo(BaseModel):
    model_config = ConfigDict(extra="allow")
    body: dict[str, Any] = Field(
        description="livenessDecision, target, modelVersionUsed, verifyResult; OpenLiveness adds signals, reasons."
    )
    statusCode: int
    latencyInMilliseconds: int


class LivenessSessionAuditEntry(BaseModel):
    id: int
    sessionId: str
    requestId: str
    clientRequestId: str
    receivedDateTime: datetime
    request: AuditRequestInfo
    response: AuditLivenessResponseInfo
    digest: str
    sessionImageId: str | None = None
    verifyImageHash: str | None = None


class LivenessSessionItem(BaseModel):
    id: str
    createdDateTime: datetime
    sessionStartDateTime: datetime | None = None
    sessionExpired: bool
    deviceCorrelationId: str | None = None
    authTokenTimeToLiveInSeconds: int


class LivenessSession(LivenessSessionItem):
    status: FaceSessionStatus
    result: LivenessSessionAuditEntry | None = None


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorDetail


# Responses are built as plain dicts (hot paths); the models above document them in OpenAPI.


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def session_item_json(view: SessionView) -> dict[str, Any]:
    s = view.session
    return {
        "id": s.id,
        "createdDateTime": _iso(s.created_at),
        "sessionStartDateTime": _iso(s.started_at),
        "sessionExpired": view.session_expired,
        "deviceCorrelationId": s.device_correlation_id,
        "authTokenTimeToLiveInSeconds": s.auth_token_ttl_seconds,
    }


def session_json(view: SessionView) -> dict[str, Any]:
    body = session_item_json(view)
    body["status"] = view.session.status.value
    if view.result is not None:
        body["result"] = audit_entry_json(view.result)
    return body


def audit_entry_json(entry: AuditEntryRecord) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": entry.id,
        "sessionId": entry.session_id,
        "requestId": entry.request_id,
        "clientRequestId": entry.client_request_id,
        "receivedDateTime": _iso(entry.received_at),
        "request": entry.request,
        "response": entry.response,
        "digest": entry.digest,
    }
    if entry.session_image_id is not None:
        body["sessionImageId"] = entry.session_image_id
    if entry.verify_image_hash is not None:
        body["verifyImageHash"] = entry.verify_image_hash
    return body
