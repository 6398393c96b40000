"""Tracking in the flash phase: keyframes placed by one alignment, the frames between by their measured shift."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from openliveness.domain import LivenessOperationMode
from openliveness.liveness import CaptureFrame
from openliveness.liveness.config import TrackingConfig
from openliveness.liveness.tracking import FaceTrack, Keyframe, align_keyframes, register_to_keyframes, registered
from openliveness.simulate import random_challenge
from openliveness.vision import DetectedFace, FaceBox, FaceLandmarks, Point

from .synth import astronaut_frame

CONFIG = TrackingConfig()
# The detector's five points (eyes, nose tip, mouth corners) on astronaut_frame().
LANDMARKS = np.array([[169.6, 151.2], [235.1, 156.0], [199.8, 192.6], [166.2, 207.5], [232.4, 211.6]])
# A hand's shake: a few pixels back and forth between keyframes 0 and 8, under changing screen colours.
SHIFTS = np.array([[0, 0], [1.5, -0.7], [3.2, -1.5], [2.1, 0.4], [-0.6, 2.2], [-2.9, 1.1], [-1.4, -1.8], [0.8, -0.9]])
GAINS = ((1.0, 1.0, 1.0), (1.0, 0.75, 0.75), (0.7, 1.0, 0.7), (0.7, 0.7, 1.0), (1.0, 1.0, 0.7), (0.7, 1.0, 1.0))


def _shaken_capture() -> tuple[list[CaptureFrame], np.ndarray]:
    base = astronaut_frame().astype(np.float32)
    frames, truth = [], []
    for i, (dx, dy) in enumerate([*SHIFTS, SHIFTS[0]]):
        moved = cv2.warpAffine(base, np.float32([[1, 0, dx], [0, 1, dy]]), (480, 360), borderMode=cv2.BORDER_REFLECT)
        lit = np.clip(moved * np.float32(GAINS[i % len(GAINS)]), 0, 255).astype(np.uint8)
        frames.append(CaptureFrame(image=lit, timestamp_ms=33.0 * i, step_index=None))
        truth.append(LANDMARKS + np.array([dx, dy]))
    return frames, np.array(truth)


def test_frames_between_keyframes_follow_the_shake_that_interpolation_misses() -> None:
    frames, truth = _shaken_capture()
    keys = [0, len(frames) - 1]
    interpolated = np.repeat(truth[:1], len(frames), axis=0)  # both keyframes sit at the same place
    registered = interpolated.copy()
    register_to_keyframes(frames, registered, keys, range(len(frames)), CONFIG)
    missed = np.abs(interpolated - truth).max(axis=(1, 2))
    error = np.abs(registered - truth).max(axis=(1, 2))
    assert missed.max() > 3.0
    assert error.max() < 0.35, error
    assert np.array_equal(registered[keys], truth[keys])  # keyframes keep the detector's points


def test_a_shift_beyond_the_limit_keeps_the_interpolation() -> None:
    frames, truth = _shaken_capture()
    interpolated = np.repeat(truth[:1], len(frames), axis=0)
    registered = interpolated.copy()
    # 0.01 eye distances is 0.65 px here: every frame between the keyframes moved further, so each is a miss.
    strict = dataclasses.replace(CONFIG, register_max_shift=0.01)
    register_to_keyframes(frames, registered, [0, len(frames) - 1], range(len(frames)), strict)
    assert np.array_equal(registered, interpolated)


def test_a_patch_leaving_the_frame_keeps_the_interpolation() -> None:
    frames, truth = _shaken_capture()
    off = truth.copy()
    off[:, :, 0] -= 230.0  # the face's patch would start left of the frame
    registered = off.copy()
    register_to_keyframes(frames, registered, [0, len(frames) - 1], range(len(frames)), CONFIG)
    assert np.array_equal(registered, off)


def test_registering_on_two_threads_gives_the_same_track() -> None:
    frames, truth = _shaken_capture()
    challenge = random_challenge(np.random.default_rng(1), LivenessOperationMode.PASSIVE)
    keys = []
    for i in (0, len(frames) - 1):
        points = FaceLandmarks(*(Point(float(x), float(y)) for x, y in truth[i]))
        face = DetectedFace(box=FaceBox(top=80, left=130, width=140, height=180), landmarks=points, score=0.99)
        keys.append(Keyframe(index=i, face=face, face_count=1, full_resolution=False))
    track = FaceTrack(landmarks=np.repeat(truth[:1], len(frames), axis=0), keyframes=tuple(keys))
    alone = registered(track, frames, challenge, CONFIG)
    with ThreadPoolExecutor(1) as parts:
        spread = registered(track, frames, challenge, CONFIG, parts=parts)
    assert np.array_equal(alone.landmarks, spread.landmarks)
    assert np.abs(alone.landmarks - truth).max() < 0.35
    assert np.array_equal(track.landmarks, np.repeat(truth[:1], len(frames), axis=0))  # a new track, not in place


# A head's small turns and distance changes over eight keyframes: (dx, dy) pixels, scale, rotation (degrees), each
# about the face's centre, under the screen's colour steps.
MOVES = [(0, 0, 1.0, 0.0), (2.4, -1.1, 1.02, 0.8), (4.1, 0.6, 1.035, -0.6), (1.2, 2.5, 0.985, 1.2),
         (-2.2, 1.4, 0.97, -1.0), (-3.6, -0.8, 1.01, 0.4), (0.7, -2.6, 1.025, -1.3), (2.9, 1.9, 0.99, 0.9)]  # fmt: skip


def _moving_keyframes(noise_px: float, seed: int = 3) -> tuple[list[CaptureFrame], dict[int, np.ndarray], np.ndarray]:
    """Keyframes of the astronaut moved by MOVES, with the detector's points off by `noise_px` (standard
    deviation, independently per keyframe and point); also the true points per keyframe."""
    base = astronaut_frame().astype(np.float32)
    centre = tuple(float(v) for v in LANDMARKS.mean(axis=0))
    rng = np.random.default_rng(seed)
    frames, detections, truth = [], {}, []
    for i, (dx, dy, scale, degrees) in enumerate(MOVES):
        matrix = cv2.getRotationMatrix2D(centre, degrees, scale)
        matrix[:, 2] += (dx, dy)
        moved = cv2.warpAffine(base, matrix, (480, 360), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)
        lit = np.clip(moved * np.float32(GAINS[i % len(GAINS)]), 0, 255).astype(np.uint8)
        frames.append(CaptureFrame(image=lit, timestamp_ms=400.0 * i, step_index=None))
        points = LANDMARKS @ matrix[:, :2].T + matrix[:, 2]
        truth.append(points)
        detections[i] = points + rng.normal(0.0, noise_px, size=points.shape)
    return frames, detections, np.array(truth)


def test_keyframes_carry_one_set_of_landmarks_where_detections_scatter() -> None:
    frames, detections, truth = _moving_keyframes(noise_px=1.2)
    aligned = align_keyframes(frames, detections, CONFIG)
    assert sorted(aligned) == list(range(len(MOVES)))
    detected_error = np.stack([detections[i] for i in range(len(MOVES))]) - truth
    aligned_error = np.stack([aligned[i] for i in range(len(MOVES))]) - truth
    # What moves the regions over the skin is each keyframe's error against the others', not a common offset.
    scatter = detected_error - detected_error.mean(axis=0)
    aligned_scatter = aligned_error - aligned_error.mean(axis=0)
    assert np.abs(scatter).max() > 2.0
    assert np.abs(aligned_scatter).max() < 0.5, np.abs(aligned_scatter).max()
    # The common offset is the detections' mean error, carried along.
    assert np.abs(aligned_error.mean(axis=0) - detected_error.mean(axis=0)).max() < 0.3


def test_a_keyframe_that_does_not_align_keeps_its_detection() -> None:
    frames, detections, _ = _moving_keyframes(noise_px=0.5)
    blank = dataclasses.replace(frames[3], image=np.full_like(frames[3].image, 128))
    frames[3] = blank  # the face is gone from this frame: ECC cannot converge, or correlates at about 0
    wrong = dict(detections)
    wrong[5] = detections[5] + np.array([25.0, 0.0])  # the detector jumped to something else
    aligned = align_keyframes(frames, wrong, CONFIG)
    assert 3 not in aligned and 5 not in aligned
    assert len(aligned) == len(MOVES) - 2


def test_fewer_than_two_keyframes_are_left_as_detected() -> None:
    frames, detections, _ = _moving_keyframes(noise_px=0.5)
    assert align_keyframes(frames, {0: detections[0]}, CONFIG) == {}
    off = {i: p - np.array([200.0, 0.0]) for i, p in detections.items()}  # the first one's square leaves the frame
    assert align_keyframes(frames, off, CONFIG) == {}


def test_registered_places_the_flash_keyframes_by_their_alignment() -> None:
    frames, detections, _ = _moving_keyframes(noise_px=1.2)
    challenge = random_challenge(np.random.default_rng(1), LivenessOperationMode.PASSIVE)
    keys = []
    for i, points in detections.items():
        marks = FaceLandmarks(*(Point(float(x), float(y)) for x, y in points))
        face = DetectedFace(box=FaceBox(top=80, left=130, width=140, height=180), landmarks=marks, score=0.99)
        keys.append(Keyframe(index=i, face=face, face_count=1, full_resolution=False))
    track = FaceTrack(landmarks=np.stack([detections[i] for i in range(len(MOVES))]), keyframes=tuple(keys))
    placed = registered(track, frames, challenge, CONFIG)
    aligned = align_keyframes(frames, detections, CONFIG)
    assert np.allclose(placed.landmarks, np.stack([aligned[i] for i in range(len(MOVES))]))
    as_detected = registered(track, frames, challenge, dataclasses.replace(CONFIG, align_keyframes=False))
    assert np.array_equal(as_detected.landmarks, track.landmarks)


def test_aligning_on_two_threads_gives_the_same_keyframes() -> None:
    frames, detections, _ = _moving_keyframes(noise_px=1.2)
    alone = align_keyframes(frames, detections, CONFIG)
    with ThreadPoolExecutor(1) as parts:
        spread = align_keyframes(frames, detections, CONFIG, parts=parts)
    assert sorted(alone) == sorted(spread)
    assert all(np.array_equal(alone[i], spread[i]) for i in alone)
