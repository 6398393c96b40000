"""End to end over real HTTP, as a front end and an app server would: create a session with the API key, run a
simulated bona fide or attack capture through the client protocol, read the result with the API key."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from PIL import Image

from openliveness.simulate import HeadModel, Species, build_head, run_simulated_check
from openliveness.vision import FaceAnalyzer
from tests.conftest import LiveServer

V = "/face/v1.2-preview.1"


@pytest.fixture(scope="module")
def head(analyzer: FaceAnalyzer, face_jpeg: bytes) -> HeadModel:
    return build_head(np.asarray(Image.open(io.BytesIO(face_jpeg)).convert("RGB")), analyzer)


@pytest.fixture(scope="module")
def http(live_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server.url, timeout=60) as client:
        yield client


def run_check(
    http: httpx.Client,
    live_server: LiveServer,
    head: HeadModel,
    species: Species,
    *,
    mode: str = "Passive",
    kind: str = "detectLiveness",
    seed: int = 1,
    reference: bytes | None = None,
) -> dict:
    result = run_simulated_check(
        http, live_server.api_key, head, species, mode=mode, kind=kind, rng=seed, reference=reference
    )
    assert result.detect_status == 204  # sessions are created without sendResultsToClient
    return result.body


@pytest.mark.parametrize("mode", ["Passive", "PassiveActive"])
def test_bona_fide_is_realface(http: httpx.Client, live_server: LiveServer, head: HeadModel, mode: str) -> None:
    body = run_check(http, live_server, head, Species.BONA_FIDE, mode=mode, seed=11)
    assert body["livenessDecision"] == "realface", body
    assert body["target"]["faceRectangle"]["width"] > 40


@pytest.mark.parametrize("species", [Species.PRINT, Species.REPLAY, Species.INJECTION, Species.PHOTO_STILL])
@pytest.mark.parametrize("mode", ["Passive", "PassiveActive"])
def test_attacks_are_never_realface(
    http: httpx.Client, live_server: LiveServer, head: HeadModel, species: Species, mode: str
) -> None:
    body = run_check(http, live_server, head, species, mode=mode, seed=23)
    assert body["livenessDecision"] != "realface", body
    assert body["reasons"], body


def test_an_on_request_attack_variant_is_rendered_by_name(
    http: httpx.Client, live_server: LiveServer, head: HeadModel
) -> None:
    """A print wrapped around a bottle, by name: the client renders that variant and the server reads it (its
    acceptance rate is measured by bench/liveness_tune.py, not here: the server draws each challenge afresh)."""
    result = run_simulated_check(
        http, live_server.api_key, head, Species.PRINT, mode="PassiveActive", rng=3, variant="wrapped_cutout"
    )
    assert result.variant == "wrapped_cutout"
    assert "flash_shape" in result.body["signals"]


def test_a_check_keeps_what_it_uploaded_so_it_can_be_re_read(
    http: httpx.Client, live_server: LiveServer, head: HeadModel, analyzer: FaceAnalyzer
) -> None:
    """The result holds the server's challenge and the uploaded capture (bench/liveness_accuracy.py --keep):
    the engine re-reading them in-process reaches the server's decision."""
    from openliveness.liveness import LivenessEngine

    # Bona fide: the module's attacks already spend the device's allowance of failed attempts (429 past it).
    result = run_simulated_check(http, live_server.api_key, head, Species.BONA_FIDE, mode="PassiveActive", rng=11)
    assert result.challenge.motion is not None and len(result.capture.frames) == result.frames
    reread = LivenessEngine(analyzer).evaluate(result.challenge, result.capture.to_capture())
    assert reread.decision.value == result.body["livenessDecision"]
    assert list(reread.reasons) == result.body["reasons"]


def test_with_verify_same_and_other_person(
    http: httpx.Client, live_server: LiveServer, head: HeadModel, face_jpeg: bytes
) -> None:
    same = run_check(
        http, live_server, head, Species.BONA_FIDE, kind="detectLivenessWithVerify", seed=5, reference=face_jpeg
    )
    assert same["livenessDecision"] == "realface", same
    assert same["verifyResult"]["isIdentical"] is True
    from matplotlib import cbook

    with open(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False), "rb") as handle:
        other_person = handle.read()
    other = run_check(
        http, live_server, head, Species.BONA_FIDE, kind="detectLivenessWithVerify", seed=6, reference=other_person
    )
    assert other["verifyResult"]["isIdentical"] is False
    assert other["verifyResult"]["matchConfidence"] < same["verifyResult"]["matchConfidence"]
