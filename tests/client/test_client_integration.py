"""Every client method against the real server app: async over ASGI, sync and async over real HTTP.

Results (audit entries) are recorded through the server's own session service, as its detect route does.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

pytest.importorskip("fastapi", reason="the server extra is not installed")

from openliveness.api import create_app
from openliveness.client import (
    AsyncFaceSessionClient,
    AuthenticationError,
    BadRequestError,
    CreateLivenessSessionContent,
    CreateLivenessWithVerifySessionContent,
    FaceLivenessDecision,
    FaceSessionClient,
    FaceSessionStatus,
    LivenessSession,
    LivenessWithVerifySession,
    NotFoundError,
    SessionNotFoundError,
)
from openliveness.services import Services, build_services
from openliveness.settings import Settings

FLAVOURS = ["asgi-async", "http-sync", "http-async"]


@dataclass
class Target:
    """A client of one flavour on a running server, plus that server's services for recording results."""

    client: FaceSessionClient | AsyncFaceSessionClient
    services: Services

    async def __call__(self, method: str, *args: Any, **kwargs: Any) -> Any:
        result = getattr(self.client, method)(*args, **kwargs)
        if isinstance(self.client, AsyncFaceSessionClient):
            result = await result
        return result


@dataclass
class Backend:
    """Where the server runs: in-process (ASGI, with the test's services) or over HTTP (the live server)."""

    flavour: str
    key: str
    services: Services | None = None
    live: Any = None


@pytest.fixture(params=FLAVOURS)
def backend(request: pytest.FixtureRequest) -> Backend:
    # Resolved from a sync fixture: `live_server` runs its own event loop and must not start inside one.
    if request.param == "asgi-async":
        return Backend(request.param, request.getfixturevalue("api_key"), services=request.getfixturevalue("services"))
    live = request.getfixturevalue("live_server")
    return Backend(request.param, live.api_key, live=live)


@pytest.fixture
async def target(backend: Backend) -> AsyncIterator[Target]:
    if backend.services is not None:
        transport = httpx.ASGITransport(app=create_app(services=backend.services))
        async with AsyncFaceSessionClient("http://testserver", backend.key, transport=transport) as aclient:
            yield Target(aclient, backend.services)
        return
    # A second set of services on the live server's database, to record results as its detect route would.
    own = await build_services(backend.live.settings)
    try:
        if backend.flavour == "http-sync":
            with FaceSessionClient(backend.live.url, backend.key) as client:
                yield Target(client, own)
        else:
            async with AsyncFaceSessionClient(backend.live.url, backend.key) as aclient:
                yield Target(aclient, own)
    finally:
        await own.close()


def device() -> str:
    return f"device-{uuid.uuid4()}"


async def test_liveness_session_every_method(target: Target, face_jpeg: bytes, record_result: Any) -> None:
    dev = device()
    before = datetime.now(UTC) - timedelta(seconds=5)
    created = await target(
        "create_liveness_session",
        CreateLivenessSessionContent(
            liveness_operation_mode="Passive",
            device_correlation_id=dev,
            auth_token_time_to_live_in_seconds=120,
            enable_session_image=True,
        ),
    )
    assert created.session_id and created.auth_token

    session = await target("get_liveness_session_result", created.session_id)
    assert isinstance(session, LivenessSession)
    assert (session.id, session.device_correlation_id) == (created.session_id, dev)
    assert session.status is FaceSessionStatus.NOT_STARTED and session.result is None
    assert session.auth_token_time_to_live_in_seconds == 120 and session.session_expired is False
    assert before <= session.created_date_time <= datetime.now(UTC) + timedelta(seconds=5)

    listed = await target("get_liveness_sessions")
    assert created.session_id in [item.id for item in listed]
    assert await target("get_liveness_session_audit_entries", created.session_id) == []

    await record_result(target.services, created.session_id, image=face_jpeg)
    session = await target("get_liveness_session_result", created.session_id)
    assert session.status is FaceSessionStatus.RESULT_AVAILABLE
    assert session.result is not None
    body = session.result.response.body
    assert body.liveness_decision is FaceLivenessDecision.REAL_FACE
    assert body.signals == {"flash_timing": 0.93, "flash_shape": 0.81}
    assert body.reasons == ("flash timing matches the challenge",)
    assert body.target is not None and body.target.face_rectangle.height == 120

    entries = await target("get_liveness_session_audit_entries", created.session_id)
    assert [e.id for e in entries] == [session.result.id]
    assert entries[0].received_date_time.tzinfo is not None
    assert await target("get_liveness_session_audit_entries", created.session_id, start=entries[0].id) == []
    assert await target("get_liveness_session_audit_entries", created.session_id, top=1) == entries

    assert entries[0].session_image_id is not None
    assert await target("get_session_image", entries[0].session_image_id) == face_jpeg

    await target("delete_liveness_session", created.session_id)
    for method in (
        "get_liveness_session_result",
        "get_liveness_session_audit_entries",
        "delete_liveness_session",
    ):
        with pytest.raises(SessionNotFoundError) as info:
            await target(method, created.session_id)
        assert (info.value.status_code, info.value.code) == (404, "SessionNotFound")
    with pytest.raises(NotFoundError):
        await target("get_session_image", entries[0].session_image_id)


