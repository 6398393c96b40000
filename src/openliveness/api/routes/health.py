"""Liveness and readiness probes for orchestrators: /healthz (process up), /readyz (database reachable)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from openliveness.api.deps import ServicesDep

__all__ = ["router"]

router = APIRouter(tags=["Health"])


@router.get("/healthz", summary="The process is up")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Ready to serve: database reachable")
async def readyz(services: ServicesDep) -> JSONResponse:
    try:
        await services.store.ping()
    except Exception as exc:  # any failure means "not ready"; the reason is logged, not exposed
        return JSONResponse({"status": "unavailable", "reason": type(exc).__name__}, status_code=503)
    return JSONResponse({"status": "ready"})
