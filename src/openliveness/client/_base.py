"""The I/O-free core shared by the sync and async clients: builds every request, parses every response,
maps errors and decides retries. The two I/O classes only send what this builds and sleep when it says.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from enum import Enum
from typing import Any, Generic, Protocol, TypeVar, runtime_checkable
from urllib.parse import quote

import httpx

from openliveness import __version__

from ._errors import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    FaceSessionError,
    InvalidResponseError,
    NotFoundError,
    RateLimitError,
    RequestTimeoutError,
    ServiceError,
    SessionNotFoundError,
    TransportError,
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
    ResponseFormatError,
    Versions,
)

__all__ = [
    "DEFAULT_API_VERSION",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "BaseFaceSessionClient",
    "KeyCredential",
    "Operation",
    "RetryPolicy",
    "SupportsKey",
    "parse_retry_after",
]

DEFAULT_API_VERSION = Versions.V1_2_PREVIEW_1.value
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
DEFAULT_MAX_RETRIES = 3

_T = TypeVar("_T")
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# 429 and 503 mean the server did not act on the request, so even a POST is safe to send again.
_RETRY_STATUS = frozenset({429, 503})
_LIVENESS = "/detectLiveness/singleModal/sessions"
_VERIFY = "/detectLivenessWithVerify/singleModal/sessions"


@runtime_checkable
class SupportsKey(Protocol):
    """Anything with a `key` string, such as `azure.core.credentials.AzureKeyCredential`."""

    @property
    def key(self) -> str:
        """The API key."""
        ...


class KeyCredential:
    """An API key that can be rotated while clients using it stay open (like Azure's `AzureKeyCredential`)."""

    def __init__(self, key: str) -> None:
        self.update(key)

    @property
    def key(self) -> str:
        """The current API key."""
        return self._key

    def update(self, key: str) -> None:
        """Replace the key; the next request sends the new one."""
        if not isinstance(key, str) or not key:
            raise ValueError("the API key must be a non-empty string")
        self._key = key

    def __repr__(self) -> str:
        return "KeyCredential(key='***')"


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """When and how long to wait before sending a request again.

    Retried: 429 and 503 (any method), connection failures before the request was sent (any method),
    and other transport failures and timeouts for idempotent methods only. A `Retry-After` (or
    `retry-after-ms`) from the server is honoured exactly; above `max_retry_after` seconds the client
    gives up at once and raises, leaving the wait to the caller. Otherwise the wait is exponential
    (`backoff_factor * 2**attempt`, capped at `max_backoff`) with jitter so clients do not retry in step.
    """

    max_retries: int = DEFAULT_MAX_RETRIES
    backoff_factor: float = 0.5
    max_backoff: float = 8.0
    max_retry_after: float = 60.0

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if self.backoff_factor < 0 or self.max_backoff < 0 or self.max_retry_after < 0:
            raise ValueError("backoff_factor, max_backoff and max_retry_after must be >= 0")


def parse_retry_after(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait according to `retry-after-ms`, `x-ms-retry-after-ms` or `Retry-After`.

    `Retry-After` may be delay-seconds or an HTTP date (RFC 9110); a date in the past gives 0. `now` is the
    current POSIX time (injectable for tests). Returns None when no usable header is present.
    """
    for name in ("retry-after-ms", "x-ms-retry-after-ms"):
        raw = headers.get(name)
        if raw is not None:
            try:
                return max(0.0, float(raw) / 1000.0)
            except ValueError:
                pass
    raw = headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        try:
            when: datetime = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - (time.time() if now is None else now)
    if seconds != seconds or seconds == float("inf"):  # NaN or infinite: not a usable delay
        return None
    return max(0.0, seconds)


@dataclass(frozen=True, slots=True, kw_only=True)
class Operation(Generic[_T]):
    """One API call, fully described: what to send and how to read a successful answer."""

    method: str
    path: str
    parse: Callable[[httpx.Response], _T]
    params: Mapping[str, str] = field(default_factory=dict)
    json_body: Mapping[str, Any] | None = None
    data: Mapping[str, str] | None = None
    files: Mapping[str, tuple[str, bytes, str]] | None = None
    accept: str = "application/json"

    @property
    def idempotent(self) -> bool:
        """Whether sending this twice has the effect of sending it once."""
        return self.method in _IDEMPOTENT


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        raise ResponseFormatError(f"the response body is not JSON: {response.text[:200]!r}") from None


def _list_of(parse: Callable[[object], _T]) -> Callable[[httpx.Response], list[_T]]:
    def parse_list(response: httpx.Response) -> list[_T]:
        data = _json(response)
        if not isinstance(data, list):
            raise ResponseFormatError(f"expected a JSON array, got {type(data).__name__}")
        return [parse(item) for item in data]

    return parse_list


def _one(parse: Callable[[object], _T]) -> Callable[[httpx.Response], _T]:
    def parse_one(response: httpx.Response) -> _T:
        return parse(_json(response))

    return parse_one


def _nothing(response: httpx.Response) -> None:
    return None


def _content(response: httpx.Response) -> bytes:
    return response.content


def _segment(value: str, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string")
    # Quote everything, '/' included, so an id can never address another path.
    return quote(value, safe="")


def _paging(start: str | int | None, top: int | None) -> dict[str, str]:
    params: dict[str, str] = {}
    if start is not None:
        params["start"] = str(start)
    if top is not None:
        params["top"] = str(top)
    return params


def _body_dict(body: object, content_type: type) -> dict[str, Any]:
    if isinstance(body, content_type):
        result: dict[str, Any] = body.as_dict()  # type: ignore[attr-defined]
        return result
    if isinstance(body, Mapping):
        return {k: (v.value if isinstance(v, Enum) else v) for k, v in body.items()}
    raise TypeError(f"body must be a {content_type.__name__} or a mapping, not {type(body).__name__}")


def _error_class(status: int, code: str | None) -> type[FaceSessionError]:
    if status == 401:
        return AuthenticationError
    if status == 404:
        return SessionNotFoundError if code == "SessionNotFound" else NotFoundError
    if status == 409:
        return ConflictError
    if status == 429:
        return RateLimitError
    if 400 <= status < 500:
        return BadRequestError
    if status >= 500:
        return ServiceError
    return FaceSessionError


class BaseFaceSessionClient:
    """Configuration, request building, response parsing and retry decisions; no I/O."""

    def __init__(
        self,
        endpoint: str,
        credential: str | SupportsKey,
        *,
        api_version: str = DEFAULT_API_VERSION,
        max_retries: int = DEFAULT_MAX_RETRIES,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        if not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://")):
            raise ValueError(f"endpoint must be an http(s) URL, got {endpoint!r}")
        if isinstance(credential, str):
            credential = KeyCredential(credential)
        elif not isinstance(credential, SupportsKey):
            raise TypeError("credential must be an API key string or an object with a 'key' attribute")
        version = api_version.value if isinstance(api_version, Enum) else api_version
        if not isinstance(version, str) or not version:
            raise ValueError("api_version must be a non-empty string")
        self._endpoint = endpoint.rstrip("/")
        self._credential: SupportsKey = credential
        self._api_version: str = version
        self._retry = retry_policy if retry_policy is not None else RetryPolicy(max_retries=max_retries)
        self._random = random.Random()

    @property
    def endpoint(self) -> str:
        """The service endpoint, without a trailing slash."""
        return self._endpoint

    @property
    def api_version(self) -> str:
        """The API version in every request path."""
        return self._api_version

    @property
    def base_url(self) -> str:
        """`{endpoint}/face/{api_version}`: the root of every request path."""
        return f"{self._endpoint}/face/{self._api_version}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(endpoint={self._endpoint!r}, api_version={self._api_version!r})"

    # --- requests ----------------------------------------------------------------------------------------

    def _request_args(self, op: Operation[Any], timeout: float | None, request_id: str) -> dict[str, Any]:
        """Keyword arguments for `httpx.Client.build_request` / `httpx.AsyncClient.build_request`."""
        headers = {
            "Ocp-Apim-Subscription-Key": self._credential.key,
            "Accept": op.accept,
            "x-ms-client-request-id": request_id,
        }
        args: dict[str, Any] = {
            "method": op.method,
            "url": self.base_url + op.path,
            "params": dict(op.params),
            "headers": headers,
        }
        if timeout is not None:
            args["timeout"] = timeout
        if op.json_body is not None:
            headers["Content-Type"] = "application/json"
            args["content"] = json.dumps(op.json_body, separators=(",", ":")).encode()
        if op.files is not None:
            args["files"] = dict(op.files)
            args["data"] = dict(op.data or {})
        return args

    @staticmethod
    def _user_agent() -> str:
        return f"openliveness-python/{__version__} httpx/{httpx.__version__}"

    @staticmethod
    def _new_request_id() -> str:
        # One id per call, kept across retries, so server logs tie the attempts together.
        return str(uuid.uuid4())

    def _build_create_liveness_session(
        self, body: CreateLivenessSessionContent | Mapping[str, Any]
    ) -> Operation[CreateLivenessSessionResult]:
        return Operation(
            method="POST",
            path=_LIVENESS,
            json_body=_body_dict(body, CreateLivenessSessionContent),
            parse=_one(CreateLivenessSessionResult.from_dict),
        )

    def _build_get_liveness_session_result(self, session_id: str) -> Operation[LivenessSession]:
        return Operation(
            method="GET",
            path=f"{_LIVENESS}/{_segment(session_id, 'session_id')}",
            parse=_one(LivenessSession.from_dict),
        )

    def _build_get_liveness_sessions(self, start: str | None, top: int | None) -> Operation[list[LivenessSessionItem]]:
        return Operation(
            method="GET",
            path=_LIVENESS,
            params=_paging(start, top),
            parse=_list_of(LivenessSessionItem.from_dict),
        )

    def _build_get_liveness_session_audit_entries(
        self, session_id: str, start: str | int | None, top: int | None
    ) -> Operation[list[LivenessSessionAuditEntry]]:
        return Operation(
            method="GET",
            path=f"{_LIVENESS}/{_segment(session_id, 'session_id')}/audit",
            params=_paging(start, top),
            parse=_list_of(LivenessSessionAuditEntry.from_dict),
        )

    def _build_delete_liveness_session(self, session_id: str) -> Operation[None]:
        return Operation(method="DELETE", path=f"{_LIVENESS}/{_segment(session_id, 'session_id')}", parse=_nothing)

    def _build_create_liveness_with_verify_session(
        self,
        body: CreateLivenessWithVerifySessionContent | Mapping[str, Any],
        verify_image: bytes | None,
    ) -> Operation[CreateLivenessWithVerifySessionResult]:
        parameters = _body_dict(body, CreateLivenessWithVerifySessionContent)
        parse = _one(CreateLivenessWithVerifySessionResult.from_dict)
        if verify_image is None:
            return Operation(method="POST", path=_VERIFY, json_body=parameters, parse=parse)
        if not isinstance(verify_image, bytes | bytearray | memoryview):
            raise TypeError("verify_image must be bytes")
        # The wire shape of azure-ai-vision-face: a `Parameters` form field holding the JSON content and a
        # `VerifyImage` file part named "verify-image".
        return Operation(
            method="POST",
            path=_VERIFY,
            data={"Parameters": json.dumps(parameters, separators=(",", ":"))},
            files={"VerifyImage": ("verify-image", bytes(verify_image), "application/octet-stream")},
            parse=parse,
        )

    def _build_get_liveness_with_verify_session_result(self, session_id: str) -> Operation[LivenessWithVerifySession]:
        return Operation(
            method="GET",
            path=f"{_VERIFY}/{_segment(session_id, 'session_id')}",
            parse=_one(LivenessWithVerifySession.from_dict),
        )

    def _build_get_liveness_with_verify_sessions(
        self, start: str | None, top: int | None
    ) -> Operation[list[LivenessSessionItem]]:
        return Operation(
            method="GET",
            path=_VERIFY,
            params=_paging(start, top),
            parse=_list_of(LivenessSessionItem.from_dict),
        )

    def _build_get_liveness_with_verify_session_audit_entries(
        self, session_id: str, start: str | int | None, top: int | None
    ) -> Operation[list[LivenessSessionAuditEntry]]:
        return Operation(
            method="GET",
            path=f"{_VERIFY}/{_segment(session_id, 'session_id')}/audit",
            params=_paging(start, top),
            parse=_list_of(LivenessSessionAuditEntry.from_dict),
        )

    def _build_delete_liveness_with_verify_session(self, session_id: str) -> Operation[None]:
        return Operation(method="DELETE", path=f"{_VERIFY}/{_segment(session_id, 'session_id')}", parse=_nothing)

    def _build_get_session_image(self, session_image_id: str) -> Operation[bytes]:
        return Operation(
            method="GET",
            path=f"/session/sessionImages/{_segment(session_image_id, 'session_image_id')}",
            accept="application/octet-stream",
            parse=_content,
        )

    # --- responses ---------------------------------------------------------------------------------------

    def _handle(self, op: Operation[_T], response: httpx.Response) -> _T:
        """Return the parsed result of a 2xx response, or raise the error a non-2xx response means."""
        if not response.is_success:
            raise self._error_from_response(response)
        try:
            return op.parse(response)
        except ResponseFormatError as exc:
            raise InvalidResponseError(None, str(exc), response.status_code) from exc

    @staticmethod
    def _error_from_response(response: httpx.Response) -> FaceSessionError:
        """Build the typed error for a non-2xx response from its body and headers."""
        code = response.headers.get("x-ms-error-code")
        message: str | None = None
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if isinstance(payload, Mapping):
            error = payload.get("error")
            if isinstance(error, Mapping):
                if isinstance(error.get("code"), str):
                    code = error["code"]
                if isinstance(error.get("message"), str):
                    message = error["message"]
            elif isinstance(payload.get("detail"), str):
                message = payload["detail"]
        if message is None:
            message = response.text[:500] or response.reason_phrase or f"HTTP {response.status_code}"
        cls = _error_class(response.status_code, code)
        return cls(code, message, response.status_code, parse_retry_after(response.headers))

    @staticmethod
    def _error_from_transport(exc: httpx.TransportError) -> TransportError:
        """Wrap an httpx transport failure so callers catch one hierarchy."""
        name = type(exc).__name__
        if isinstance(exc, httpx.TimeoutException):
            return RequestTimeoutError(name, f"the request timed out: {exc}")
        return TransportError(name, f"the request failed: {exc}")

    # --- retries -----------------------------------------------------------------------------------------

    def _retry_delay(
        self,
        op: Operation[Any],
        attempt: int,
        *,
        response: httpx.Response | None = None,
        error: httpx.TransportError | None = None,
    ) -> float | None:
        """Seconds to wait before attempt `attempt + 1`, or None to stop (return or raise now)."""
        if attempt >= self._retry.max_retries:
            return None
        if response is not None:
            if response.status_code not in _RETRY_STATUS:
                return None
            retry_after = parse_retry_after(response.headers)
            if retry_after is not None:
                return retry_after if retry_after <= self._retry.max_retry_after else None
        elif error is not None:
            # A connect failure means nothing reached the server; anything later might have been processed.
            sent = not isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
            if sent and not op.idempotent:
                return None
        else:
            return None
        backoff: float = min(self._retry.max_backoff, self._retry.backoff_factor * 2.0**attempt)
        return backoff * self._random.uniform(0.5, 1.0)
