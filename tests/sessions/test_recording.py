"""Recorded captures: off by default; when on, one readable bundle per detect call, bounded, gone with DELETE."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from openliveness.evaluation.bundle import find_bundles, read_bundle
from openliveness.services import Services, build_services
from openliveness.settings import Settings
from openliveness.vision import FaceAnalyzer
from tests.api.test_client_protocol import V, bearer, capture_files, new_session, start
from tests.api.test_client_protocol import frames as frames
from tests.conftest import TEST_SECRET, asgi_client


@pytest.fixture
async def recording(tmp_path: Path, analyzer: FaceAnalyzer) -> AsyncIterator[tuple[httpx.AsyncClient, Path]]:
    settings = Settings(
        data_dir=tmp_path / "data",
        token_secret=TEST_SECRET,
        record_captures=True,
        recordings_max=2,
        api_key_cache_seconds=0,
    )
    services: Services = await build_services(settings, analyzer=analyzer)
    key = (await services.keys.create("rec")).key
    async with asgi_client(services, key) as client:
        yield client, settings.data_dir / "recordings"
    await services.close()


async def detect(client: httpx.AsyncClient, frames: list[bytes]) -> str:
    session = await new_session(client)
    attempt = (await start(client, session["authToken"])).json()
    r = await client.post(
        f"{V}/detectLiveness/singleModal",
        files=capture_files(attempt["attemptId"], frames),
        headers=bearer(session["authToken"]),
    )
    assert r.status_code == 204, r.text
    return str(session["sessionId"])


async def test_recordings_are_bundles_bounded_and_deleted_with_their_session(
    recording: tuple[httpx.AsyncClient, Path], frames: list[bytes]
) -> None:
    client, root = recording
    first = await detect(client, frames)
    [path] = find_bundles(root)
    bundle = read_bundle(path)
    assert bundle.jpegs == tuple(frames) and bundle.label.label == "other"
    assert bundle.label.conditions["sessionId"] == first and len(bundle.challenge.steps) >= 5
    second = await detect(client, frames[1:])
    third = await detect(client, frames[2:])
    kept = find_bundles(root)
    assert len(kept) == 2 and not (root / first).exists()  # the oldest went first
    await client.delete(f"{V}/detectLiveness/singleModal/sessions/{second}")
    assert [p.parent.name for p in find_bundles(root)] == [third]


async def test_nothing_is_recorded_by_default(
    client: httpx.AsyncClient, services: Services, frames: list[bytes]
) -> None:
    await detect(client, frames)
    assert not (services.settings.data_dir / "recordings").exists()


def test_purge_older_than_removes_only_old_bundles(tmp_path: Path) -> None:
    import os
    from datetime import UTC, datetime, timedelta

    from openliveness.domain import LivenessOperationMode
    from openliveness.liveness import new_challenge
    from openliveness.sessions.recording import CaptureRecorder

    recorder = CaptureRecorder(tmp_path, max_bundles=10)
    challenge = new_challenge(LivenessOperationMode.PASSIVE)
    old = recorder.record("s-old", "a1", challenge, [(b"\xff\xd8jpeg", 0.0, 0)], "uncertain")
    new = recorder.record("s-new", "a2", challenge, [(b"\xff\xd8jpeg", 0.0, 0)], "uncertain")
    week_ago = (datetime.now(UTC) - timedelta(days=7)).timestamp()
    os.utime(old, (week_ago, week_ago))
    assert recorder.purge_older_than(datetime.now(UTC) - timedelta(days=2)) == 1
    assert not old.exists() and not old.parent.exists() and new.exists()
