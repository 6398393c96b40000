"""The simulator renders the physics the engine relies on: flash timing, flash shape, parallax, integrity."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

import openliveness.simulate as simulate
from openliveness.domain import LivenessOperationMode
from openliveness.liveness.types import Challenge, MotionPrompt
from openliveness.simulate import (
    Conditions,
    HeadModel,
    SimulatedCapture,
    Species,
    build_head,
    random_challenge,
    simulate_capture,
)
from openliveness.simulate.cli import simulate_main
from openliveness.vision import FaceAnalyzer, decode_image

# Still head and camera, moderate room light: the measurements below isolate the screen's light.
STILL = Conditions(
    ambient=0.5,
    head_jitter_deg=0.0,
    head_jitter_cm=0.0,
    tremor_px=0.0,
    drop_rate=0.0,
    face_size=0.45,
    face_offset=(0.0, 0.0),
    jpeg_quality=95,
)


@pytest.fixture(scope="module")
def head(analyzer: FaceAnalyzer, face_jpeg: bytes) -> HeadModel:
    return build_head(decode_image(face_jpeg), analyzer)


@pytest.fixture(scope="module")
def challenge() -> Challenge:
    return random_challenge(np.random.default_rng(7), LivenessOperationMode.PASSIVE)


def _landmarks(analyzer: FaceAnalyzer, image: np.ndarray) -> np.ndarray:
    faces = analyzer.detect(image)
    assert len(faces) == 1
    return faces[0].landmarks.as_array()


def _patch(image: np.ndarray, point: np.ndarray, radius: int = 3) -> np.ndarray:
    x, y = round(point[0]), round(point[1])
    return image[y - radius : y + radius + 1, x - radius : x + radius + 1].reshape(-1, 3).mean(axis=0)


def _settled(capture: SimulatedCapture, challenge: Challenge) -> tuple[list[int], list[int]]:
    """Frame indices of the lead-in and of steps, away from transitions (display latency, panel response)."""
    lead, steps = [], []
    for index, entry in enumerate(capture.metadata["frames"]):
        t, step = entry["timestampMs"], entry["stepIndex"]
        if step is None and 200 < t < challenge.lead_in_ms:
            lead.append(index)
        elif step is not None:
            start = challenge.lead_in_ms + sum(s.duration_ms for s in challenge.steps[:step])
            if t - start > 150:
                steps.append(index)
    return lead, steps


def _unlit_response(capture: SimulatedCapture, challenge: Challenge, points: dict[str, np.ndarray]) -> dict[str, float]:
    """How much each point darkens, in the channels a step's colour leaves dark, against the white lead-in:
    the share of its light that came from the screen."""
    frames = [f.image.astype(np.float64) for f in capture.to_capture().frames]
    lead, steps = _settled(capture, challenge)
    out = {}
    for name, point in points.items():
        base = np.mean([_patch(frames[i], point) for i in lead], axis=0)
        drops = []
        for i in steps:
            color = challenge.steps[capture.metadata["frames"][i]["stepIndex"]].color
            value = _patch(frames[i], point)
            drops += [1.0 - value[c] / base[c] for c in range(3) if color[c] == 0]
        out[name] = float(np.mean(drops))
    return out


def _face_points(analyzer: FaceAnalyzer, capture: SimulatedCapture) -> dict[str, np.ndarray]:
    image = capture.to_capture().frames[0].image
    lm = _landmarks(analyzer, image)
    eyes, nose = (lm[0] + lm[1]) / 2, lm[2]
    iod = np.linalg.norm(lm[1] - lm[0])
    # The face's sides at the level of the nose: cheek skin turned away from the screen.
    return {
        "nose": nose + np.array([0.0, -0.1 * iod]),
        "side_left": np.array([eyes[0] - 0.95 * iod, nose[1]]),
        "side_right": np.array([eyes[0] + 0.95 * iod, nose[1]]),
    }


def test_public_api_is_declared() -> None:
    for name in simulate.__all__:
        assert hasattr(simulate, name)


def test_bona_fide_colour_follows_the_challenge(head: HeadModel, challenge: Challenge) -> None:
    capture = simulate_capture(head, challenge, Species.BONA_FIDE, conditions=STILL, rng=1)
    replay = simulate_capture(head, challenge, Species.REPLAY, conditions=STILL, rng=1)

    def correlation(cap: SimulatedCapture) -> float:
        frames = cap.to_capture().frames
        h, w = frames[0].image.shape[:2]
        _, steps = _settled(cap, challenge)
        measured, expected = [], []
        for i in steps:
            centre = frames[i].image[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3].reshape(-1, 3).mean(axis=0)
            color = np.array(challenge.steps[frames[i].step_index].color, dtype=float)  # type: ignore[index]
            measured.append(centre / centre.sum())
            expected.append(color / color.sum())
        # Per-channel changes across steps: the face's own colour is a constant offset.
        m, e = np.array(measured), np.array(expected)
        return float(np.corrcoef(np.ravel(m - m.mean(axis=0)), np.ravel(e - e.mean(axis=0)))[0, 1])

    live = correlation(capture)
    assert live > 0.6
    assert correlation(replay) < live - 0.3


def test_red_steps_raise_the_red_channel(head: HeadModel) -> None:
    rng = np.random.default_rng(3)
    challenge = random_challenge(rng)
    capture = simulate_capture(head, challenge, "bona_fide", conditions=STILL, rng=2)
    frames = capture.to_capture().frames
    lead, steps = _settled(capture, challenge)
    h, w = frames[0].image.shape[:2]

    def redness(i: int) -> float:
        centre = frames[i].image[h // 3 : 2 * h // 3, w // 3 : 2 * w // 3].reshape(-1, 3).mean(axis=0)
        return float(centre[0] / centre[1])

    red = [i for i in steps if challenge.steps[frames[i].step_index].color == (255, 0, 0)]  # type: ignore[index]
    green = [i for i in steps if challenge.steps[frames[i].step_index].color[0] == 0]  # type: ignore[index]
    assert red and green
    assert np.mean([redness(i) for i in red]) > 1.1 * np.mean([redness(i) for i in lead])
    assert np.mean([redness(i) for i in green]) < 0.9 * np.mean([redness(i) for i in lead])


def test_bona_fide_response_is_larger_on_the_nose_than_on_the_sides(
    head: HeadModel, challenge: Challenge, analyzer: FaceAnalyzer
) -> None:
    capture = simulate_capture(head, challenge, Species.BONA_FIDE, conditions=STILL, rng=4)
    response = _unlit_response(capture, challenge, _face_points(analyzer, capture))
    assert response["nose"] > 0.15
    assert response["nose"] > 1.3 * max(response["side_left"], response["side_right"])


def test_print_response_is_uniform(head: HeadModel, challenge: Challenge, analyzer: FaceAnalyzer) -> None:
    capture = simulate_capture(head, challenge, Species.PHOTO_STILL, conditions=STILL, rng=4)
    response = _unlit_response(capture, challenge, _face_points(analyzer, capture))
    # It does change colour with the flash, but the same everywhere.
    assert response["nose"] > 0.1
    for side in ("side_left", "side_right"):
        assert response[side] == pytest.approx(response["nose"], rel=0.15)


def test_injection_does_not_respond_to_the_screen(
    head: HeadModel, challenge: Challenge, analyzer: FaceAnalyzer
) -> None:
    capture = simulate_capture(head, challenge, Species.INJECTION, conditions=STILL, rng=4, variant="constant")
    response = _unlit_response(capture, challenge, _face_points(analyzer, capture))
    assert abs(response["nose"]) < 0.04


def test_same_seed_same_capture(head: HeadModel, challenge: Challenge) -> None:
    a = simulate_capture(head, challenge, Species.PRINT, rng=11)
    b = simulate_capture(head, challenge, Species.PRINT, rng=11)
    c = simulate_capture(head, challenge, Species.PRINT, rng=12)
    assert a.frames == b.frames and a.metadata == b.metadata and a.variant == b.variant
    assert a.frames != c.frames


def test_timestamps_are_monotonic_jittered_and_labelled(head: HeadModel, challenge: Challenge) -> None:
    capture = simulate_capture(head, challenge, Species.BONA_FIDE, conditions=Conditions(frame_jitter_ms=6), rng=5)
    entries = capture.metadata["frames"]
    times = np.array([e["timestampMs"] for e in entries])
    steps = np.diff(times)
    assert len(entries) == len(capture.frames) <= challenge.max_frames
    assert np.all(steps > 0)
    assert steps.std() > 1.0
    assert times[-1] <= challenge.total_ms
    assert [e["stepIndex"] for e in entries] == [challenge.step_at(t) for t in times]
    json.dumps(capture.metadata)  # the wire form is plain JSON
    frames = capture.to_capture().frames
    assert frames[0].image.shape == (challenge.frame_height, challenge.frame_width, 3)


def _nose_off_homography(analyzer: FaceAnalyzer, capture: SimulatedCapture) -> float:
    """Largest distance (in inter-ocular units) of the nose from where the homography of the eyes and mouth
    corners between the first frame and each later frame puts it."""
    frames = capture.to_capture().frames
    first = _landmarks(analyzer, frames[0].image)
    iod = float(np.linalg.norm(first[1] - first[0]))
    worst = 0.0
    for frame in frames[-12::3]:
        later = _landmarks(analyzer, frame.image)
        quad = [0, 1, 4, 3]
        matrix = cv2.getPerspectiveTransform(first[quad].astype(np.float32), later[quad].astype(np.float32))
        predicted = cv2.perspectiveTransform(first[None, 2:3].astype(np.float32), matrix)[0, 0]
        worst = max(worst, float(np.linalg.norm(predicted - later[2])) / iod)
    return worst


def test_turning_head_shows_parallax_and_a_print_does_not(head: HeadModel, analyzer: FaceAnalyzer) -> None:
    challenge = replace(
        random_challenge(np.random.default_rng(8), LivenessOperationMode.PASSIVE_ACTIVE), motion=MotionPrompt.TURN_LEFT
    )
    live = simulate_capture(head, challenge, Species.BONA_FIDE, conditions=STILL, rng=6)
    paper = simulate_capture(head, challenge, Species.PRINT, conditions=STILL, rng=6, variant="flat")
    live_off, paper_off = _nose_off_homography(analyzer, live), _nose_off_homography(analyzer, paper)
    assert live_off > 0.08
    assert live_off > 2.5 * paper_off


def test_unknown_variant_is_refused(head: HeadModel, challenge: Challenge) -> None:
    with pytest.raises(ValueError, match="unknown variant"):
        simulate_capture(head, challenge, Species.PRINT, variant="origami")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--species", "print", "--variant", "origami"], "not one of print's: flat, moving"),
        (["--species", "replay", "--variant", "curved"], "not one of replay's"),
        (["--dataset", "DIR", "--count", "0"], "--count must be at least 1"),
        (["--dataset", "DIR", "--variant", "curved"], "--variant is for one capture"),
    ],
)
def test_cli_refuses_bad_options_before_rendering(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    out = tmp_path / "out"
    options = [str(tmp_path) if a == "DIR" else a for a in args]
    argv = ["--face", str(tmp_path / "face.jpg"), "--out", str(out), *options]
    with pytest.raises(SystemExit) as exited:
        simulate_main(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_cli_writes_frames_and_metadata(tmp_path: Path, face_jpeg: bytes) -> None:
    photo = tmp_path / "face.jpg"
    photo.write_bytes(face_jpeg)
    out = tmp_path / "out"
    assert simulate_main(["--face", str(photo), "--species", "print", "--seed", "3", "--out", str(out)]) == 0
    metadata = json.loads((out / "metadata.json").read_text())
    challenge = Challenge.from_json(json.loads((out / "challenge.json").read_text()))
    assert len(metadata["frames"]) == len(list(out.glob("frame_*.jpg"))) > 10
    assert metadata["frames"][-1]["timestampMs"] <= challenge.total_ms


def test_a_cut_out_print_shows_the_room_beyond_the_head_only(head: HeadModel, challenge: Challenge) -> None:
    """The same print, pose and light, once cut along the head's outline: the face is unchanged, the paper around
    the head gives way to the attacker's room."""
    whole, cut = (
        decode_image(
            simulate_capture(head, challenge, Species.PRINT, conditions=STILL, rng=7, variant=variant).frames[3]
        ).astype(np.float32)
        for variant in ("curved", "curved_cutout")
    )
    changed = np.abs(whole - cut).max(axis=2) > 40
    assert changed.mean() > 0.05
    h, w = changed.shape
    face = changed[int(0.35 * h) : int(0.65 * h), int(0.4 * w) : int(0.6 * w)]
    assert face.mean() < 0.01


