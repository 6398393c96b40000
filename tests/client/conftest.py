"""Fixtures of the client tests: wire payloads shaped as the API defines them, and mock-transport clients."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import io
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

import httpx
import pytest

from openliveness.client import AsyncFaceSessionClient, FaceSessionClient

ENDPOINT = "https://liveness.example.test"
KEY = "test-key-0123456789"

AUDIT_ENTRY: dict[str, Any] = {
    "id": 4,
    "sessionId": "b12e033e-bda7-4b83-a211-e721c661f30e",
    "requestId": "cb2b47dc-b2dd-49e8-bdf9-9b854c7ba843",
    "clientRequestId": "80cc9a1b-2d1a-4c55-b3a3-9e7f83bab7a6",
    "receivedDateTime": "2024-05-15T20:01:22.3245967+00:00",
    "request": {
        "url": "/face/v1.2-preview.1/detectLiveness/singleModal",
        "method": "POST",
        "contentLength": 352568,
        "contentType": "multipart/form-data; boundary=--------------------------482763481579020783621915",
        "userAgent": "",
    },
    "response": {
        "body": {
            "livenessDecision": "realface",
            "target": {
                "faceRectangle": {"top": 59, "left": 121, "width": 409, "height": 395},
                "fileName": "content.bin",
                "timeOffsetWithinFile": 0,
                "imageType": "Color",
            },
            "modelVersionUsed": "2022-10-15-preview.04",
            "verifyResult": {
                "verifyImage": {
                    "faceRectangle": {"top": 506, "left": 51, "width": 680, "height": 475},
                    "qualityForRecognition": "high",
                },
                "matchConfidence": 0.9304124,
                "isIdentical": True,
            },
        },
        "statusCode": 200,
        "latencyInMilliseconds": 1306,
    },
    "digest": "2AF6D7B7BDBE2E3E1B0B1C5F4E6A1AB50E2C7D4B3E5F5A9C8B7A6F5E4D3C2B1A",
    "sessionImageId": "3gOxgA8h9jV0lP+3vp1VjU9Q1jYkdNjdDVSyb7eH4Ms=",
    "verifyImageHash": "43B7D8E8769533C3290DBD37A84D821B2C28CB4381DF9C6784DBC4AAF7E45018",
}

SESSION: dict[str, Any] = {
    "id": "b12e033e-bda7-4b83-a211-e721c661f30e",
    "createdDateTime": "2024-05-15T20:00:06.8281238+00:00",
    "sessionStartDateTime": "2024-05-15T20:01:20.1029403+00:00",
    "sessionExpired": False,
    "deviceCorrelationId": "723d6d03-ef33-40a8-9682-23a1feb7bccd",
    "authTokenTimeToLiveInSeconds": 600,
    "status": "ResultAvailable",
    "result": AUDIT_ENTRY,
}

SESSION_ITEM: dict[str, Any] = {k: v for k, v in SESSION.items() if k not in ("status", "result")}


@pytest.fixture
def audit_entry() -> dict[str, Any]:
    """A fresh copy of a complete audit entry, free to mutate."""
    return copy.deepcopy(AUDIT_ENTRY)


@pytest.fixture
def session_item_json() -> dict[str, Any]:
    """A fresh copy of a listed session (no status or result)."""
    return copy.deepcopy(SESSION_ITEM)


@pytest.fixture
def session_json() -> dict[str, Any]:
    """A fresh copy of a session with a result, free to mutate."""
    return copy.deepcopy(SESSION)


Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A mock server: answers from a queue of responses and keeps every request it saw."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.responses: list[httpx.Response | Exception] = []

    def queue(self, *responses: httpx.Response | Exception) -> Recorder:
        self.responses.extend(responses)
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        request.read()
        self.requests.append(request)
        if not self.responses:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        answer = self.responses.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def sleeps() -> list[float]:
    """Delays the clients were told to sleep, recorded instead of slept."""
    return []


@pytest.fixture
def sync_client(recorder: Recorder, sleeps: list[float]) -> Iterator[FaceSessionClient]:
    with FaceSessionClient(ENDPOINT, KEY, transport=httpx.MockTransport(recorder), sleep=sleeps.append) as client:
        yield client


@pytest.fixture
async def async_client(recorder: Recorder, sleeps: list[float]) -> Any:
    async def fake_sleep(delay: float) -> None:
        sleeps.append(delay)

    async with AsyncFaceSessionClient(
        ENDPOINT, KEY, transport=httpx.MockTransport(recorder), sleep=fake_sleep
    ) as client:
        yield client


class Api:
    """Calls a method of either client the same way, so one test covers sync and async."""

    def __init__(self, client: FaceSessionClient | AsyncFaceSessionClient) -> None:
        self.client = client
        self.is_async = isinstance(client, AsyncFaceSessionClient)

    async def __call__(self, method: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.client, method)(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result


@pytest.fixture(params=["sync", "async"])
async def api(request: pytest.FixtureRequest, recorder: Recorder, sleeps: list[float]) -> Any:
    """Both clients on one mock transport, each test run once per flavour."""
    if request.param == "sync":
        with FaceSessionClient(ENDPOINT, KEY, transport=httpx.MockTransport(recorder), sleep=sleeps.append) as client:
            yield Api(client)
    else:

        async def fake_sleep(delay: float) -> None:
            sleeps.append(delay)

        async with AsyncFaceSessionClient(
            ENDPOINT, KEY, transport=httpx.MockTransport(recorder), sleep=fake_sleep
        ) as aclient:
            yield Api(aclient)


# Fields OpenLiveness adds beside Azure's; everything else must match azure-ai-vision-face's models.
OURS_ONLY = frozenset({"signals", "reasons", "additional_properties"})


def _same_as_azure(ours: Any, theirs: Any, path: str) -> None:
    if dataclasses.is_dataclass(ours):
        assert theirs is not None, f"{path}: azure has None, ours {ours!r}"
        for f in dataclasses.fields(ours):
            if f.name not in OURS_ONLY:
                _same_as_azure(getattr(ours, f.name), getattr(theirs, f.name, None), f"{path}.{f.name}")
    elif isinstance(ours, list | tuple):
        assert theirs is not None and len(ours) == len(theirs), path
        for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
            _same_as_azure(a, b, f"{path}[{i}]")
    elif isinstance(ours, datetime):
        # Azure and we may round a 7-digit fraction differently in its last microsecond.
        assert isinstance(theirs, datetime) and abs(ours - theirs) <= timedelta(microseconds=1), path
    else:
        a = ours.value if isinstance(ours, Enum) else ours
        b = theirs.value if isinstance(theirs, Enum) else theirs
        assert a == b, f"{path}: ours {a!r} != azure {b!r}"


@pytest.fixture
def assert_same_as_azure() -> Callable[[Any, Any], None]:
    """Compare one of our results with azure-ai-vision-face's, field by field (ours' additions excluded)."""

    def check(ours: Any, theirs: Any) -> None:
        _same_as_azure(ours, theirs, type(ours).__name__)

    return check


@pytest.fixture(scope="session")
def face_jpeg() -> bytes:
    """A real face photo (scikit-image's astronaut) as JPEG."""
    data = pytest.importorskip("skimage.data")
    image_module = pytest.importorskip("PIL.Image")
    out = io.BytesIO()
    image_module.fromarray(data.astronaut()).save(out, format="JPEG", quality=90)
    return out.getvalue()


async def _record_result(
    services: Any,
    session_id: str,
    *,
    image: bytes | None = None,
    verify: bool = False,
) -> None:
    """Record a detect call's audit entry (with OpenLiveness's signals and reasons) as the session result."""
    from openliveness.domain import AuditEntryRecord, SessionImageRecord

    session = await services.store.get_session(session_id)
    assert session is not None
    attempt = await services.sessions.start_attempt(session, {}, valid_for=timedelta(minutes=5))
    now = datetime.now(UTC)
    image_record = None
    if image is not None:
        image_record = SessionImageRecord(
            id=str(uuid.uuid4()),
            session_id=session_id,
            content=image,
            media_type="image/jpeg",
            created_at=now,
        )
    body: dict[str, Any] = {
        "livenessDecision": "realface",
        "target": {
            "faceRectangle": {"top": 10, "left": 20, "width": 100, "height": 120},
            "fileName": "frame-3.jpg",
            "timeOffsetWithinFile": 0,
            "imageType": "Color",
        },
        "modelVersionUsed": "openliveness-test",
        "signals": {"flash_timing": 0.93, "flash_shape": 0.81},
        "reasons": ["flash timing matches the challenge"],
    }
    if verify:
        body["verifyResult"] = {
            "verifyImage": {
                "faceRectangle": {"top": 1, "left": 2, "width": 3, "height": 4},
                "qualityForRecognition": "high",
            },
            "matchConfidence": 0.87,
            "isIdentical": True,
        }
    entry = AuditEntryRecord(
        session_id=session_id,
        request_id=str(uuid.uuid4()),
        client_request_id=str(uuid.uuid4()),
        received_at=now,
        request={
            "url": "/face/v1.2-preview.1/detectLiveness/singleModal",
            "method": "POST",
            "contentLength": 12345,
            "contentType": "multipart/form-data",
            "userAgent": "test",
        },
        response={"body": body, "statusCode": 200, "latencyInMilliseconds": 42},
        digest="ab" * 32,
        session_image_id=None if image_record is None else image_record.id,
    )
    await services.sessions.record_result(session, attempt, entry, image_record)


@pytest.fixture
def record_result() -> Callable[..., Any]:
    """Records a result for a session through the server's session service (needs the server extra)."""
    return _record_result
