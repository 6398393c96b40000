"""Two server processes on one PostgreSQL database: a session's whole life spread across both, and the
anti-hammer limits counted once for both."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from openliveness.liveness import Challenge
from openliveness.simulate import HeadModel, Species, simulate_capture
from openliveness.simulate.client import upload_capture
from tests.conftest import PG_URL, reset_postgres
from tests.ops.procs import ServerProcess, base_env, create_key

pytestmark = pytest.mark.postgres

V = "/face/v1.2-preview.1/detectLiveness/singleModal"


@pytest.fixture
def pg_url() -> str:
    if not PG_URL:
        pytest.skip("PostgreSQL: set OPENLIVENESS_TEST_DATABASE_URL (CI does)")
    asyncio.run(reset_postgres(PG_URL))
    return PG_URL


@pytest.fixture
def two_servers(tmp_path: Path, pg_url: str) -> Iterator[tuple[ServerProcess, ServerProcess, str]]:
    key = create_key(pg_url)  # migrates the fresh database first
    limits = {"limit_sessions_per_device": 4, "limit_failed_attempts_per_ip": 3}
    # Separate data directories: nothing may be shared through the file system, only through the database.
    a = ServerProcess(base_env(tmp_path / "a", pg_url, **limits), tmp_path / "a.log")
    b = ServerProcess(base_env(tmp_path / "b", pg_url, **limits), tmp_path / "b.log")
    with a, b:
        yield a, b, key


def test_session_lifecycle_across_two_processes(
    two_servers: tuple[ServerProcess, ServerProcess, str], sim_head: HeadModel
) -> None:
    a, b, key = two_servers
    app_a = httpx.Client(base_url=a.url, headers={"Ocp-Apim-Subscription-Key": key}, timeout=60)
    front_b = httpx.Client(base_url=b.url, timeout=60)
    created = app_a.post(
        f"{V}/sessions",
        json={"livenessOperationMode": "Passive", "deviceCorrelationId": "p1", "sendResultsToClient": True},
    )
    assert created.status_code == 200, created.text
    session_id, token = created.json()["sessionId"], created.json()["authToken"]

    attempt = front_b.post(f"{V}/attempts", headers={"Authorization": f"Bearer {token}"})
    assert attempt.status_code == 200, attempt.text
    capture = simulate_capture(sim_head, Challenge.from_json(attempt.json()["challenge"]), Species.BONA_FIDE, rng=11)
    detected = upload_capture(front_b, token, "detectLiveness", attempt.json()["attemptId"], capture)
    assert detected.status_code == 200, detected.text
    decision = detected.json()["livenessDecision"]

    got = app_a.get(f"{V}/sessions/{session_id}").json()
    assert got["status"] == "ResultAvailable" and got["result"]["response"]["body"]["livenessDecision"] == decision
    audit = httpx.get(f"{b.url}{V}/sessions/{session_id}/audit", headers={"Ocp-Apim-Subscription-Key": key})
    assert [e["response"]["body"]["livenessDecision"] for e in audit.json()] == [decision]

    # The same attempt cannot be used again on the other process.
    again = upload_capture(
        httpx.Client(base_url=a.url, timeout=60), token, "detectLiveness", attempt.json()["attemptId"], capture
    )
    assert again.status_code == 409

    assert app_a.delete(f"{V}/sessions/{session_id}").status_code == 200
    assert httpx.get(f"{b.url}{V}/sessions/{session_id}", headers={"Ocp-Apim-Subscription-Key": key}).status_code == 404
    assert front_b.post(f"{V}/attempts", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_limits_hold_across_both_processes(two_servers: tuple[ServerProcess, ServerProcess, str]) -> None:
    a, b, key = two_servers
    headers = {"Ocp-Apim-Subscription-Key": key}
    body = {"livenessOperationMode": "Passive", "deviceCorrelationId": "hammer"}
    statuses = [
        httpx.post(f"{server.url}{V}/sessions", json=body, headers=headers).status_code for server in (a, b, a, b, a, b)
    ]
    assert statuses == [200, 200, 200, 200, 429, 429]
    refused = httpx.post(f"{b.url}{V}/sessions", json=body, headers=headers)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1

    # Each process's /metrics counts its own refusals.
    refused_counts = []
    for server in (a, b):
        text = httpx.get(server.url + "/metrics").text
        line = next(x for x in text.splitlines() if x.startswith('openliveness_rate_limited_total{limit="sessions_per'))
        refused_counts.append(float(line.rsplit(" ", 1)[1]))
    assert refused_counts == [1.0, 2.0]
