"""App-server session operations (API key): create, get, list, audit, delete, for both session kinds."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from openliveness.api.bodies import json_request_body, read_create_request
from openliveness.api.deps import ApiKeyDep, ApiVersionDep, SessionServiceDep
from openliveness.api.schemas import (
    CreateLivenessSessionContent,
    CreateLivenessSessionResult,
    CreateLivenessWithVerifySessionContent,
    CreateLivenessWithVerifySessionResult,
    ErrorResponse,
    LivenessSession,
    LivenessSessionAuditEntry,
    LivenessSessionItem,
    audit_entry_json,
    session_item_json,
    session_json,
)
from openliveness.domain import SessionKind
from openliveness.sessions import CreatedSession

__all__ = ["session_router"]

_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse, "description": text}
    for code, text in ((400, "Invalid request"), (401, "Missing or wrong key"), (404, "Session not found"))
}

Top = Annotated[int, Query(ge=1, le=1000, description="How many items to return, 1..1000.")]


def _created_json(created: CreatedSession) -> dict[str, Any]:
    body: dict[str, Any] = {"sessionId": created.session.id, "authToken": created.auth_token}
    face = created.session.reference_face
    if face is not None:
        body["verifyImage"] = {
            "faceRectangle": face.face_rectangle,
            "qualityForRecognition": face.quality_for_recognition,
        }
    return body


def session_router(kind: SessionKind) -> APIRouter:
    """The five session operations of one kind; both kinds share these handlers."""
    verify = kind is SessionKind.LIVENESS_WITH_VERIFY
    name = "LivenessWithVerify" if verify else "Liveness"
    content_model = CreateLivenessWithVerifySessionContent if verify else CreateLivenessSessionContent
    router = APIRouter(prefix=f"/face/{{apiVersion}}/{kind.value}/singleModal/sessions", tags=[f"{name} sessions"])

    @router.post(
        "",
        operation_id=f"create{name}Session",
        summary=f"Create a {name.lower()} session" + (" (JSON, or multipart with a VerifyImage)" if verify else ""),
        response_model=CreateLivenessWithVerifySessionResult if verify else CreateLivenessSessionResult,
        responses={**_ERRORS, 429: {"model": ErrorResponse, "description": "Too many sessions for this device"}},
        openapi_extra=json_request_body(content_model, multipart=verify),
    )
    async def create(request: Request, _: ApiVersionDep, __: ApiKeyDep, sessions: SessionServiceDep) -> JSONResponse:
        content, image = await read_create_request(request, content_model, allow_image=verify)
        created = await sessions.create(kind, content.to_parameters(), verify_image=image)
        return JSONResponse(_created_json(created))

    @router.get(
        "",
        operation_id=f"get{name}Sessions",
        summary=f"List {name.lower()} sessions, ordered by id",
        response_model=list[LivenessSessionItem],
        responses=_ERRORS,
    )
    async def list_sessions(
        _: ApiVersionDep,
        __: ApiKeyDep,
        sessions: SessionServiceDep,
        start: Annotated[str | None, Query(max_length=64, description="List sessions with ids after this one.")] = None,
        top: Top = 1000,
    ) -> JSONResponse:
        views = await sessions.list_sessions(kind, start=start, top=top)
        return JSONResponse([session_item_json(v) for v in views])

    @router.get(
        "/{sessionId}",
        operation_id=f"get{name}SessionResult",
        summary="Get a session and its latest result",
        response_model=LivenessSession,
        responses=_ERRORS,
    )
    async def get_session(
        sessionId: str,
        _: ApiVersionDep,
        __: ApiKeyDep,
        sessions: SessionServiceDep,
    ) -> JSONResponse:
        return JSONResponse(session_json(await sessions.get(kind, sessionId)))

    @router.get(
        "/{sessionId}/audit",
        operation_id=f"get{name}SessionAuditEntries",
        summary="List the audit entries of a session (one per client detect call)",
        response_model=list[LivenessSessionAuditEntry],
        responses=_ERRORS,
    )
    async def audit(
        sessionId: str,
        _: ApiVersionDep,
        __: ApiKeyDep,
        sessions: SessionServiceDep,
        start: Annotated[
            int | None, Query(ge=0, le=2**63 - 1, description="List entries with ids after this one.")
        ] = None,
        top: Top = 1000,
    ) -> JSONResponse:
        entries = await sessions.audit_entries(kind, sessionId, start=start, top=top)
        return JSONResponse([audit_entry_json(e) for e in entries])

    @router.delete(
        "/{sessionId}",
        operation_id=f"delete{name}Session",
        summary="Delete a session: its token, attempts, audit entries and images go at once",
        # 200 with an empty body, as Azure answers (its official client treats anything else as an error).
        status_code=200,
        response_class=Response,
        responses=_ERRORS,
    )
    async def delete(
        sessionId: str,
        _: ApiVersionDep,
        __: ApiKeyDep,
        sessions: SessionServiceDep,
    ) -> Response:
        await sessions.delete(kind, sessionId)
        return Response(status_code=200)

    return router
