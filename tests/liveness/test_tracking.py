"""Tracking between keyframes: flash-phase frames placed by their measured shift, not by interpolation."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np

from openliveness.domain import LivenessOperationMode
from openliveness.liveness import CaptureFrame
from openliveness.liveness.config import TrackingConfig
from openliveness.liveness.tracking import FaceTrack, Keyframe, register_to_keyframes, registered
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