async def test_listing_pages_in_id_order(target: Target) -> None:
    ids = []
    for _ in range(3):
        content = CreateLivenessSessionContent(liveness_operation_mode="Passive", device_correlation_id=device())
        ids.append((await target("create_liveness_session", content)).session_id)
    everything = [item.id for item in await target("get_liveness_sessions")]
    assert everything == sorted(everything) and set(ids) <= set(everything)
    first_two = await target("get_liveness_sessions", top=2)
    assert [i.id for i in first_two] == everything[:2]
    rest = await target("get_liveness_sessions", start=first_two[-1].id)
    assert [i.id for i in rest] == everything[2:]


@pytest.mark.parametrize("with_image", [True, False], ids=["multipart", "json"])
async def test_verify_session_every_method(
    target: Target, face_jpeg: bytes, with_image: bool, record_result: Any
) -> None:
    content = CreateLivenessWithVerifySessionContent(
        liveness_operation_mode="PassiveActive", device_correlation_id=device(), return_verify_image_hash=True
    )
    created = await target(
        "create_liveness_with_verify_session", content, verify_image=face_jpeg if with_image else None
    )
    assert created.session_id and created.auth_token
    if not with_image:
        assert created.verify_image is None

    session = await target("get_liveness_with_verify_session_result", created.session_id)
    assert isinstance(session, LivenessWithVerifySession)
    assert session.status is FaceSessionStatus.NOT_STARTED
    # The two kinds are separate: a verify session is not found among liveness sessions.
    with pytest.raises(SessionNotFoundError):
        await target("get_liveness_session_result", created.session_id)

    listed = await target("get_liveness_with_verify_sessions")
    assert created.session_id in [item.id for item in listed]
    assert created.session_id not in [item.id for item in await target("get_liveness_sessions")]

    await record_result(target.services, created.session_id, verify=True)
    session = await target("get_liveness_with_verify_session_result", created.session_id)
    assert session.result is not None
    verify_result = session.result.response.body.verify_result
    assert verify_result is not None and verify_result.is_identical is True
    entries = await target("get_liveness_with_verify_session_audit_entries", created.session_id)
    assert [e.id for e in entries] == [session.result.id]
    if with_image:
        # returnVerifyImageHash: the server reports the reference image's hash.
        assert entries[0].verify_image_hash is not None

    await target("delete_liveness_with_verify_session", created.session_id)
    with pytest.raises(SessionNotFoundError):
        await target("get_liveness_with_verify_session_result", created.session_id)
    with pytest.raises(SessionNotFoundError):
        await target("get_liveness_with_verify_session_audit_entries", created.session_id)


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"auth_token_time_to_live_in_seconds": 59}, "InvalidTokenLifetime"),
        ({"auth_token_time_to_live_in_seconds": 86401}, "InvalidTokenLifetime"),
        ({"liveness_operation_mode": "Sideways"}, "InvalidLivenessOperationMode"),
        ({"device_correlation_id": None}, "InvalidDeviceCorrelationId"),
        ({"device_correlation_id": "x" * 65}, "InvalidDeviceCorrelationId"),
    ],
)
async def test_create_errors_carry_the_server_code(target: Target, overrides: dict[str, Any], code: str) -> None:
    fields: dict[str, Any] = {"liveness_operation_mode": "Passive", "device_correlation_id": device()}
    fields.update(overrides)
    with pytest.raises(BadRequestError) as info:
        await target("create_liveness_session", CreateLivenessSessionContent(**fields))
    assert (info.value.status_code, info.value.code) == (400, code)
    assert info.value.message


@pytest.mark.parametrize(
    ("image", "code"),
    [(b"not an image" * 200, "InvalidImage"), (b"\xff\xd8tiny", "InvalidImageSize")],
)
async def test_bad_verify_image_is_refused(target: Target, image: bytes, code: str) -> None:
    content = CreateLivenessWithVerifySessionContent(liveness_operation_mode="Passive", device_correlation_id=device())
    with pytest.raises(BadRequestError) as info:
        await target("create_liveness_with_verify_session", content, verify_image=image)
    assert info.value.code == code


