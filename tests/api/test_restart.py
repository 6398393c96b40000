"""Data and tokens survive a server restart (same data directory, generated secret kept on disk)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from openliveness.domain import SessionKind
from openliveness.services import build_services
from openliveness.settings import Settings
from openliveness.vision import FaceAnalyzer
from tests.conftest import ServerThread, _create_key

BODY = {"livenessOperationMode": "Passive", "deviceCorrelationId": "restart-device"}
BASE = "/face/v1.2-preview.1/detectLiveness/singleModal/sessions"


def test_sessions_keys_and_tokens_survive_restart(tmp_path: Path, analyzer: FaceAnalyzer) -> None:
    settings = Settings(data_dir=tmp_path / "data")  # no configured secret: one is generated and kept
    key = _create_key(settings, analyzer)
    headers = {"Ocp-Apim-Subscription-Key": key}
    with ServerThread(settings) as url:
        created = httpx.post(url + BASE, json=BODY, headers=headers).json()
    with ServerThread(settings) as url:
        got = httpx.get(f"{url}{BASE}/{created['sessionId']}", headers=headers)
        assert got.status_code == 200 and got.json()["deviceCorrelationId"] == "restart-device"

    async def token_still_valid() -> str:
        services = await build_services(settings, analyzer=analyzer)
        try:
            session = await services.sessions.authenticate_client(created["authToken"], SessionKind.LIVENESS)
            return session.id
        finally:
            await services.close()

    assert asyncio.run(token_still_valid()) == created["sessionId"]
