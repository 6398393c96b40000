"""Dependencies as `Annotated` aliases: services, API-key auth and the API-version check.

All are `async def`: FastAPI runs plain `def` dependencies in a thread pool, a thread hop per dependency."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from openliveness.api.client_address import client_address
from openliveness.domain import SessionKind, SessionRecord
from openliveness.errors import Unauthorized, UnsupportedApiVersion
from openliveness.services import Services
from openliveness.sessions import ApiKeyService, SessionService
from openliveness.sessions.attempts import AttemptService
from openliveness.settings import SUPPORTED_API_VERSIONS

__all__ = [
    "ApiKeyDep",
    "ApiVersionDep",
    "AttemptServiceDep",
    "ClientAddressDep",
    "KeyServiceDep",
    "ServicesDep",
    "SessionServiceDep",
    "client_session",
]

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


async def get_attempt_service(request: Request) -> AttemptService:
    services: Services = request.app.state.services
    return services.attempts


async def get_client_address(request: Request) -> str | None:
    services: Services = request.app.state.services
    peer = request.client.host if request.client else None
    return client_address(peer, request.headers.get("x-forwarded-for"), services.settings.trusted_proxies)


ClientAddressDep = Annotated[str | None, Depends(get_client_address)]
SessionServiceDep = Annotated[SessionService, Depends(get_session_service)]
AttemptServiceDep = Annotated[AttemptService, Depends(get_attempt_service)]
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


_bearer = HTTPBearer(auto_error=False, description="The session's authToken (client calls only)")


def client_session(kind: SessionKind) -> object:
    """A dependency resolving the session a client's `Authorization: Bearer <authToken>` may act on."""

    async def resolve(
        sessions: SessionServiceDep,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)],
    ) -> SessionRecord:
        if credentials is None:
            raise Unauthorized("Send the session's authToken as 'Authorization: Bearer <token>'.")
        return await sessions.authenticate_client(credentials.credentials, kind)

    return Depends(resolve)