@pytest.mark.parametrize("top", [0, 1001])
async def test_bad_paging_is_refused(target: Target, top: int) -> None:
    with pytest.raises(BadRequestError) as info:
        await target("get_liveness_sessions", top=top)
    assert info.value.code == "BadArgument"


async def test_unknown_session_image_is_not_found(target: Target) -> None:
    with pytest.raises(NotFoundError) as info:
        await target("get_session_image", "no-such-image")
    assert info.value.code == "SessionImageNotFound"


async def test_wrong_key_is_an_authentication_error(target: Target) -> None:
    client = target.client
    bad: FaceSessionClient | AsyncFaceSessionClient
    if isinstance(client, AsyncFaceSessionClient):
        transport = client._http._transport  # reuse the ASGI app or the network
        bad = AsyncFaceSessionClient(client.endpoint, "wrong-key", transport=transport)
    else:
        bad = FaceSessionClient(client.endpoint, "wrong-key")
    with pytest.raises(AuthenticationError) as info:
        await Target(bad, target.services)("get_liveness_sessions")
    assert info.value.status_code == 401 and info.value.code
    if isinstance(bad, FaceSessionClient):
        bad.close()


async def test_api_v1_1_serves_sessions_but_not_session_images(target: Target) -> None:
    client = target.client
    key = client._credential.key
    older: FaceSessionClient | AsyncFaceSessionClient
    if isinstance(client, AsyncFaceSessionClient):
        older = AsyncFaceSessionClient(
            client.endpoint, key, api_version="v1.1-preview.1", transport=client._http._transport
        )
    else:
        older = FaceSessionClient(client.endpoint, key, api_version="v1.1-preview.1")
    call = Target(older, target.services)
    created = await call(
        "create_liveness_session",
        CreateLivenessSessionContent(liveness_operation_mode="Passive", device_correlation_id=device()),
    )
    assert (await call("get_liveness_session_result", created.session_id)).id == created.session_id
    with pytest.raises(NotFoundError):
        await call("get_session_image", "any")
    if isinstance(older, FaceSessionClient):
        older.close()


# --- retries against the real app ------------------------------------------------------------------------


class RateLimitFirst:
    """ASGI wrapper: the first `n` HTTP requests get 429 with Retry-After, the rest reach the real app."""

    def __init__(self, app: Any, n: int, retry_after: str) -> None:
        self.app, self.remaining, self.retry_after = app, n, retry_after
        self.seen = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.seen += 1
            if self.remaining > 0:
                self.remaining -= 1
                body = b'{"error":{"code":"TooManyRequests","message":"slow down"}}'
                await send(
                    {
                        "type": "http.response.start",
                        "status": 429,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"retry-after", self.retry_after.encode()),
                            (b"x-ms-error-code", b"TooManyRequests"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


async def test_async_client_retries_429_then_succeeds_on_the_app(services: Services, api_key: str) -> None:
    app = RateLimitFirst(create_app(services=services), n=2, retry_after="3")
    slept: list[float] = []

    async def sleep(delay: float) -> None:
        slept.append(delay)

    async with AsyncFaceSessionClient(
        "http://testserver", api_key, transport=httpx.ASGITransport(app=app), sleep=sleep
    ) as client:
        content = CreateLivenessSessionContent(liveness_operation_mode="Passive", device_correlation_id=device())
        created = await client.create_liveness_session(content)
        assert app.seen == 3 and slept == [3.0, 3.0]
        # Only the attempt that got through created a session.
        assert [item.id for item in await client.get_liveness_sessions()] == [created.session_id]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def rate_limited_server(tmp_path: Any) -> Iterator[tuple[str, str, RateLimitFirst]]:
    """The real app behind RateLimitFirst, served by uvicorn over real HTTP in a thread."""
    uvicorn = pytest.importorskip("uvicorn")
    import asyncio

    settings = Settings(data_dir=tmp_path / "rl", token_secret="rate-limit-secret-" + "y" * 40)

    async def make_key() -> str:
        built = await build_services(settings)
        try:
            return (await built.keys.create("rl")).key
        finally:
            await built.close()

    key = asyncio.run(make_key())
    app = RateLimitFirst(create_app(settings), n=1, retry_after="1")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", key, app
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_sync_client_waits_retry_after_over_real_http(
    rate_limited_server: tuple[str, str, RateLimitFirst],
) -> None:
    url, key, app = rate_limited_server
    with FaceSessionClient(url, key) as client:  # the real time.sleep: Retry-After is 1 s
        started = time.monotonic()
        items = client.get_liveness_sessions()
        elapsed = time.monotonic() - started
    assert items == [] and app.seen == 2
    assert 0.9 <= elapsed < 10
