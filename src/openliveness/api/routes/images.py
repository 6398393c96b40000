"""Session image download (v1.2-preview.1): the frame kept when a session had `enableSessionImage`."""

from __future__ import annotations

from fastapi import APIRouter, Response

from openliveness.api.deps import ApiKeyDep, ApiVersionDep, SessionServiceDep
from openliveness.api.schemas import ErrorResponse
from openliveness.errors import UnsupportedApiVersion

__all__ = ["router"]

router = APIRouter(prefix="/face/{apiVersion}/session/sessionImages", tags=["Session images"])


@router.get(
    "/{sessionImageId}",
    operation_id="getSessionImage",
    summary="Download a session image",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}, "description": "The image bytes"},
        401: {"model": ErrorResponse},
        404: {"model": ErrorResponse},
    },
)
async def get_session_image(
    sessionImageId: str,
    api_version: ApiVersionDep,
    _: ApiKeyDep,
    sessions: SessionServiceDep,
) -> Response:
    if api_version == "v1.1-preview.1":
        raise UnsupportedApiVersion("Session images need API version v1.2-preview.1.")
    image = await sessions.session_image(sessionImageId)
    return Response(image.content, media_type="application/octet-stream")
