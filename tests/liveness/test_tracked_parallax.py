"""Parallax on points tracked by texture: a plane under a homography stays on it, a depth-warped head does not."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np
import pytest

from openliveness.liveness import MotionPrompt
from openliveness.liveness.config import ParallaxConfig
from openliveness.liveness.signals import SignalResult, Verdict
from openliveness.liveness.signals.parallax import (
    _TEMPLATE_DEPTH,
    depth_parallax,
    face_points,
    plane_residual,
    sustained,
    track_points,
    tracked_parallax,
)

CONFIG = ParallaxConfig()
IOD = 80.0
LANDMARKS = np.array([[200.0, 150.0], [280.0, 150.0], [240.0, 198.0], [208.0, 238.0], [272.0, 238.0]])


def _texture(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    noise = rng.uniform(0, 255, size=(360, 480)).astype(np.float32)
    grey = cv2.GaussianBlur(noise, (0, 0), 2.0)
    grey = cv2.normalize(grey, None, 20, 235, cv2.NORM_MINMAX)
    return np.repeat(grey[..., None], 3, axis=2).astype(np.uint8)


def _frames(
    *, depth: float, degrees: float = 25.0, n: int = 20, seed: int = 0, nose_width: float = 0.25
) -> list[np.ndarray]:
    """A turn about the vertical axis through the face's centre: the face's plane foreshortens (x scaled by
    cos), and points in front of it (a Gaussian bump of `depth` eye distances at the nose, `nose_width` its sigma
    in eye distances) slide sideways by depth x sin. depth=0 is a photo turned on request."""
    base = _texture(seed)
    cx = 240.0
    ys, xs = np.mgrid[0:360, 0:480].astype(np.float32)
    nose = LANDMARKS[2]
    frames = []
    for t in np.linspace(0.0, 1.0, n):
        theta = np.radians(degrees) * (0.5 - 0.5 * np.cos(np.pi * t))
        # Inverse map: undo the foreshortening, then the depth shift (one fixed-point step: the field is smooth).
        sx = cx + (xs - cx) / np.cos(theta)
        r2 = ((sx - nose[0]) ** 2 + (ys - nose[1]) ** 2) / (nose_width * IOD) ** 2
        shift = depth * IOD * np.sin(theta) * np.exp(-0.5 * r2)
        src_x = cx + (xs - shift - cx) / np.cos(theta)
        frames.append(cv2.remap(base, src_x.astype(np.float32), ys, cv2.INTER_LINEAR))
    return frames


def _parallax(frames: list[np.ndarray], prompt: MotionPrompt) -> SignalResult:
    """`tracked_parallax` on frames captured at 12 fps (the default challenge's rate)."""
    times = [1000.0 / 12 * i for i in range(len(frames))]
    return tracked_parallax(frames, LANDMARKS, prompt, CONFIG, times_ms=times)


def test_tracking_follows_a_shifted_texture_to_subpixel() -> None:
    base = _texture(1)
    shifted = cv2.warpAffine(base, np.float32([[1, 0, 3.5], [0, 1, -2.0]]), (480, 360))
    points, _, _ = face_points(LANDMARKS)
    tracks, alive = track_points([base, shifted], points, 23, CONFIG.track_fb_max_px)
    assert alive[1].all()
    assert np.abs(tracks[1] - points - [3.5, -2.0]).max() < 0.2


def test_plane_residual_is_zero_under_a_homography() -> None:
    points, plane, nose = face_points(LANDMARKS)
    h = np.array([[0.9, 0.05, 12.0], [-0.03, 1.02, -5.0], [2e-4, -1e-4, 1.0]])
    x = np.concatenate([points, np.ones((len(points), 1))], axis=1) @ h.T
    moved = x[:, :2] / x[:, 2:]
    fit = plane_residual(points, moved, plane, nose, CONFIG.ransac_threshold)
    assert fit is not None and fit[0] == pytest.approx(0.0, abs=1e-6)
    pushed = moved.copy()
    pushed[nose] += [0.2 * IOD, 0.0]
    fit = plane_residual(points, pushed, plane, nose, CONFIG.ransac_threshold)
    assert fit is not None and fit[0] > 0.15


def _turned_sheet(points: np.ndarray) -> np.ndarray:
    """`points` on a sheet turned about a vertical axis through the face (foreshortened, in perspective)."""
    centre = LANDMARKS.mean(axis=0)
    q = points - centre
    w = 1.0 + 0.0015 * q[:, 0]
    return np.stack([0.8 * q[:, 0] / w, q[:, 1] / w], axis=1) + centre


def test_the_depth_fit_caps_a_sheets_drifting_points_and_keeps_a_noses_parallax() -> None:
    # LK drift on a sheet turned hard scatters its points by a few hundredths of an eye distance; RANSAC's
    # consensus of a few of them can put the nose far off, where a head's nose is. Capped by the fit of every
    # point to a turning face, the reading stays near the drift; a nose truly off the sheet still reads off it.
    points, plane, nose = face_points(LANDMARKS)
    uncapped, capped, head = [], [], []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        moved = _turned_sheet(points)
        moved[plane] += rng.uniform(-0.06, 0.06, (len(plane), 2)) * IOD
        moved[nose] += rng.uniform(-0.01, 0.01, (len(nose), 2)) * IOD
        for readings, cap in ((uncapped, 0.0), (capped, CONFIG.depth_fit_cap)):
            fit = plane_residual(points, moved, plane, nose, CONFIG.ransac_threshold, cap)
            assert fit is not None
            readings.append(fit[0])
        moved[nose] += [0.2 * IOD, 0.0]
        fit = plane_residual(points, moved, plane, nose, CONFIG.ransac_threshold, CONFIG.depth_fit_cap)
        assert fit is not None
        head.append(fit[0])
    assert max(uncapped) > CONFIG.pass_deviation  # what the cap is for
    assert max(capped) < CONFIG.fail_deviation, sorted(capped)
    assert min(head) > CONFIG.pass_deviation, sorted(head)


def test_depth_parallax_reads_a_turn_of_the_template_face_and_nothing_on_a_sheet() -> None:
    points, plane, nose = face_points(LANDMARKS)
    every = np.concatenate([plane, nose])
    a = (points - LANDMARKS[:2].mean(axis=0)) / IOD
    sheet = a @ np.array([[0.9, 0.05], [-0.04, 1.02]]).T + [0.1, -0.05]
    assert depth_parallax(a, sheet, every) < 1e-9
    depth = _TEMPLATE_DEPTH  # a face shaped exactly like the template
    angle = np.radians(20.0)
    turned = a.copy()
    turned[:, 0] = a[:, 0] * np.cos(angle) + depth * np.sin(angle)
    assert depth_parallax(a, turned, every) == pytest.approx(depth[2] * np.sin(angle), rel=1e-6)


def test_tracked_parallax_fails_a_turned_plane_and_passes_a_turning_head() -> None:
    photo = _parallax(_frames(depth=0.0), MotionPrompt.TURN_LEFT)
    head = _parallax(_frames(depth=0.55), MotionPrompt.TURN_LEFT)
    assert photo.verdict is Verdict.FAIL, photo
    assert photo.reasons == ("parallax_planar",)
    assert photo.measures["deviation"] < 0.02
    assert head.verdict is Verdict.PASS, head
    # The level held over the turn's last 250 ms (the cosine ease is still rising a little there).
    assert head.measures["deviation"] > 0.13
    assert head.measures["yaw_change"] >= CONFIG.min_yaw_change
    assert head.measures["decisive"] == 1.0


def test_tracked_parallax_checks_the_prompt() -> None:
    wrong_way = _parallax(_frames(depth=0.55), MotionPrompt.TURN_RIGHT)
    assert wrong_way.verdict is Verdict.INCONCLUSIVE
    assert wrong_way.reasons == ("motion_wrong_direction",)
    still = _parallax(_frames(depth=0.55, degrees=0.0), MotionPrompt.TURN_LEFT)
    assert still.reasons == ("motion_not_performed",)
    few = _parallax(_frames(depth=0.55, n=2), MotionPrompt.TURN_LEFT)
    assert few.reasons == ("parallax_too_few_frames",)


def test_a_short_turn_that_leaves_the_plane_passes() -> None:
    """Users turn less than asked, or are still turning when the capture ends: an 11 degree turn moves the nose
    about 0.1 eye distances, which the prompt check must count as performed once the nose leaves the plane."""
    short = _parallax(_frames(depth=0.7, degrees=11.0), MotionPrompt.TURN_LEFT)
    assert short.measures["yaw_change"] < 0.11
    assert short.verdict is Verdict.PASS, short


def test_a_narrow_nose_is_tracked_on_the_nose() -> None:
    """A narrow nose (sigma 0.12 eye distances) beside a textured cheek: with the plane's window the nose's points
    take in the cheek, which moves with the plane, and the turn reads planar; their own narrow window keeps them
    on the nose."""
    frames = _frames(depth=0.55, nose_width=0.12)
    narrow = _parallax(frames, MotionPrompt.TURN_LEFT)
    assert narrow.verdict is Verdict.PASS, narrow
    times = [1000.0 / 12 * i for i in range(len(frames))]
    wide = replace(CONFIG, nose_track_window=CONFIG.track_window)
    blended = tracked_parallax(frames, LANDMARKS, MotionPrompt.TURN_LEFT, wide, times_ms=times)
    assert blended.measures["deviation"] < narrow.measures["deviation"] - 0.015


def test_track_points_takes_a_window_per_point() -> None:
    base = _texture(2)
    shifted = cv2.warpAffine(base, np.float32([[1, 0, -2.5], [0, 1, 1.5]]), (480, 360))
    points, _, nose = face_points(LANDMARKS)
    windows = np.full(len(points), 23, dtype=np.intp)
    windows[nose] = 11
    tracks, alive = track_points([base, shifted], points, windows, CONFIG.track_fb_max_px)
    assert alive[1].all()
    assert np.abs(tracks[1] - points - [-2.5, 1.5]).max() < 0.25


def test_sustained_keeps_a_held_level_and_drops_a_short_glitch() -> None:
    times = [1000.0 / 12 * i for i in range(12)]
    # A head: the deviation rises and is held to the end.
    head = [0.0, 0.02, 0.05, 0.08, 0.11, 0.14, 0.15, 0.16, 0.16, 0.15, 0.16, 0.16]
    assert sustained(head, times, 250.0) == pytest.approx(0.15)
    # A print: tracking glitches for two frames (167 ms); the second largest frame would have passed (0.108).
    glitch = [0.01, 0.01, 0.02, 0.12, 0.108, 0.02, 0.01, 0.02, 0.01, 0.02, 0.01, 0.01]
    assert sustained(glitch, times, 250.0) <= 0.02
    assert sustained(glitch, times, 250.0) < CONFIG.fail_deviation
    # Frames spanning less than the stretch: the smallest value, not the largest.
    assert sustained([0.2, 0.05], [0.0, 100.0], 250.0) == pytest.approx(0.05)


def _nose_lost_from(frames: list[np.ndarray], first: int) -> list[np.ndarray]:
    """The frames with the nose's texture gone (flat grey, as a small face's nose in a bright room) from `first` on:
    its points can no longer be followed."""
    out = [f.copy() for f in frames]
    for frame in out[first:]:
        cv2.circle(frame, tuple(int(v) for v in LANDMARKS[2]), int(0.35 * IOD), (128, 128, 128), -1)
    return out


def test_a_turn_whose_nose_is_lost_early_is_not_refused_as_planar() -> None:
    """A head turning whose nose points are lost half way into the turn: what was followed reads low (0.045), but
    the turn's end, where the nose holds its deviation, was never seen. Not a plane's reading: uncertain. A plane's
    turn followed to the end still refuses."""
    lost = _parallax(_nose_lost_from(_frames(depth=0.55), 10), MotionPrompt.TURN_LEFT)
    assert lost.measures["yaw_change"] >= CONFIG.min_yaw_change
    assert lost.measures["deviation"] < CONFIG.fail_deviation
    assert lost.measures["untracked_ms"] > CONFIG.sustain_ms
    assert lost.verdict is Verdict.INCONCLUSIVE, lost
    assert lost.reasons == ("parallax_untracked",)
    plane = _parallax(_frames(depth=0.0), MotionPrompt.TURN_LEFT)
    assert plane.measures["untracked_ms"] == 0.0
    assert plane.verdict is Verdict.FAIL
