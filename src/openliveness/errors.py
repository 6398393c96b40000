"""Domain errors with Azure's error codes. They carry no HTTP: `api/errors.py` maps them to status codes."""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "BadArgument",
    "ConcurrentOperationConflict",
    "InvalidDeviceCorrelationId",
    "InvalidImage",
    "InvalidImageSize",
    "InvalidLivenessOperationMode",
    "InvalidRequestBody",
    "InvalidTokenLifetime",
    "OpenLivenessError",
    "PayloadTooLarge",
    "ServiceUnavailable",
    "SessionImageNotFound",
    "SessionNotFound",
    "TooManyRequests",
    "Unauthorized",
    "UnsupportedApiVersion",
]


class OpenLivenessError(Exception):
    """Base of every error the service reports to a caller; `code` is Azure's error code."""

    code: ClassVar[str] = "InternalError"
    default_message: ClassVar[str] = "An internal error occurred."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)


class BadArgument(OpenLivenessError):
    code = "BadArgument"
    default_message = "Bad or unrecognizable request parameter."


class InvalidRequestBody(OpenLivenessError):
    code = "InvalidRequestBody"
    default_message = "Invalid request body."


class InvalidTokenLifetime(OpenLivenessError):
    code = "InvalidTokenLifetime"
    default_message = "authTokenTimeToLiveInSeconds must be between 60 and 86400."


class InvalidLivenessOperationMode(OpenLivenessError):
    code = "InvalidLivenessOperationMode"
    default_message = "livenessOperationMode must be one of: Passive, PassiveActive."


class InvalidDeviceCorrelationId(OpenLivenessError):
    code = "InvalidDeviceCorrelationId"
    default_message = "deviceCorrelationId is invalid."


class InvalidImage(OpenLivenessError):
    code = "InvalidImage"
    default_message = "Decoding error, image format unsupported."


class InvalidImageSize(OpenLivenessError):
    code = "InvalidImageSize"
    default_message = "Image size is too small or too big."


class PayloadTooLarge(OpenLivenessError):
    code = "PayloadTooLarge"
    default_message = "The request body is too large."


class Unauthorized(OpenLivenessError):
    code = "Unauthorized"
    default_message = (
        "Access denied due to invalid subscription key or session token. "
        "Make sure to provide a valid key for an active subscription."
    )


class SessionNotFound(OpenLivenessError):
    code = "SessionNotFound"
    default_message = "Session ID is not found. The session ID is expired or does not exist."


class SessionImageNotFound(OpenLivenessError):
    code = "SessionImageNotFound"
    default_message = "Session image ID is not found. The image is expired or does not exist."


class UnsupportedApiVersion(OpenLivenessError):
    code = "UnsupportedApiVersion"
    default_message = "The API version is not supported."


class ConcurrentOperationConflict(OpenLivenessError):
    code = "ConcurrentOperationConflict"
    default_message = "There is a conflict with another operation on this session; retry later."


class TooManyRequests(OpenLivenessError):
    code = "TooManyRequests"
    default_message = "Rate limit is exceeded. Try again later."

    def __init__(self, message: str | None = None, *, retry_after_seconds: int = 1) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class ServiceUnavailable(OpenLivenessError):
    code = "ServiceUnavailable"
    default_message = "The service is temporarily unavailable. Try again later."
