"""`create_app(settings)`: the FastAPI application, its middleware, routes and lifespan."""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from openliveness import __version__
from openliveness.api.bodies import openapi_components
from openliveness.api.errors import install_error_handlers
from openliveness.api.middleware import BodyLimitMiddleware, CanonicalPathMiddleware, RequestContextMiddleware
from openliveness.api.routes import health, images, web
from openliveness.api.routes.client import client_router
from openliveness.api.routes.sessions import session_router
from openliveness.api.schemas import CreateLivenessSessionContent, CreateLivenessWithVerifySessionContent
from openliveness.domain import SessionKind
from openliveness.services import Services, build_services
from openliveness.settings import Settings

__all__ = ["create_app"]

_DESCRIPTION = """Self-hosted face liveness, speaking the Azure AI Face liveness session API
(`v1.1-preview.1`, `v1.2-preview.1`). App servers authenticate with `Ocp-Apim-Subscription-Key`."""


def create_app(settings: Settings | None = None, *, services: Services | None = None) -> FastAPI:
    """Build the app. Nothing connects until start-up; pass `services` to share already-built ones (tests)."""
    settings = settings or (services.settings if services else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Per process (each uvicorn worker runs this): see Settings.gil_switch_interval for why.
        sys.setswitchinterval(settings.gil_switch_interval)
        owned = services is None
        app.state.services = services or await build_services(settings)
        # Start-up objects (models, app, pools) never die: keep them out of every later collection, and
        # collect less often, so a request does not pay for a full-heap GC pass.
        gc.collect()
        gc.freeze()
        gc.set_threshold(20_000, 20, 20)
        interval = settings.purge_interval_seconds
        purging = asyncio.create_task(app.state.services.retention.run_forever(interval)) if interval else None
        try:
            yield
        finally:
            if purging is not None:
                purging.cancel()
                await asyncio.gather(purging, return_exceptions=True)
            if owned:
                await app.state.services.close()

    app = FastAPI(title="OpenLiveness", version=__version__, description=_DESCRIPTION, lifespan=lifespan)
    if services is not None:
        app.state.services = services
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(session_router(SessionKind.LIVENESS))
    app.include_router(session_router(SessionKind.LIVENESS_WITH_VERIFY))
    app.include_router(images.router)
    app.include_router(client_router(SessionKind.LIVENESS))
    app.include_router(client_router(SessionKind.LIVENESS_WITH_VERIFY))
    app.include_router(web.router)
    # Outermost first: ids on every response, then the body limit, then path canonicalisation.
    app.add_middleware(CanonicalPathMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_request_bytes)
    app.add_middleware(RequestContextMiddleware)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            # Request errors are 400s with Azure's codes here, never FastAPI's 422.
            for operations in schema["paths"].values():
                for operation in operations.values():
                    operation.get("responses", {}).pop("422", None)
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.pop("HTTPValidationError", None)
            components.pop("ValidationError", None)
            components.update(openapi_components(CreateLivenessSessionContent, CreateLivenessWithVerifySessionContent))
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
