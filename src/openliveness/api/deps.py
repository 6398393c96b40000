"""Dependencies as `Annotated` aliases: services, API-key auth and the API-version check.

All are `async def`: FastAPI runs plain `def` dependencies in a thread pool, a thread hop per dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request, Security
from fastapi.security import APIKeyHeader

from openliveness.errors import Unauthorized, UnsupportedApiVersion
from openliveness.services import Services
from openliveness.sessions import ApiKeyService, SessionService
from openliveness.settings import SUPPORTED_API_VERSIONS

__all__ = ["ApiKeyDep", "ApiVersionDep", "KeyServiceDep", "ServicesDep", "SessionServiceDep"]

_api_key_header = APIKeyHeader(
    name="Ocp-Apim-Subscription-Key", auto_error=False, description="An OpenLiveness API key"
)


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


# These read app.state directly rather than through ServicesDep: every level of dependency nesting costs
# FastAPI time on each request, and these run on every call.
async def get_session_service(request: Request) -> SessionService:
    services: Services = request.app.state.services
    return services.sessions


async def get_key_service(request: Request) -> ApiKeyService:
    services: Services = request.app.state.services
    return services.keys


SessionServiceDep = Annotated[SessionService, Depends(get_session_service)]
KeyServiceDep = Annotated[ApiKeyService, Depends(get_key_service)]


async def require_api_key(keys: KeyServiceDep, key: Annotated[str | None, Security(_api_key_header)]) -> str:
    if key is None:
        raise Unauthorized("Access denied: the Ocp-Apim-Subscription-Key header is missing.")
    return await keys.authenticate(key)


ApiKeyDep = Annotated[str, Depends(require_api_key)]


async def check_api_version(
    apiVersion: Annotated[
        str,
        Path(description="The API version.", json_schema_extra={"enum": list(SUPPORTED_API_VERSIONS)}),
    ],
) -> str:
    if apiVersion not in SUPPORTED_API_VERSIONS:
        raise UnsupportedApiVersion(
            f"API version '{apiVersion[:40]}' is not supported; use one of: {', '.join(SUPPORTED_API_VERSIONS)}."
        )
    return apiVersion


ApiVersionDep = Annotated[str, Depends(check_api_version)]
