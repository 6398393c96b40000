"""The engine end to end on synthetic captures: decisions, reasons, the best frame, integrity and gates."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from skimage import data

import openliveness.liveness as liveness
from openliveness.domain import LivenessDecision, LivenessOperationMode
from openliveness.liveness import Capture, CaptureFrame, Challenge
from openliveness.liveness.engine import LivenessEngine
from openliveness.liveness.signals.parallax import reference_frame
from openliveness.liveness.tracking import track_faces
from openliveness.simulate import Conditions, build_head, random_challenge, simulate_capture, simulator

from .synth import Scene, make_challenge, render_capture

REAL, SPOOF, UNCERTAIN = LivenessDecision.REAL_FACE, LivenessDecision.SPOOF_FACE, LivenessDecision.UNCERTAIN


def test_public_api_is_declared() -> None:
    for name in liveness.__all__:
        assert hasattr(liveness, name), name
    assert {"LivenessEngine", "EngineConfig"} <= set(liveness.__all__)


def test_live_head_is_realface_with_best_white_frame(engine: LivenessEngine, head: Scene) -> None:
    challenge = make_challenge(11)
    capture = render_capture(head, challenge, seed=1)
    result = engine.evaluate(challenge, capture)
    assert result.decision is REAL, result
    assert set(result.scores) >= {"integrity", "quality", "flash_timing", "flash_shape"}
    assert all(0.0 <= s <= 1.0 for s in result.scores.values())
    assert result.best_frame_index is not None and result.face_rectangle is not None
    best = capture.frames[result.best_frame_index]
    assert challenge.step_at(best.timestamp_ms) is None  # lit by the white lead-in, not a colour
    assert result.face_rectangle["width"] > 50


@pytest.mark.parametrize("attack", ["replay", "injection", "print"])
def test_attacks_are_spoofface(engine: LivenessEngine, head: Scene, flat: Scene, attack: str) -> None:
    challenge = make_challenge(12)
    capture = {
        "replay": lambda: render_capture(head, challenge, answer=make_challenge(99), seed=2),
        "injection": lambda: render_capture(head, challenge, screen_gain=0.0, seed=2),
        "print": lambda: render_capture(flat, challenge, seed=2),
    }[attack]()
    result = engine.evaluate(challenge, capture)
    assert result.decision is SPOOF, result


def _live(head: Scene, seed: int = 13) -> tuple[Challenge, Capture]:
    challenge = make_challenge(seed)
    return challenge, render_capture(head, challenge, seed=seed)


def _with_frames(capture: Capture, frames: list[CaptureFrame]) -> Capture:
    return dataclasses.replace(capture, frames=tuple(frames))


def test_non_monotonic_timestamps_are_spoofface(engine: LivenessEngine, head: Scene) -> None:
    challenge, capture = _live(head)
    frames = list(capture.frames)
    frames[10], frames[11] = frames[11], frames[10]
    result = engine.evaluate(challenge, _with_frames(capture, frames))
    assert result.decision is SPOOF
    assert "timestamps_not_monotonic" in result.reasons


def test_timestamps_beyond_the_challenge_are_spoofface(engine: LivenessEngine, head: Scene) -> None:
    challenge, capture = _live(head)
    frames = list(capture.frames)
    frames[-1] = dataclasses.replace(frames[-1], timestamp_ms=challenge.total_ms + 60_000.0)
    result = engine.evaluate(challenge, _with_frames(capture, frames))
    assert result.decision is SPOOF and "timestamps_out_of_range" in result.reasons


def test_duplicated_frames_are_spoofface(engine: LivenessEngine, head: Scene) -> None:
    challenge, capture = _live(head)
    frames = list(capture.frames)
    for i in range(5, len(frames), 3):  # a third of the frames repeat their predecessor's pixels
        frames[i] = dataclasses.replace(frames[i], image=frames[i - 1].image)
    result = engine.evaluate(challenge, _with_frames(capture, frames))
    assert result.decision is SPOOF and "duplicated_frames" in result.reasons


def test_an_occasional_repeated_frame_is_tolerated(engine: LivenessEngine, head: Scene) -> None:
    challenge, capture = _live(head)
    frames = list(capture.frames)
    frames[20] = dataclasses.replace(frames[20], image=frames[19].image)
    assert engine.evaluate(challenge, _with_frames(capture, frames)).decision is REAL


def test_claimed_steps_inconsistent_with_the_schedule_are_spoofface(engine: LivenessEngine, head: Scene) -> None:
    challenge, capture = _live(head)
    frames = [
        dataclasses.replace(f, step_index=None if f.step_index is None else (f.step_index + 3) % len(challenge.steps))
        for f in capture.frames
    ]
    result = engine.evaluate(challenge, _with_frames(capture, frames))
    assert result.decision is SPOOF and "claimed_steps_inconsistent" in result.reasons


def test_too_few_frames_is_uncertain(engine: LivenessEngine, head: Scene) -> None:
    challenge, capture = _live(head)
    result = engine.evaluate(challenge, _with_frames(capture, list(capture.frames[::4])))
    assert result.decision is UNCERTAIN and "too_few_frames" in result.reasons


def test_empty_capture_is_uncertain(engine: LivenessEngine) -> None:
    result = engine.evaluate(make_challenge(1), Capture(frames=()))
    assert result.decision is UNCERTAIN and result.reasons == ("too_few_frames",)


def test_no_face_is_uncertain(engine: LivenessEngine, head: Scene) -> None:
    challenge, capture = _live(head)
    rng = np.random.default_rng(0)
    frames = [dataclasses.replace(f, image=rng.integers(0, 255, f.image.shape, dtype=np.uint8)) for f in capture.frames]
    result = engine.evaluate(challenge, _with_frames(capture, frames))
    assert result.decision is UNCERTAIN and "no_face" in result.reasons


def test_too_dark_is_uncertain(engine: LivenessEngine, head: Scene) -> None:
    challenge, capture = _live(head)
    frames = [dataclasses.replace(f, image=(f.image // 8).astype(np.uint8)) for f in capture.frames]
    result = engine.evaluate(challenge, _with_frames(capture, frames))
    assert result.decision is not REAL
    assert result.decision is UNCERTAIN, result


def test_two_faces_are_uncertain(engine: LivenessEngine, head: Scene) -> None:
    challenge, capture = _live(head)
    frames = []
    for f in capture.frames:
        half = f.image[:, 120:360]
        frames.append(dataclasses.replace(f, image=np.ascontiguousarray(np.hstack([half, half]))))
    result = engine.evaluate(challenge, _with_frames(capture, frames))
    assert result.decision is UNCERTAIN and "multiple_faces" in result.reasons


@pytest.mark.parametrize("mode", list(LivenessOperationMode))
def test_spreading_a_call_over_threads_changes_nothing(engine: LivenessEngine, mode: LivenessOperationMode) -> None:
    """With `parts`, keyframes are detected and parallax measured on other threads: same decision, scores,
    reasons and best frame as on the caller's thread alone, for a head and for a print."""
    head = build_head(data.astronaut(), engine.analyzer)
    rng = np.random.default_rng(4)
    challenge = random_challenge(rng, mode)
    with ThreadPoolExecutor(2) as parts:
        threaded = LivenessEngine(engine.analyzer, parts=parts)
        for species in ("bona_fide", "print"):
            capture = simulate_capture(head, challenge, species, conditions=Conditions(), rng=rng).to_capture()
            alone, spread = engine.evaluate(challenge, capture), threaded.evaluate(challenge, capture)
            assert spread == alone
            assert (alone.decision is REAL) == (species == "bona_fide"), alone


