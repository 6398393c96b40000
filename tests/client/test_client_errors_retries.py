"""Error mapping and retries of both clients, on `httpx.MockTransport` with recorded (not slept) delays."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from openliveness.client import (
    AuthenticationError,
    BadRequestError,
    ConflictError,
    FaceSessionClient,
    FaceSessionError,
    InvalidResponseError,
    NotFoundError,
    RateLimitError,
    RequestTimeoutError,
    RetryPolicy,
    ServiceError,
    SessionNotFoundError,
    TransportError,
    parse_retry_after,
)

Api = Any
Recorder = Any
ENDPOINT = "https://liveness.example.test"


def error(status: int, code: str | None, message: str = "msg", **headers: str) -> httpx.Response:
    all_headers = dict(headers)
    if code is not None:
        all_headers["x-ms-error-code"] = code
    body = {"error": {"code": code, "message": message}} if code is not None else None
    return httpx.Response(status, json=body, headers=all_headers)


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "InvalidTokenLifetime", BadRequestError),
        (401, "Unauthorized", AuthenticationError),
        (404, "SessionNotFound", SessionNotFoundError),
        (404, "SessionImageNotFound", NotFoundError),
        (409, "ConcurrentOperationConflict", ConflictError),
        (413, "PayloadTooLarge", BadRequestError),
        (500, "InternalError", ServiceError),
    ],
)
async def test_status_maps_to_error_class(
    api: Api, recorder: Recorder, status: int, code: str, cls: type[FaceSessionError]
) -> None:
    recorder.queue(error(status, code, "the message"))
    with pytest.raises(cls) as info:
        await api("get_liveness_session_result", "s")
    assert type(info.value) is cls
    assert (info.value.code, info.value.message, info.value.status_code) == (code, "the message", status)
    assert code in str(info.value) and str(status) in str(info.value)
    assert len(recorder.requests) == 1  # none of these is retried


async def test_code_from_header_when_body_is_not_json(api: Api, recorder: Recorder) -> None:
    recorder.queue(httpx.Response(400, text="bad things", headers={"x-ms-error-code": "BadArgument"}))
    with pytest.raises(BadRequestError) as info:
        await api("get_liveness_sessions", top=5000)
    assert (info.value.code, info.value.message) == ("BadArgument", "bad things")


async def test_body_code_wins_and_plain_404_is_not_a_session_error(api: Api, recorder: Recorder) -> None:
    recorder.queue(httpx.Response(404, json={"detail": "Not Found"}))
    with pytest.raises(NotFoundError) as info:
        await api("get_session_image", "x")
    assert not isinstance(info.value, SessionNotFoundError)
    assert (info.value.code, info.value.message) == (None, "Not Found")


async def test_malformed_success_body_raises_invalid_response(api: Api, recorder: Recorder) -> None:
    recorder.queue(httpx.Response(200, text="<html>proxy</html>"), httpx.Response(200, json={"sessionId": 1}))
    with pytest.raises(InvalidResponseError):
        await api("get_liveness_sessions")
    with pytest.raises(InvalidResponseError, match=r"sessionId|authToken"):
        await api("create_liveness_session", {"livenessOperationMode": "Passive"})


async def test_429_with_retry_after_then_200_retries_after_waiting(
    api: Api, recorder: Recorder, sleeps: list[float]
) -> None:
    recorder.queue(
        error(429, "TooManyRequests", **{"Retry-After": "7"}),
        httpx.Response(200, json={"sessionId": "s", "authToken": "t"}),
    )
    result = await api("create_liveness_session", {"livenessOperationMode": "Passive"})
    assert result.session_id == "s"
    assert len(recorder.requests) == 2
    assert sleeps == [7.0]
    first, second = recorder.requests
    # The same call keeps its request id and body across attempts.
    assert first.headers["x-ms-client-request-id"] == second.headers["x-ms-client-request-id"]
    assert first.content == second.content


async def test_retry_after_as_http_date(api: Api, recorder: Recorder, sleeps: list[float]) -> None:
    when = datetime.fromtimestamp(time.time() + 30, tz=UTC)
    recorder.queue(
        error(503, "ServiceUnavailable", **{"Retry-After": format_datetime(when, usegmt=True)}),
        httpx.Response(204),
    )
    await api("delete_liveness_session", "s")
    assert len(sleeps) == 1 and 27 <= sleeps[0] <= 30


async def test_503_without_retry_after_backs_off_exponentially_with_jitter(
    api: Api, recorder: Recorder, sleeps: list[float]
) -> None:
    recorder.queue(*(error(503, "ServiceUnavailable") for _ in range(3)), httpx.Response(204))
    await api("delete_liveness_session", "s")
    assert len(sleeps) == 3
    for attempt, delay in enumerate(sleeps):
        ceiling = 0.5 * 2**attempt
        assert ceiling / 2 <= delay <= ceiling


async def test_retries_are_bounded_and_the_last_error_is_raised(
    api: Api, recorder: Recorder, sleeps: list[float]
) -> None:
    recorder.queue(*(error(429, "TooManyRequests", **{"Retry-After": "1"}) for _ in range(4)))
    with pytest.raises(RateLimitError) as info:
        await api("get_liveness_sessions")
    assert len(recorder.requests) == 4  # 1 + max_retries (3)
    assert sleeps == [1.0, 1.0, 1.0]
    assert info.value.retry_after == 1.0


async def test_retry_after_beyond_the_cap_is_not_waited(api: Api, recorder: Recorder, sleeps: list[float]) -> None:
    recorder.queue(error(429, "TooManyRequests", **{"Retry-After": "3600"}))
    with pytest.raises(RateLimitError) as info:
        await api("get_liveness_sessions")
    assert sleeps == [] and info.value.retry_after == 3600.0


async def test_connection_failure_is_retried_for_any_method(api: Api, recorder: Recorder, sleeps: list[float]) -> None:
    recorder.queue(httpx.ConnectError("refused"), httpx.Response(200, json={"sessionId": "s", "authToken": "t"}))
    await api("create_liveness_session", {"livenessOperationMode": "Passive"})
    assert len(recorder.requests) == 2 and len(sleeps) == 1


async def test_read_failure_is_retried_only_when_idempotent(api: Api, recorder: Recorder, sleeps: list[float]) -> None:
    recorder.queue(httpx.ReadError("reset"), httpx.Response(204))
    await api("delete_liveness_session", "s")
    assert len(recorder.requests) == 2
    recorder.queue(httpx.ReadError("reset"))
    with pytest.raises(TransportError) as info:
        await api("create_liveness_session", {"livenessOperationMode": "Passive"})
    assert len(recorder.requests) == 3  # the POST may have been processed: not sent twice
    assert info.value.status_code is None and info.value.code == "ReadError"


async def test_timeouts_are_wrapped(api: Api, recorder: Recorder) -> None:
    recorder.queue(*(httpx.ReadTimeout("slow") for _ in range(4)))
    with pytest.raises(RequestTimeoutError):
        await api("get_liveness_sessions")
    assert len(recorder.requests) == 4


def test_max_retries_zero_disables_retries() -> None:
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return error(503, "ServiceUnavailable", **{"Retry-After": "0"})

    client = FaceSessionClient(ENDPOINT, "k", max_retries=0, transport=httpx.MockTransport(handler))
    with client, pytest.raises(ServiceError):
        client.get_liveness_sessions()
    assert len(calls) == 1


def test_real_sleep_is_used_by_default_and_bounded_by_policy() -> None:
    answers = [error(503, "ServiceUnavailable"), httpx.Response(204)]
    policy = RetryPolicy(max_retries=1, backoff_factor=0.05, max_backoff=0.05)
    with FaceSessionClient(
        ENDPOINT, "k", retry_policy=policy, transport=httpx.MockTransport(lambda _: answers.pop(0))
    ) as client:
        started = time.monotonic()
        client.delete_liveness_session("s")
        elapsed = time.monotonic() - started
    assert 0.02 <= elapsed < 1.0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "12"}, 12.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"retry-after": "-3"}, 0.0),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),
        ({"retry-after": "Thu, 01 Jan 1970 00:01:40 GMT"}, 60.0),
        ({"retry-after": "soon"}, None),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"x-ms-retry-after-ms": "1000"}, 1.0),
        ({}, None),
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    now = 40.0 if "1970" in headers.get("retry-after", "") else None
    assert parse_retry_after(httpx.Headers(headers), now=now) == expected
