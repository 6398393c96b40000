"""The one table from domain errors to HTTP: status, `{"error": {"code", "message"}}` and `x-ms-error-code`."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from openliveness import errors

__all__ = ["error_response", "install_error_handlers"]

log = logging.getLogger("openliveness.api")

STATUS: dict[type[errors.OpenLivenessError], int] = {
    errors.BadArgument: 400,
    errors.InvalidRequestBody: 400,
    errors.InvalidTokenLifetime: 400,
    errors.InvalidLivenessOperationMode: 400,
    errors.InvalidDeviceCorrelationId: 400,
    errors.InvalidImage: 400,
    errors.InvalidImageSize: 400,
    errors.Unauthorized: 401,
    errors.SessionNotFound: 404,
    errors.SessionImageNotFound: 404,
    errors.UnsupportedApiVersion: 404,
    errors.ConcurrentOperationConflict: 409,
    errors.PayloadTooLarge: 413,
    errors.TooManyRequests: 429,
    errors.ServiceUnavailable: 503,
}

# Codes for failures the framework reports before our code runs.
_HTTP_CODES = {404: "NotFound", 405: "MethodNotAllowed", 413: "PayloadTooLarge", 415: "UnsupportedMediaType"}


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message}},
        status_code=status,
        headers={"x-ms-error-code": code, **(headers or {})},
    )


def _domain(exc: errors.OpenLivenessError) -> JSONResponse:
    status = next((s for cls, s in STATUS.items() if isinstance(exc, cls)), 500)
    headers = {}
    if isinstance(exc, errors.TooManyRequests):
        headers["Retry-After"] = str(exc.retry_after_seconds)
    elif isinstance(exc, errors.ServiceUnavailable):
        headers["Retry-After"] = "1"
    if status == 401:
        headers["WWW-Authenticate"] = 'ApiKey header="Ocp-Apim-Subscription-Key"'
    return error_response(status, exc.code, exc.message, headers)


def install_error_handlers(app: FastAPI) -> None:
    async def on_domain(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, errors.OpenLivenessError)
        return _domain(exc)

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path", "header"))
        return _domain(errors.BadArgument(f"{where}: {first.get('msg', 'invalid value')}"))

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_CODES.get(exc.status_code, "BadArgument" if exc.status_code == 400 else "Error")
        message = exc.detail if isinstance(exc.detail, str) else "Request failed."
        if exc.status_code == 404:
            message = "Resource not found. Check the path and the API version (v1.1-preview.1, v1.2-preview.1)."
        return error_response(exc.status_code, code, message, dict(exc.headers or {}))

    async def on_database(_: Request, exc: Exception) -> JSONResponse:
        log.warning("database unavailable: %s", type(exc).__name__)
        return _domain(errors.ServiceUnavailable("The database is unavailable. Try again later."))

    async def on_disconnect(_: Request, exc: Exception) -> JSONResponse:
        # The client went away mid-upload: nobody will read this answer, and it is not our error.
        log.info("client disconnected before the request was read")
        return error_response(499, "ClientClosedRequest", "The client closed the connection.")

    async def on_unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return error_response(500, "InternalError", "An internal error occurred.")

    app.add_exception_handler(errors.OpenLivenessError, on_domain)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(ClientDisconnect, on_disconnect)
    app.add_exception_handler(OperationalError, on_database)
    app.add_exception_handler(DBAPIError, on_database)
    app.add_exception_handler(OSError, on_database)
    app.add_exception_handler(Exception, on_unexpected)
