"""Metrics at /metrics and the JSON logs: counts by route template and outcome, request ids in every line of a
request, and no keys, tokens or image bytes anywhere in the logs."""

from __future__ import annotations

import base64
import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from openliveness.logs import JsonFormatter
from openliveness.services import Services
from tests.api.test_client_protocol import V, bearer, capture_files, frames, new_session, start
from tests.conftest import asgi_client

__all__ = ["frames"]

SESSIONS_ROUTE = "/face/{apiVersion}/detectLiveness/singleModal/sessions"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return samples(response.text)


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("openliveness")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield buffer
    logger.removeHandler(handler)
    logger.setLevel(previous)


async def test_metrics_count_requests_decisions_and_model_time(client: httpx.AsyncClient, frames: list[bytes]) -> None:
    before = await scrape(client)
    session = await new_session(client, sendResultsToClient=True)
    attempt = (await start(client, session["authToken"])).json()
    done = await client.post(
        f"{V}/detectLiveness/singleModal",
        files=capture_files(attempt["attemptId"], frames),
        headers=bearer(session["authToken"]),
    )
    decision = done.json()["livenessDecision"]
    await client.get(f"{V}/detectLiveness/singleModal/sessions/{session['sessionId']}")
    text = (await client.get("/metrics")).text
    after = samples(text)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert grew("openliveness_http_requests_total", method="POST", route=SESSIONS_ROUTE, status="200") == 1
    assert grew("openliveness_http_requests_total", method="GET", route=SESSIONS_ROUTE + "/{sessionId}", status="200")
    assert grew("openliveness_http_request_seconds_count", method="POST", route=SESSIONS_ROUTE) == 1
    assert grew("openliveness_attempts_started_total", mode="Passive") == 1
    decided = sum(
        after[key] - before.get(key, 0.0)
        for key in after
        if key[0] == "openliveness_liveness_decisions_total" and ("decision", decision) in key[1]
    )
    assert decided >= 1
    assert grew("openliveness_model_seconds_count", stage="liveness") == 1
    assert ("openliveness_cpu_queue_depth", ()) in after
    # Route templates only: no session id becomes a label.
    assert session["sessionId"] not in text


async def test_unknown_paths_share_one_label(client: httpx.AsyncClient) -> None:
    for i in range(3):
        await client.get(f"/no/such/path/{i}")
    text = (await client.get("/metrics")).text
    assert "/no/such/path" not in text and 'route="unmatched"' in text


async def test_logs_are_json_with_request_ids_and_no_secrets(
    client: httpx.AsyncClient, api_key: str, frames: list[bytes], log_lines: io.StringIO
) -> None:
    session = await new_session(client)
    token = session["authToken"]
    attempt = await start(client, token)
    done = await client.post(
        f"{V}/detectLiveness/singleModal",
        files=capture_files(attempt.json()["attemptId"], frames),
        headers={**bearer(token), "client-request-id": "trace-42"},
    )
    assert done.headers["client-request-id"] == "trace-42"
    bad_key = await client.get(f"{V}/detectLiveness/singleModal/sessions", headers={"Ocp-Apim-Subscription-Key": "x"})
    assert bad_key.status_code == 401

    text = log_lines.getvalue()
    lines = [json.loads(line) for line in text.splitlines()]
    access = [line for line in lines if line["logger"] == "openliveness.access"]
    assert len(access) == 4
    detect_line = next(line for line in access if line["path"] == f"{V}/detectLiveness/singleModal")
    assert detect_line["requestId"] == done.headers["apim-request-id"]
    assert detect_line["clientRequestId"] == "trace-42"
    assert detect_line["status"] == done.status_code and detect_line["durationMs"] > 0
    logged_ids = {line["requestId"] for line in access}
    assert len(logged_ids) == 4
    assert {r.headers["apim-request-id"] for r in (attempt, done, bad_key)} <= logged_ids
    for secret in (api_key, token, token.split(".")[-1]):
        assert secret not in text
    for frame in frames[:3]:
        assert base64.b64encode(frame[200:260]).decode() not in text
        assert frame[200:260].hex() not in text


async def test_metrics_can_be_switched_off(services: Services, api_key: str) -> None:
    from dataclasses import replace as dc_replace

    off = dc_replace(services, settings=services.settings.model_copy(update={"metrics_enabled": False}))
    async with asgi_client(off) as client:
        response = await client.get("/metrics")
    assert response.status_code == 404 and "openliveness_" not in response.text