def test_a_wrapped_cut_out_is_curved_across_and_straight_along(
    head: HeadModel, challenge: Challenge, analyzer: FaceAnalyzer
) -> None:
    """Paper wrapped around a bottle (on request only): the screen's share falls off toward the face's sides as on a
    head, but down a column of the face (forehead, cheek, jaw) only as the screen's light does on a flat print,
    where a head recedes (paper bends about one axis)."""
    assert "wrapped_cutout" in simulate.ON_REQUEST_VARIANTS[Species.PRINT]
    assert "wrapped_cutout" not in simulate.VARIANTS[Species.PRINT]

    def along_and_across(species: Species, variant: str | None) -> tuple[float, float]:
        capture = simulate_capture(head, challenge, species, conditions=STILL, rng=5, variant=variant)
        assert capture.variant == (variant or "live")
        lm = _landmarks(analyzer, capture.to_capture().frames[0].image)
        eyes, iod = (lm[0] + lm[1]) / 2, float(np.linalg.norm(lm[1] - lm[0]))
        points = {"nose": lm[2] + np.array([0.0, -0.1 * iod]), "side": np.array([eyes[0] + 0.95 * iod, lm[2][1]])}
        points |= {f"column_{k}": eyes + np.array([0.42, dy]) * iod for k, dy in enumerate((-0.65, 0.55, 1.35))}
        r = _unlit_response(capture, challenge, points)
        along = 1.0 - 0.5 * (r["column_0"] + r["column_2"]) / r["column_1"]
        return along, 1.0 - r["side"] / r["nose"]

    paper_along, paper_across = along_and_across(Species.PRINT, "wrapped_cutout")
    flat_along, flat_across = along_and_across(Species.PRINT, "flat")
    head_along, head_across = along_and_across(Species.BONA_FIDE, None)
    # Wrapped: more curved across than the flat print (and the head); along, the flat print's falloff only.
    assert paper_across > max(flat_across, head_across)
    assert paper_along == pytest.approx(flat_along, abs=0.03)
    assert head_along > flat_along + 0.05
    # Wrapped at a slant (the bottle's axis 30 to 60 degrees from the face's vertical): curved both ways, as a head is.
    assert "diagonal_cutout" in simulate.ON_REQUEST_VARIANTS[Species.PRINT]
    slant_along, slant_across = along_and_across(Species.PRINT, "diagonal_cutout")
    assert slant_along > flat_along + 0.05
    assert slant_across > flat_across + 0.05
