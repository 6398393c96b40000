"""Errors the client raises: one base carrying the server's error code, one subclass per kind of failure."""

from __future__ import annotations

__all__ = [
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "FaceSessionError",
    "InvalidResponseError",
    "NotFoundError",
    "RateLimitError",
    "RequestTimeoutError",
    "ServiceError",
    "SessionNotFoundError",
    "TransportError",
]


class FaceSessionError(Exception):
    """Base of every error this client raises.

    `code` is the server's error code (`{"error": {"code": ...}}` or the `x-ms-error-code` header), for
    example `"SessionNotFound"` or `"InvalidImage"`; `status_code` is None when no response arrived;
    `retry_after` is the server's `Retry-After` in seconds, when it sent one.
    """

    def __init__(
        self,
        code: str | None,
        message: str,
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.status_code = status_code
        self.retry_after = retry_after
        super().__init__(message)

    def __str__(self) -> str:
        parts = [str(self.status_code)] if self.status_code is not None else []
        if self.code:
            parts.append(self.code)
        prefix = " ".join(parts)
        return f"({prefix}) {self.message}" if prefix else self.message

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, "
            f"status_code={self.status_code!r}, retry_after={self.retry_after!r})"
        )


class BadRequestError(FaceSessionError):
    """The server refused the request (400, and any 4xx without a more specific class)."""


class AuthenticationError(FaceSessionError):
    """401: the key is missing or wrong."""


class NotFoundError(FaceSessionError):
    """404: the addressed resource does not exist (for example a session image)."""


class SessionNotFoundError(NotFoundError):
    """404 `SessionNotFound`: the session id is expired, deleted or never existed."""


class ConflictError(FaceSessionError):
    """409: a concurrent operation on the same session conflicts (`ConcurrentOperationConflict`)."""


class RateLimitError(FaceSessionError):
    """429: too many requests; `retry_after` says when to try again. Raised once retries are spent."""


class ServiceError(FaceSessionError):
    """5xx: the server failed. 503 is retried before this is raised."""


class TransportError(FaceSessionError):
    """No usable response arrived: the connection failed or broke. `status_code` is None."""


class RequestTimeoutError(TransportError):
    """The request did not complete within its timeout."""


class InvalidResponseError(FaceSessionError):
    """A successful response's body does not have the shape the API defines (a server or proxy fault)."""
