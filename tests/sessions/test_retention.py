"""Retention: once a session's lifetime is over, a purge leaves nothing of it in any table or file, and leaves
live sessions alone. Run on every backend, with capture recording on."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from openliveness.liveness import Challenge
from openliveness.services import Services, build_services
from openliveness.settings import Settings
from openliveness.simulate import HeadModel, Species, simulate_capture
from openliveness.store.tables import metadata
from openliveness.vision import FaceAnalyzer
from tests.api.test_client_protocol import V, bearer, start
from tests.conftest import TEST_SECRET, Clock, asgi_client

LIFETIME = timedelta(hours=48)
WITH_VERIFY = f"{V}/detectLivenessWithVerify/singleModal"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        token_secret=TEST_SECRET,
        record_captures=True,
        session_lifetime_seconds=int(LIFETIME.total_seconds()),
    )


@pytest.fixture
async def services(settings: Settings, analyzer: FaceAnalyzer, clock: Clock) -> AsyncIterator[Services]:
    built = await build_services(settings, analyzer=analyzer, clock=clock)
    yield built
    await built.close()


def bona_fide_files(head: HeadModel, attempt: dict[str, Any]) -> list[tuple[str, tuple[Any, ...]]]:
    capture = simulate_capture(head, Challenge.from_json(attempt["challenge"]), Species.BONA_FIDE, rng=7)
    metadata = {"attemptId": attempt["attemptId"], **capture.metadata}
    files: list[tuple[str, tuple[Any, ...]]] = [("metadata", (None, json.dumps(metadata), "application/json"))]
    return files + [("frame", (f"frame{i}.jpg", data, "image/jpeg")) for i, data in enumerate(capture.frames)]


async def full_session(client: httpx.AsyncClient, face_jpeg: bytes, head: HeadModel) -> str:
    """A with-verify session with a reference image, a session image, an audit entry and a recording."""
    params = json.dumps({"livenessOperationMode": "Passive", "deviceCorrelationId": "d", "enableSessionImage": True})
    created = await client.post(
        f"{WITH_VERIFY}/sessions", files={"Parameters": (None, params), "VerifyImage": ("face.jpg", face_jpeg)}
    )
    assert created.status_code == 200, created.text
    session = created.json()
    attempt = (await start(client, session["authToken"], "detectLivenessWithVerify")).json()
    done = await client.post(WITH_VERIFY, files=bona_fide_files(head, attempt), headers=bearer(session["authToken"]))
    assert done.status_code in (200, 204), done.text
    return str(session["sessionId"])


async def rows_mentioning(services: Services, value: str) -> dict[str, int]:
    """For every table, how many rows hold `value` in any column."""
    found: dict[str, int] = {}
    async with services.store.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in await conn.execute(select(table)):
                if any(value in str(cell) for cell in row):
                    found[table.name] = found.get(table.name, 0) + 1
    return found


def files_mentioning(root: Path, value: str) -> list[Path]:
    return [p for p in root.rglob("*") if value in str(p) or (p.is_file() and value.encode() in p.read_bytes())]


async def test_purge_leaves_nothing_of_an_expired_session(
    services: Services, api_key: str, clock: Clock, face_jpeg: bytes, sim_head: HeadModel, settings: Settings
) -> None:
    async with asgi_client(services, api_key) as client:
        old = await full_session(client, face_jpeg, sim_head)
        clock.now += LIFETIME / 2
        young = await full_session(client, face_jpeg, sim_head)

        before = await rows_mentioning(services, old)
        assert {"sessions", "verify_images", "attempts", "audit_entries", "session_images"} <= set(before)
        assert files_mentioning(settings.data_dir, old)

        clock.now += LIFETIME / 2 + timedelta(seconds=1)  # `old` is past its lifetime, `young` is not
        report = await services.retention.purge()
        assert report.sessions == 1

        assert await rows_mentioning(services, old) == {}
        assert files_mentioning(settings.data_dir, old) == []
        assert await rows_mentioning(services, young) == before
        assert files_mentioning(settings.data_dir, young)
        got = await client.get(f"{WITH_VERIFY}/sessions/{young}")
        assert got.status_code == 200 and got.json()["result"] is not None

        # A second pass has nothing left to do.
        assert (await services.retention.purge()).sessions == 0


async def test_purge_works_in_batches(services: Services, clock: Clock) -> None:
    from openliveness.domain import LivenessOperationMode, SessionKind
    from openliveness.sessions import SessionParameters

    params = SessionParameters(operation_mode=LivenessOperationMode.PASSIVE)
    for _ in range(450):  # more than two of the store's batches
        await services.sessions.create(SessionKind.LIVENESS, params)
    clock.now += LIFETIME
    assert (await services.retention.purge()).sessions == 450
    async with services.store.engine.connect() as conn:
        assert (await conn.execute(select(metadata.tables["sessions"]))).first() is None
