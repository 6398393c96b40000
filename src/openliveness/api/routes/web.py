"""The browser side: the web SDK at a stable path, and the demo page with its own app-server endpoints.

The demo plays the app server for itself: it creates sessions without an API key, so it answers only to
loopback clients (or the addresses in `Settings.demo_allowed_hosts`) and can be switched off entirely."""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from openliveness.api.deps import SessionServiceDep
from openliveness.api.schemas import audit_entry_json
from openliveness.domain import LivenessOperationMode, SessionKind
from openliveness.errors import BadArgument, SessionNotFound
from openliveness.services import Services
from openliveness.sessions.service import SessionParameters

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
_DEMO_ASSETS = {"demo.css": "text/css; charset=utf-8", "demo.js": "text/javascript; charset=utf-8"}
# The page runs under the CSP docs/web-sdk.md recommends, so the demo proves the SDK needs nothing looser.
_DEMO_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob: mediastream:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_MAX_REFERENCE_BYTES = 6 * 1024 * 1024


@cache
def _static(name: str) -> tuple[bytes, str]:
    """A packaged static file and its ETag, read once per process."""
    data = resources.files("openliveness.web").joinpath("static", name).read_bytes()
    return data, '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def _asset(request: Request, name: str, media_type: str, headers: dict[str, str]) -> Response:
    data, etag = _static(name)
    headers = {**headers, "ETag": etag}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=media_type, headers=headers)


@router.get("/sdk/openliveness.js")
async def sdk(request: Request) -> Response:
    # Short freshness plus an ETag: pages get upgrades within the hour, and revalidation costs a 304.
    # Any origin may load it as a module script (module scripts are fetched in CORS mode).
    return _asset(
        request,
        "openliveness.js",
        "text/javascript; charset=utf-8",
        {
            "Cache-Control": "public, max-age=3600",
            "Access-Control-Allow-Origin": "*",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def demo_allowed(request: Request) -> None:
    """Refuses (404, as if absent) when the demo is off or the client is neither loopback nor allowed."""
    settings = _services(request).settings
    host = request.client.host if request.client else ""
    # A reverse proxy on this host makes every visitor look like loopback: a request that went through one
    # (it says so in these headers) is not local, whatever its socket address.
    proxied = any(h in request.headers for h in ("forwarded", "x-forwarded-for", "x-real-ip"))
    local = host in _LOOPBACK and not proxied
    allowed = local or "*" in settings.demo_allowed_hosts or host in settings.demo_allowed_hosts
    if not settings.demo_enabled or not allowed:
        raise SessionNotFound("Not found: the demo is only available from localhost unless configured.")


DemoDep = Annotated[None, Depends(demo_allowed)]


@router.get("/demo")
async def demo_page(request: Request, _: DemoDep) -> Response:
    return _asset(
        request,
        "demo.html",
        "text/html; charset=utf-8",
        {"Cache-Control": "no-cache", "Content-Security-Policy": _DEMO_CSP, "X-Content-Type-Options": "nosniff"},
    )


@router.get("/demo/static/{name}")
async def demo_asset(request: Request, name: str, _: DemoDep) -> Response:
    media_type = _DEMO_ASSETS.get(name)
    if media_type is None:
        raise SessionNotFound("Not found.")
    return _asset(request, name, media_type, {"Cache-Control": "no-cache"})


def _kind(value: str) -> SessionKind:
    try:
        return SessionKind(value)
    except ValueError:
        raise BadArgument("kind must be detectLiveness or detectLivenessWithVerify.") from None


@router.post("/demo/api/sessions")
async def demo_create(request: Request, _: DemoDep, sessions: SessionServiceDep) -> JSONResponse:
    """What an app server does with its API key: create a session, hand the page the token."""
    form = await request.form(max_files=1, max_fields=8)
    kind = _kind(str(form.get("kind") or SessionKind.LIVENESS.value))
    try:
        mode = LivenessOperationMode(str(form.get("mode") or "Passive"))
    except ValueError:
        raise BadArgument("mode must be Passive or PassiveActive.") from None
    photo = form.get("photo")
    reference: bytes | None = None
    if photo is not None and not isinstance(photo, str):
        reference = await photo.read(_MAX_REFERENCE_BYTES + 1)
        if len(reference) > _MAX_REFERENCE_BYTES:
            raise BadArgument("The reference photo may be at most 6 MB.")
    if reference and kind is not SessionKind.LIVENESS_WITH_VERIFY:
        raise BadArgument("A reference photo needs kind detectLivenessWithVerify.")
    if kind is SessionKind.LIVENESS_WITH_VERIFY and not reference:
        raise BadArgument("A with-verify demo session needs a reference photo.")
    params = SessionParameters(operation_mode=mode, auth_token_ttl_seconds=300)
    created = await sessions.create(kind, params, verify_image=reference)
    body: dict[str, Any] = {"sessionId": created.session.id, "authToken": created.auth_token, "kind": kind.value}
    face = created.session.reference_face
    if face is not None:
        body["verifyImage"] = {
            "faceRectangle": face.face_rectangle,
            "qualityForRecognition": face.quality_for_recognition,
        }
    return JSONResponse(body)


@router.get("/demo/api/sessions/{kind}/{session_id}")
async def demo_result(kind: str, session_id: str, _: DemoDep, sessions: SessionServiceDep) -> JSONResponse:
    """What an app server reads afterwards with its API key, flattened for the page: the decision, the
    per-signal scores and reasons from the audit entry, the match."""
    view = await sessions.get(_kind(kind), session_id)
    body: dict[str, Any] = {"sessionId": session_id, "status": view.session.status.value}
    if view.result is not None:
        entry = audit_entry_json(view.result)
        result = entry["response"].get("body", {})
        body.update(
            decision=result.get("livenessDecision"),
            signals=result.get("signals", {}),
            reasons=result.get("reasons", []),
            verifyResult=result.get("verifyResult"),
            latencyInMilliseconds=entry["response"].get("latencyInMilliseconds"),
        )
    return JSONResponse(body)