def test_downscaled_motion_keyframes_leave_parallax_unchanged(engine: LivenessEngine) -> None:
    """The motion phase's keyframes are detected downscaled, except the two that parallax's reference frame is
    interpolated from: the reference's landmarks, hence every tracked point and parallax's result, are those of an
    engine that detects every motion keyframe at full resolution."""
    head = build_head(data.astronaut(), engine.analyzer)
    rng = np.random.default_rng(11)
    full_config = dataclasses.replace(
        engine.config, tracking=dataclasses.replace(engine.config.tracking, motion_detect_side=None)
    )
    full = LivenessEngine(engine.analyzer, full_config)
    for species in ("bona_fide", "print"):
        challenge = random_challenge(rng, LivenessOperationMode.PASSIVE_ACTIVE)
        capture = simulate_capture(head, challenge, species, conditions=Conditions(), rng=rng).to_capture()
        (_, fast), (_, slow) = engine.evaluate_detailed(challenge, capture), full.evaluate_detailed(challenge, capture)
        assert fast["parallax"] == slow["parallax"], species
        assert "deviation" in fast["parallax"].measures


def test_reference_keyframes_are_detected_at_full_resolution(engine: LivenessEngine) -> None:
    head = build_head(data.astronaut(), engine.analyzer)
    rng = np.random.default_rng(12)
    challenge = random_challenge(rng, LivenessOperationMode.PASSIVE_ACTIVE)
    capture = simulate_capture(head, challenge, "bona_fide", conditions=Conditions(), rng=rng).to_capture()
    reference = reference_frame(capture.frames, challenge, engine.config.parallax)
    assert reference is not None
    track = track_faces(engine.analyzer, capture.frames, challenge, engine.config.tracking, precise=reference)
    motion = [k for k in track.keyframes if capture.frames[k.index].timestamp_ms >= challenge.flash_end_ms]
    before = max(k.index for k in track.keyframes if k.index <= reference)
    after = min((k.index for k in track.keyframes if k.index >= reference), default=before)
    assert {k.index for k in track.keyframes if k.full_resolution} == {before, after}
    assert len(motion) == engine.config.tracking.motion_keyframes
    assert sum(not k.full_resolution for k in motion) >= len(motion) - 2


def test_the_motion_phase_leaves_the_slowest_turn_time_to_hold(
    engine: LivenessEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A person who starts turning as late and turns as slowly as the simulator's user ever does still holds the
    turned pose for parallax's held span before the capture ends. With the motion phase cut to 1.8 s (its length
    before session 18) the same turn is still under way at the end, and the nose holds less of its deviation."""
    monkeypatch.setattr(simulator, "REACTION_MS", (simulator.REACTION_MS[1],) * 2)
    monkeypatch.setattr(simulator, "TURN_MS", (simulator.TURN_MS[1],) * 2)
    head = build_head(data.astronaut(), engine.analyzer)
    challenge = random_challenge(np.random.default_rng(21), LivenessOperationMode.PASSIVE_ACTIVE)
    hold = challenge.motion_ms - simulator.REACTION_MS[1] - simulator.TURN_MS[1]
    assert hold >= engine.config.parallax.sustain_ms
    deviation = {}
    for length in (challenge.motion_ms, 1800):
        timed = dataclasses.replace(challenge, motion_ms=length)
        capture = simulate_capture(head, timed, "bona_fide", conditions=Conditions(), rng=21).to_capture()
        result, signals = engine.evaluate_detailed(timed, capture)
        deviation[length] = signals["parallax"].measures["deviation"]
        if length == challenge.motion_ms:
            assert result.decision is REAL, result
    # (this seed: 0.172 against 0.205)
    assert deviation[1800] < 0.9 * deviation[challenge.motion_ms], deviation
