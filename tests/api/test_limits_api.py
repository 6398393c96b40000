"""Anti-hammer limits over the API: sessions per device, failed attempts per address and device, guidance per
address; 429 with Retry-After in Azure's error shape; X-Forwarded-For believed only from trusted proxies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from openliveness.api.client_address import client_address
from openliveness.services import Services, build_services
from openliveness.settings import Settings
from openliveness.vision import FaceAnalyzer
from tests.api.test_client_protocol import BODY, V, bearer, capture_files, frames, new_session, small_jpeg, start
from tests.conftest import TEST_SECRET, Clock, asgi_client

__all__ = ["frames"]  # the photo-held-still capture fixture, reused


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        token_secret=TEST_SECRET,
        api_key_cache_seconds=0,
        limit_window_seconds=600,
        limit_sessions_per_device=3,
        limit_failed_attempts_per_ip=2,
        limit_failed_attempts_per_device=3,
        limit_guidance_per_ip=3,
        limit_attempts_per_ip=50,
        trusted_proxies=["10.1.0.0/16"],
    )


@pytest.fixture
async def services(settings: Settings, analyzer: FaceAnalyzer, clock: Clock) -> AsyncIterator[Services]:
    built = await build_services(settings, analyzer=analyzer, clock=clock)
    yield built
    await built.close()


def client_from(services: Services, api_key: str, address: str) -> httpx.AsyncClient:
    return asgi_client(services, api_key, address=address)


def assert_429(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == "TooManyRequests"
    assert response.headers["x-ms-error-code"] == "TooManyRequests"
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 1200
    return retry_after


async def test_sessions_per_device(client: httpx.AsyncClient, clock: Clock) -> None:
    for _ in range(3):
        await new_session(client)
    refused = await client.post(f"{V}/detectLiveness/singleModal/sessions", json=BODY)
    wait = assert_429(refused)
    # Another device is not affected.
    await new_session(client, deviceCorrelationId="device-2")
    clock.now += timedelta(seconds=wait)
    await new_session(client)


async def test_device_id_set_in_client_counts_at_its_first_attempt(client: httpx.AsyncClient) -> None:
    for i in range(4):
        session = await new_session(client, deviceCorrelationIdSetInClient=True, deviceCorrelationId=None)
        started = await start(client, session["authToken"], deviceCorrelationId="phone-9")
        if i < 3:
            assert started.status_code == 200, started.text
        else:
            assert_429(started)


async def detect(client: httpx.AsyncClient, token: str, frames: list[bytes], salt: int) -> httpx.Response:
    attempt = (await start(client, token)).json()
    # Distinct payloads (the replay check would refuse identical ones): vary one frame's timestamp.
    files = capture_files(attempt["attemptId"], frames, step_ms=80.0 + salt)
    return await client.post(f"{V}/detectLiveness/singleModal", files=files, headers=bearer(token))


async def test_failed_attempts_per_address(services: Services, api_key: str, frames: list[bytes]) -> None:
    async with (
        client_from(services, api_key, "198.51.100.20") as hammer,
        client_from(services, api_key, "198.51.100.21") as other,
    ):
        token = (await new_session(hammer, deviceCorrelationId="dev-a", sendResultsToClient=True))["authToken"]
        for salt in range(2):  # a photo held still: not realface, so each one is a failure
            done = await detect(hammer, token, frames, salt)
            assert done.status_code == 200 and done.json()["livenessDecision"] != "realface"
        token = (await new_session(hammer, deviceCorrelationId="dev-b"))["authToken"]
        assert_429(await start(hammer, token))
        # The same session's client on another address may go on.
        assert (await start(other, token)).status_code == 200


async def test_failed_attempts_per_device(services: Services, api_key: str, frames: list[bytes]) -> None:
    addresses = ["198.51.100.30", "198.51.100.31", "198.51.100.32"]
    async with client_from(services, api_key, "192.0.2.1") as app_server:
        token = (await new_session(app_server, deviceCorrelationId="stolen-phone"))["authToken"]
        second = (await new_session(app_server, deviceCorrelationId="stolen-phone"))["authToken"]
    for i, address in enumerate(addresses):  # a new address each time: only the device limit can refuse
        async with client_from(services, api_key, address) as client:
            assert (await detect(client, token, frames, i)).status_code == 204
    async with client_from(services, api_key, "198.51.100.39") as client:
        assert_429(await start(client, second))


async def test_guidance_per_address(client: httpx.AsyncClient, face_jpeg: bytes) -> None:
    token = (await new_session(client))["authToken"]
    preview = small_jpeg(face_jpeg, (320, 240))
    url = f"{V}/detectLiveness/singleModal/guidance"
    for _ in range(3):
        assert (await client.post(url, content=preview, headers=bearer(token))).status_code == 200
    assert_429(await client.post(url, content=preview, headers=bearer(token)))


async def test_forwarded_for_only_from_trusted_proxies(services: Services, api_key: str, face_jpeg: bytes) -> None:
    preview = small_jpeg(face_jpeg, (320, 240))
    url = f"{V}/detectLiveness/singleModal/guidance"
    async with (
        client_from(services, api_key, "10.1.2.3") as proxy,
        client_from(services, api_key, "198.51.100.40") as direct,
    ):
        token = (await new_session(proxy))["authToken"]
        # Behind the trusted proxy, each forwarded client has its own budget.
        for client_ip in ("203.0.113.1", "203.0.113.2"):
            for _ in range(3):
                headers = {**bearer(token), "X-Forwarded-For": f"{client_ip}, 10.1.9.9"}
                assert (await proxy.post(url, content=preview, headers=headers)).status_code == 200
        # A direct client cannot escape its budget by writing the header itself.
        for n in range(4):
            headers = {**bearer(token), "X-Forwarded-For": f"203.0.113.{100 + n}"}
            response = await direct.post(url, content=preview, headers=headers)
            if n < 3:
                assert response.status_code == 200
            else:
                assert_429(response)


@pytest.mark.parametrize(
    ("peer", "header", "expected"),
    [
        ("198.51.100.1", "203.0.113.5", "198.51.100.1"),  # untrusted peer: header ignored
        ("10.1.0.7", "203.0.113.5", "203.0.113.5"),
        ("10.1.0.7", "203.0.113.5, 10.1.3.3", "203.0.113.5"),  # two trusted hops
        ("10.1.0.7", "6.6.6.6, 203.0.113.5", "203.0.113.5"),  # the client's own forged entry is left of it
        ("10.1.0.7", "not-an-ip", "10.1.0.7"),
        ("10.1.0.7", None, "10.1.0.7"),
        (None, "203.0.113.5", None),
    ],
)
def test_client_address(peer: str | None, header: str | None, expected: str | None) -> None:
    assert client_address(peer, header, ["10.1.0.0/16"]) == expected
