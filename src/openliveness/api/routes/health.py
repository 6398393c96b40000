"""For operators: /healthz (process up), /readyz (database reachable), /metrics (Prometheus text format).

None needs a key: put them on a port or path your load balancer does not expose (docs/operations.md)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from openliveness.api.deps import ServicesDep
from openliveness.metrics import CONTENT_TYPE_LATEST, render

__all__ = ["router"]

router = APIRouter(tags=["Operations"])


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


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(services: ServicesDep) -> Response:
    if not services.settings.metrics_enabled:
        raise StarletteHTTPException(404)
    return Response(render(), media_type=CONTENT_TYPE_LATEST)
