"""Drives a running server as a front end and an app server would, with simulated captures: for end-to-end
tests, benchmarks and smoke tests of a deployment."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
import numpy as np

from openliveness.liveness.types import Challenge

from .conditions import Conditions
from .head import HeadModel
from .simulator import SimulatedCapture, Species, simulate_capture

__all__ = ["CheckResult", "run_simulated_check", "upload_capture"]

API_VERSION = "v1.2-preview.1"


@dataclass(frozen=True, slots=True)
class CheckResult:
    body: dict[str, Any]  # the audit entry's response body: Azure's fields plus signals and reasons
    session_id: str
    detect_status: int
    round_trip_ms: float
    server_ms: int
    challenge: Challenge  # the server's challenge the capture answered
    capture: SimulatedCapture  # what was uploaded, kept so a surprising decision can be re-read in-process

    @property
    def variant(self) -> str:
        return self.capture.variant

    @property
    def frames(self) -> int:
        return len(self.capture.frames)


def upload_capture(
    http: httpx.Client, token: str, kind: str, attempt_id: str, capture: SimulatedCapture
) -> httpx.Response:
    """POST the capture as the protocol's multipart detect call (docs/protocol.md)."""
    metadata = {"attemptId": attempt_id, **capture.metadata}
    files: list[tuple[str, tuple[Any, ...]]] = [("metadata", (None, json.dumps(metadata), "application/json"))]
    files += [("frame", (f"frame{i}.jpg", data, "image/jpeg")) for i, data in enumerate(capture.frames)]
    return http.post(
        f"/face/{API_VERSION}/{kind}/singleModal", files=files, headers={"Authorization": f"Bearer {token}"}
    )


def run_simulated_check(
    http: httpx.Client,
    api_key: str,
    head: HeadModel,
    species: Species | str,
    *,
    mode: str = "Passive",
    kind: str = "detectLiveness",
    conditions: Conditions | None = None,
    rng: np.random.Generator | int | None = None,
    reference: bytes | None = None,
    variant: str | None = None,
) -> CheckResult:
    """Create a session (API key), start an attempt (token), render the capture for the server's challenge,
    upload it, and read the result back with the API key. `variant`: the species' variant (drawn when None; the
    on-request ones, e.g. `wrapped_cutout`, only by name). Raises `httpx.HTTPStatusError` on any refusal."""
    key = {"Ocp-Apim-Subscription-Key": api_key}
    base = f"/face/{API_VERSION}/{kind}/singleModal"
    params = {"livenessOperationMode": mode, "deviceCorrelationId": "simulated-client", "enableSessionImage": True}
    if reference is None:
        created = http.post(f"{base}/sessions", json=params, headers=key)
    else:
        created = http.post(
            f"{base}/sessions",
            files={"Parameters": (None, json.dumps(params)), "VerifyImage": ("reference.jpg", reference)},
            headers=key,
        )
    created.raise_for_status()
    session_id, token = created.json()["sessionId"], created.json()["authToken"]
    attempt = http.post(f"{base}/attempts", headers={"Authorization": f"Bearer {token}"})
    attempt.raise_for_status()
    challenge = Challenge.from_json(attempt.json()["challenge"])
    capture = simulate_capture(head, challenge, species, conditions=conditions, rng=rng, variant=variant)
    started = time.perf_counter()
    detected = upload_capture(http, token, kind, attempt.json()["attemptId"], capture)
    round_trip = (time.perf_counter() - started) * 1000
    detected.raise_for_status()
    session = http.get(f"{base}/sessions/{session_id}", headers=key)
    session.raise_for_status()
    response = session.json()["result"]["response"]
    return CheckResult(
        body=response["body"],
        session_id=session_id,
        detect_status=detected.status_code,
        round_trip_ms=round_trip,
        server_ms=int(response["latencyInMilliseconds"]),
        challenge=challenge,
        capture=capture,
    )
