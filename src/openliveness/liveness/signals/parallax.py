"""Motion parallax: during the head motion the nose tip leaves the homography of eyes and mouth corners on a
real head; on a photo or a screen (a plane, bent or not much) it stays on it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ..config import ParallaxConfig
from ..tracking import Keyframe
from ..types import MotionPrompt
from .base import SignalResult, Verdict, ramp

__all__ = ["homography", "nose_deviation", "parallax", "yaw_of"]

FloatArray = npt.NDArray[np.float64]
_PLANE = [0, 1, 3, 4]  # eyes and mouth corners
_NOSE = 2


def homography(src: FloatArray, dst: FloatArray) -> FloatArray | None:
    """The 3x3 homography taking four `src` points to `dst` (direct linear transform); None if degenerate."""
    rows = []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        rows.append([-x, -y, -1, 0, 0, 0, u * x, u * y, u])
        rows.append([0, 0, 0, -x, -y, -1, v * x, v * y, v])
    a = np.asarray(rows, dtype=np.float64)
    _, sig, vt = np.linalg.svd(a)
    if sig[-2] < 1e-9 * sig[0]:
        return None
    h = vt[-1].reshape(3, 3)
    if abs(h[2, 2]) < 1e-12:
        return None
    return np.asarray(h / h[2, 2], dtype=np.float64)


def nose_deviation(ref: FloatArray, cur: FloatArray) -> float | None:
    """Distance of the nose from where the plane of the other four points puts it, in eye distances."""

    # Normalise so the DLT is well conditioned: origin at the eyes' midpoint, unit the eye distance.
    def norm(p: FloatArray) -> tuple[FloatArray, float]:
        iod = float(np.hypot(*(p[1] - p[0])))
        return (p - p[:2].mean(axis=0)) / max(iod, 1e-6), iod

    a, _ = norm(ref)
    b, _ = norm(cur)
    h = homography(a[_PLANE], b[_PLANE])
    if h is None:
        return None
    x = h @ np.array([a[_NOSE, 0], a[_NOSE, 1], 1.0])
    if abs(x[2]) < 1e-9:
        return None
    return float(np.hypot(x[0] / x[2] - b[_NOSE, 0], x[1] / x[2] - b[_NOSE, 1]))


def yaw_of(points: FloatArray) -> float:
    """Nose offset from the eyes' midpoint along the eye line, in eye distances: grows when the head turns
    toward the image's right, which in an unmirrored camera frame is the person's left."""
    eye = points[1] - points[0]
    iod = float(np.hypot(*eye))
    return float(np.dot(points[_NOSE] - points[:2].mean(axis=0), eye / max(iod, 1e-6)) / max(iod, 1e-6))


def parallax(keyframes: Sequence[Keyframe], prompt: MotionPrompt | None, config: ParallaxConfig) -> SignalResult:
    """`keyframes`: full-resolution detections of the motion phase, in time order."""
    points = [k.face.landmarks.as_array() for k in keyframes if k.face is not None]
    if prompt is None:
        return SignalResult("parallax", Verdict.INCONCLUSIVE, 0.0, ("parallax_not_requested",))
    if len(points) < 3:
        return SignalResult("parallax", Verdict.INCONCLUSIVE, 0.0, ("parallax_too_few_frames",))
    yaws = np.array([yaw_of(p) for p in points])
    iods = np.array([float(np.hypot(*(p[1] - p[0]))) for p in points])
    # The reference is the most frontal frame: the prompt moves away from it.
    ref = int(np.argmin(np.abs(yaws)))
    deviations = [d for i, p in enumerate(points) if i != ref and (d := nose_deviation(points[ref], p)) is not None]
    if not deviations:
        return SignalResult("parallax", Verdict.INCONCLUSIVE, 0.0, ("parallax_too_few_frames",))
    deviation = float(max(deviations))
    yaw_change = float(yaws.max() - yaws[ref]) if prompt is MotionPrompt.TURN_LEFT else float(yaws[ref] - yaws.min())
    scale_change = float(iods.max() / max(iods[: ref + 1].min(), 1e-6) - 1.0)
    measures = {
        "deviation": deviation,
        "yaw_change": yaw_change,
        "scale_change": scale_change,
        "keyframes": float(len(points)),
    }
    # A turned photo shows no nose yaw at all, only foreshortening (the eyes close in, the face's height stays):
    # that counts as motion too, so a photo turned on request is judged on its (missing) parallax.
    aspect = np.array([_aspect(p) for p in points])
    foreshortening = float(1.0 - aspect.min() / max(aspect[ref], 1e-6))
    measures["foreshortening"] = foreshortening
    if prompt is MotionPrompt.MOVE_CLOSER:
        moved = right_way = scale_change >= config.min_scale_change
        low, high = config.closer_fail_deviation, config.closer_pass_deviation
    else:
        right_way = yaw_change >= config.min_yaw_change
        moved = right_way or foreshortening >= config.min_foreshortening
        low, high = config.fail_deviation, config.pass_deviation
    score = ramp(deviation, low, high)
    if not moved:
        return SignalResult("parallax", Verdict.INCONCLUSIVE, score, ("motion_not_performed",), measures)
    if deviation < low:
        return SignalResult("parallax", Verdict.FAIL, score, ("parallax_planar",), measures)
    if not right_way:
        return SignalResult("parallax", Verdict.INCONCLUSIVE, score, ("motion_wrong_direction",), measures)
    if deviation >= high:
        return SignalResult("parallax", Verdict.PASS, score, (), measures)
    return SignalResult("parallax", Verdict.INCONCLUSIVE, score, ("parallax_weak",), measures)


def _aspect(points: FloatArray) -> float:
    """Eye distance over the eyes-to-mouth height: falls as cos(yaw) when a plane turns about its vertical."""
    eyes = points[:2].mean(axis=0)
    mouth = points[3:].mean(axis=0)
    return float(np.hypot(*(points[1] - points[0])) / max(float(np.hypot(*(mouth - eyes))), 1e-6))
