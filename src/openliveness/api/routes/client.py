"""Client calls (session token): start an attempt, guidance frames, and the detect call with the capture."""

# No `from __future__ import annotations`: the routes' parameter types use the local `Session` alias, which
# FastAPI could not resolve from a string annotation.
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from openliveness.api.bodies import parse_json, read_capture
from openliveness.api.deps import ApiVersionDep, AttemptServiceDep, ClientAddressDep, client_session
from openliveness.api.schemas import ErrorResponse
from openliveness.domain import SessionKind, SessionRecord
from openliveness.errors import BadArgument
from openliveness.sessions.attempts import DetectRequest, FramePart, payload_digest

__all__ = ["client_router"]

_GUIDANCE_MAX_BYTES = 256 * 1024
_BINARY = {"type": "string", "format": "binary"}
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": text}
    for code, text in (
        (400, "Invalid request or capture"),
        (401, "Missing, invalid or expired session token; no attempts left"),
        (409, "Attempt already used, or capture submitted before"),
        (429, "Too many attempts or failures from this device or address; see Retry-After"),
    )
}


class StartAttemptContent(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)
    deviceCorrelationId: str | None = Field(
        None, max_length=64, description="Required on the first attempt when the session set it in the client."
    )


def client_router(kind: SessionKind) -> APIRouter:
    name = "LivenessWithVerify" if kind is SessionKind.LIVENESS_WITH_VERIFY else "Liveness"
    router = APIRouter(prefix=f"/face/{{apiVersion}}/{kind.value}/singleModal", tags=[f"{name} client calls"])
    Session = Annotated[SessionRecord, client_session(kind)]

    @router.post(
        "/attempts",
        operation_id=f"start{name}Attempt",
        summary="Start an attempt and receive its challenge (colour sequence, motion prompt, deadline)",
        responses=_ERRORS,
    )
    async def start_attempt(
        request: Request, _: ApiVersionDep, session: Session, attempts: AttemptServiceDep, address: ClientAddressDep
    ) -> JSONResponse:
        raw = await request.body()
        content = parse_json(StartAttemptContent, raw) if raw.strip() else StartAttemptContent(deviceCorrelationId=None)
        started = await attempts.start(session, device_correlation_id=content.deviceCorrelationId, client_ip=address)
        return JSONResponse(
            {
                "attemptId": started.attempt.id,
                "attemptNumber": started.attempt.number,
                "attemptsRemaining": started.attempts_remaining,
                "expiresDateTime": started.attempt.expires_at.isoformat(),
                "challenge": started.challenge.to_json(),
            }
        )

    @router.post(
        "/guidance",
        operation_id=f"get{name}Guidance",
        summary="Send a small preview frame (JPEG body), get the face box and a hint",
        responses=_ERRORS,
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
            }
        },
    )
    async def guidance(
        request: Request, _: ApiVersionDep, __: Session, attempts: AttemptServiceDep, address: ClientAddressDep
    ) -> JSONResponse:
        data = await request.body()
        if len(data) > _GUIDANCE_MAX_BYTES:
            raise BadArgument(f"A guidance frame may be at most {_GUIDANCE_MAX_BYTES} bytes.")
        result = await attempts.guidance(data, client_ip=address)
        return JSONResponse({"hint": result.hint, "message": result.message, "faceRectangle": result.face_rectangle})

    @router.post(
        "",
        operation_id=f"detect{name}",
        summary="Upload the capture of an attempt; 200 with the result if the session sends results to clients, "
        "else 204",
        status_code=200,
        responses={**_ERRORS, 204: {"description": "Accepted; the app server reads the result"}},
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["metadata", "frame"],
                            "properties": {
                                "metadata": {"type": "string", "description": "JSON: attemptId, frames[]"},
                                "frame": {"type": "array", "items": {"type": "string", "format": "binary"}},
                                "VerifyImage": {"type": "string", "format": "binary"},
                            },
                        }
                    }
                },
            }
        },
    )
    async def detect(
        request: Request, _: ApiVersionDep, session: Session, attempts: AttemptServiceDep, address: ClientAddressDep
    ) -> Response:
        received_at = attempts.now()  # before the upload is read: the audited latency includes parsing it
        upload = await read_capture(request)
        meta = upload.metadata
        client_request_id = request.headers.get("client-request-id", "")[:256]
        outcome = await attempts.detect(
            kind,
            session,
            DetectRequest(
                attempt_id=meta.attemptId,
                frames=[
                    FramePart(data=data, timestamp_ms=f.timestampMs, step_index=f.stepIndex)
                    for data, f in zip(upload.frames, meta.frames, strict=True)
                ],
                verify_image=upload.verify_image,
                device_correlation_id=meta.deviceCorrelationId,
                digest=payload_digest(upload.metadata_bytes, upload.frames),
                request_id=request.state.request_id,
                client_request_id=client_request_id,
                received_at=received_at,
                client_ip=address,
                request_info={
                    "url": request.url.path,
                    "method": request.method,
                    "contentLength": int(request.headers.get("content-length", "0") or 0),
                    "contentType": request.headers.get("content-type", "")[:256],
                    "userAgent": request.headers.get("user-agent", "")[:512],
                },
            ),
        )
        if outcome.client_body is None:
            return Response(status_code=204)
        return JSONResponse(outcome.client_body)

    return router
