"""The synchronous client: sends what the shared base builds, over an `httpx.Client`."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx

from ._base import (
    DEFAULT_API_VERSION,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    BaseFaceSessionClient,
    Operation,
    RetryPolicy,
    SupportsKey,
)
from ._models import (
    CreateLivenessSessionContent,
    CreateLivenessSessionResult,
    CreateLivenessWithVerifySessionContent,
    CreateLivenessWithVerifySessionResult,
    LivenessSession,
    LivenessSessionAuditEntry,
    LivenessSessionItem,
    LivenessWithVerifySession,
)

__all__ = ["FaceSessionClient"]

_T = TypeVar("_T")


class FaceSessionClient(BaseFaceSessionClient):
    """Manage liveness sessions from an app server (blocking I/O).

    ```python
    with FaceSessionClient("https://liveness.example.com", "my-key") as client:
        created = client.create_liveness_session(
            CreateLivenessSessionContent(liveness_operation_mode="Passive", device_correlation_id="dev-1")
        )
    ```

    `credential` is the API key, or any object with a `key` attribute (such as Azure's
    `AzureKeyCredential`), read on every request so a key can be rotated. `timeout` is the default for
    every call (seconds or an `httpx.Timeout`; None for none). `max_retries` bounds the retries of 429, 503
    and connection failures (or pass a whole `retry_policy`). `transport` replaces the network, for tests
    (`httpx.MockTransport`, `httpx.WSGITransport`); `sleep` replaces `time.sleep` between retries.
    Every method raises a `FaceSessionError` subclass on failure.
    """

    def __init__(
        self,
        endpoint: str,
        credential: str | SupportsKey,
        *,
        api_version: str = DEFAULT_API_VERSION,
        timeout: float | httpx.Timeout | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry_policy: RetryPolicy | None = None,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(
            endpoint, credential, api_version=api_version, max_retries=max_retries, retry_policy=retry_policy
        )
        self._sleep = sleep
        self._http = httpx.Client(transport=transport, timeout=timeout, headers={"User-Agent": self._user_agent()})

    def _send(self, op: Operation[_T], timeout: float | None) -> _T:
        request_id = self._new_request_id()
        attempt = 0
        while True:
            request = self._http.build_request(**self._request_args(op, timeout, request_id))
            try:
                response = self._http.send(request)
            except httpx.TransportError as exc:
                delay = self._retry_delay(op, attempt, error=exc)
                if delay is None:
                    raise self._error_from_transport(exc) from exc
            else:
                delay = self._retry_delay(op, attempt, response=response)
                if delay is None:
                    return self._handle(op, response)
            attempt += 1
            self._sleep(delay)

    # --- liveness sessions -------------------------------------------------------------------------------

    def create_liveness_session(
        self, body: CreateLivenessSessionContent | Mapping[str, Any], *, timeout: float | None = None
    ) -> CreateLivenessSessionResult:
        """Create a liveness session; give `auth_token` to the end-user's device and keep `session_id`.

        `body` is a `CreateLivenessSessionContent` or its JSON as a mapping (camelCase keys, as Azure's).
        """
        return self._send(self._build_create_liveness_session(body), timeout)

    def get_liveness_session_result(self, session_id: str, *, timeout: float | None = None) -> LivenessSession:
        """Get a session's status and, once the device has made a liveness call, its latest result."""
        return self._send(self._build_get_liveness_session_result(session_id), timeout)

    def get_liveness_sessions(
        self, *, start: str | None = None, top: int | None = None, timeout: float | None = None
    ) -> list[LivenessSessionItem]:
        """List sessions in ascending id order: `start` is the id after which to begin, `top` is 1..1000."""
        return self._send(self._build_get_liveness_sessions(start, top), timeout)

    def get_liveness_session_audit_entries(
        self,
        session_id: str,
        *,
        start: str | int | None = None,
        top: int | None = None,
        timeout: float | None = None,
    ) -> list[LivenessSessionAuditEntry]:
        """List the liveness calls of a session: `start` is the entry id after which to begin."""
        return self._send(self._build_get_liveness_session_audit_entries(session_id, start, top), timeout)

    def delete_liveness_session(self, session_id: str, *, timeout: float | None = None) -> None:
        """Delete a session; its auth token stops working at once."""
        return self._send(self._build_delete_liveness_session(session_id), timeout)

    # --- liveness with verify sessions ---------------------------------------------------------------------

    def create_liveness_with_verify_session(
        self,
        body: CreateLivenessWithVerifySessionContent | Mapping[str, Any],
        *,
        verify_image: bytes | None = None,
        timeout: float | None = None,
    ) -> CreateLivenessWithVerifySessionResult:
        """Create a liveness session that also verifies the face against a reference image.

        With `verify_image` (JPEG, PNG, GIF, BMP or WEBP bytes, at most 6 MB) the request is multipart
        (`Parameters` + `VerifyImage`) and the result describes the face found in it; without, the request
        is JSON and the device sends the reference image itself.
        """
        return self._send(self._build_create_liveness_with_verify_session(body, verify_image), timeout)

    def get_liveness_with_verify_session_result(
        self, session_id: str, *, timeout: float | None = None
    ) -> LivenessWithVerifySession:
        """Get a verify session's status and latest result (with `verify_result` in its body)."""
        return self._send(self._build_get_liveness_with_verify_session_result(session_id), timeout)

    def get_liveness_with_verify_sessions(
        self, *, start: str | None = None, top: int | None = None, timeout: float | None = None
    ) -> list[LivenessSessionItem]:
        """List verify sessions in ascending id order: `start` is the id after which to begin."""
        return self._send(self._build_get_liveness_with_verify_sessions(start, top), timeout)

    def get_liveness_with_verify_session_audit_entries(
        self,
        session_id: str,
        *,
        start: str | int | None = None,
        top: int | None = None,
        timeout: float | None = None,
    ) -> list[LivenessSessionAuditEntry]:
        """List the liveness calls of a verify session: `start` is the entry id after which to begin."""
        return self._send(self._build_get_liveness_with_verify_session_audit_entries(session_id, start, top), timeout)

    def delete_liveness_with_verify_session(self, session_id: str, *, timeout: float | None = None) -> None:
        """Delete a verify session; its auth token stops working at once."""
        return self._send(self._build_delete_liveness_with_verify_session(session_id), timeout)

    # --- session images ----------------------------------------------------------------------------------

    def get_session_image(self, session_image_id: str, *, timeout: float | None = None) -> bytes:
        """Download the image kept for a session created with `enable_session_image` (api v1.2-preview.1)."""
        return self._send(self._build_get_session_image(session_image_id), timeout)

    # --- lifetime ----------------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connection pool (and an injected transport). The client cannot be used afterwards."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
