"""Motion parallax: during the head motion the nose tip leaves the homography of eyes and mouth corners on a
real head; on a photo or a screen (a plane, bent or not much) it stays on it."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ..config import ParallaxConfig
from ..tracking import Keyframe
from ..types import CaptureFrame, Challenge, MotionPrompt
from .base import SignalResult, Verdict, ramp

__all__ = [
    "depth_parallax",
    "excursions",
    "face_points",
    "homography",
    "nose_deviation",
    "parallax",
    "plane_residual",
    "reference_frame",
    "sustained",
    "track_points",
    "tracked_parallax",
    "yaw_of",
]

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
    yaw_change, yaw_away = excursions(yaws, ref, prompt)
    scale_change = float(iods.max() / max(iods[: ref + 1].min(), 1e-6) - 1.0)
    measures = {
        "deviation": deviation,
        "yaw_change": yaw_change,
        "yaw_away": yaw_away,
        "scale_change": scale_change,
        "keyframes": float(len(points)),
    }
    # A turned photo shows no nose yaw at all, only foreshortening (the eyes close in, the face's height stays):
    # that counts as motion too, so a photo turned on request is judged on its (missing) parallax.
    aspect = np.array([_aspect(p) for p in points])
    foreshortening = float(1.0 - aspect.min() / max(aspect[ref], 1e-6))
    measures["foreshortening"] = foreshortening
    return _verdict(prompt, deviation, measures, config, mark_decisive=False)


def excursions(yaws: FloatArray, ref: int, prompt: MotionPrompt) -> tuple[float, float]:
    """How far the nose's yaw went from the reference frame's toward the prompted side, and toward the other:
    a turn answers the prompt only when the first dominates (a head shaken both ways reaches both sides)."""
    left, right = float(yaws.max() - yaws[ref]), float(yaws[ref] - yaws.min())
    return (left, right) if prompt is MotionPrompt.TURN_LEFT else (right, left)


def _aspect(points: FloatArray) -> float:
    """Eye distance over the eyes-to-mouth height: falls as cos(yaw) when a plane turns about its vertical."""
    eyes = points[:2].mean(axis=0)
    mouth = points[3:].mean(axis=0)
    return float(np.hypot(*(points[1] - points[0])) / max(float(np.hypot(*(mouth - eyes))), 1e-6))


# Points tracked by texture, in face coordinates: origin the eyes' midpoint, x along the eye line, y across it
# (down the face), unit the eye distance. The five landmarks are tracked too (indices 0-4, as detected).
# PLANE: near the eyes' plane (eyes, their outer corners, brows, forehead, outer cheeks, mouth corners).
_PLANE_UV = np.array(
    [
        [-0.75, 0.0],
        [0.75, 0.0],  # outer eye corners
        [-0.5, -0.3],
        [0.5, -0.3],
        [0.0, -0.45],  # brows, glabella
        [-0.35, -0.6],
        [0.35, -0.6],  # forehead
        [-0.7, 0.55],
        [0.7, 0.55],  # outer cheeks
        [-0.6, 0.85],
        [0.6, 0.85],  # lower outer cheeks
    ],
    dtype=np.float64,
)
# NOSE: around the nose tip, relative to the detected tip (nostrils, alae, the tip's lower edge).
_NOSE_UV = np.array([[-0.13, 0.0], [0.13, 0.0], [0.0, -0.12], [-0.1, 0.08], [0.1, 0.08], [0.0, 0.1]])
# A generic adult face's depth at each point, in eye distances toward the camera from the eyes' plane (the nose tip
# 2.5 cm in front, the outer cheeks 2 cm behind), row by row with the points above: used only to fit a turn to all
# the points at once (`depth_parallax`), so a rough shape is enough.
_LANDMARK_DEPTH = [0.0, 0.0, 0.40, -0.10, -0.10]  # eyes, nose tip, mouth corners
_PLANE_DEPTH = [-0.10, -0.10, 0.05, 0.05, 0.05, -0.05, -0.05, -0.30, -0.30, -0.35, -0.35]
_NOSE_DEPTH = [0.30, 0.30, 0.32, 0.25, 0.25, 0.30]
_TEMPLATE_DEPTH = np.array(_LANDMARK_DEPTH + _PLANE_DEPTH + _NOSE_DEPTH, dtype=np.float64)
assert len(_PLANE_DEPTH) == len(_PLANE_UV) and len(_NOSE_DEPTH) == len(_NOSE_UV)


def face_points(landmarks: FloatArray) -> tuple[FloatArray, npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """The points to track for `landmarks` (5x2, detector order): all points, the plane's, the nose's."""
    mid = landmarks[:2].mean(axis=0)
    ex = landmarks[1] - landmarks[0]
    ey = np.array([-ex[1], ex[0]])
    plane = mid + _PLANE_UV[:, :1] * ex + _PLANE_UV[:, 1:] * ey
    nose = landmarks[_NOSE] + _NOSE_UV[:, :1] * ex + _NOSE_UV[:, 1:] * ey
    points = np.concatenate([landmarks, plane, nose])
    plane_idx = np.concatenate([np.array(_PLANE), 5 + np.arange(len(plane))])
    nose_idx = np.concatenate([np.array([_NOSE]), 5 + len(plane) + np.arange(len(nose))])
    return points, plane_idx.astype(np.intp), nose_idx.astype(np.intp)


def track_points(
    images: Sequence[npt.NDArray[np.uint8]],
    points: FloatArray,
    window: int | npt.NDArray[np.intp],
    fb_max_px: float,
) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
    """Pyramidal Lucas-Kanade from frame to frame with a forward-backward check (tracking every frame from the
    reference instead avoids drift but loses most points once the face has turned or grown). `window`: the LK
    window's side in pixels, one for all points or one per point. Returns the positions ``(frames, points, 2)``
    (the first row is `points`) and which points survived, per frame (once lost, a point stays lost)."""
    import cv2

    n = len(images)
    windows = np.broadcast_to(np.asarray(window, dtype=np.intp), (len(points),))
    out = np.full((n, len(points), 2), np.nan, dtype=np.float64)
    alive = np.zeros((n, len(points)), dtype=bool)
    out[0], alive[0] = points, True
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 20, 0.03)
    # Brightness constancy does not hold across exposure changes and the screen's last colours: each frame's
    # grey is scaled so the face's mean is the same in every frame.
    lo = np.floor(points.min(axis=0)).astype(int)
    hi = np.ceil(points.max(axis=0)).astype(int) + 1

    def grey(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        g = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        roi = g[max(lo[1], 0) : max(hi[1], 1), max(lo[0], 0) : max(hi[0], 1)]
        mean = float(roi.mean()) if roi.size else float(g.mean())
        return np.asarray(cv2.convertScaleAbs(g, alpha=128.0 / max(mean, 1.0)), dtype=np.uint8)

    prev = grey(images[0])
    for i in range(1, n):
        cur = grey(images[i])
        if not alive[i - 1].any():
            break
        for side in np.unique(windows):
            idx = np.flatnonzero(alive[i - 1] & (windows == side))
            if not len(idx):
                continue
            size = (int(side), int(side))
            p0 = out[i - 1, idx].astype(np.float32).reshape(-1, 1, 2)
            p1, st1, _ = cv2.calcOpticalFlowPyrLK(prev, cur, p0, p0.copy(), winSize=size, maxLevel=3, criteria=criteria)
            back, st2, _ = cv2.calcOpticalFlowPyrLK(
                cur, prev, p1, p0.copy(), winSize=size, maxLevel=3, criteria=criteria
            )
            fb = np.hypot(*(back - p0).reshape(-1, 2).T)
            ok = (st1.ravel() == 1) & (st2.ravel() == 1) & (fb <= fb_max_px)
            out[i, idx[ok]] = p1.reshape(-1, 2)[ok]
            alive[i, idx[ok]] = True
        prev = cur
    return out, alive


def plane_residual(
    ref: FloatArray,
    cur: FloatArray,
    plane: npt.NDArray[np.intp],
    nose: npt.NDArray[np.intp],
    ransac: float,
    depth_cap: float = 0.0,
) -> tuple[float, FloatArray] | None:
    """Median distance of the `nose` points from where the RANSAC homography of the `plane` points puts them,
    in eye distances (the reference's eyes set the frame; distances are rescaled to `cur`'s eye distance,
    predicted by the homography), and the homography in image coordinates.

    `depth_cap` > 0 caps the distance at that many times what a fit of every point's motion to a turning face
    explains (`depth_parallax`): RANSAC's consensus can be five points whose homography extrapolates far off at
    the nose, which on a sheet whose points drift reads like a head's parallax."""
    import cv2

    if len(plane) < 6 or len(nose) < 1:
        return None
    mid, iod = ref[:2].mean(axis=0), float(np.hypot(*(ref[1] - ref[0])))
    iod = max(iod, 1e-6)
    a = (ref - mid) / iod
    b = (cur - mid) / iod
    h, mask = cv2.findHomography(a[plane], b[plane], cv2.RANSAC, ransac)
    if h is None or mask is None or int(mask.sum()) < 5:
        return None
    pred = _apply(h, a[nose])
    eyes = _apply(h, a[:2])
    if pred is None or eyes is None:
        return None
    scale = max(float(np.hypot(*(eyes[1] - eyes[0]))), 1e-6)
    # Back to image coordinates: x_img = iod * x + mid.
    t = np.array([[iod, 0.0, mid[0]], [0.0, iod, mid[1]], [0.0, 0.0, 1.0]])
    h_img = t @ h @ np.linalg.inv(t)
    miss = float(np.median(np.hypot(*(pred - b[nose]).T)) / scale)
    if depth_cap > 0:
        miss = min(miss, depth_cap * depth_parallax(a, b, np.concatenate([plane, nose])))
    return miss, h_img


def depth_parallax(a: FloatArray, b: FloatArray, points: npt.NDArray[np.intp]) -> float:
    """How far the nose tip moved off the face's plane by a least-squares fit of every one of `points` (indices
    into `a` -> `b`, normalised coordinates): b = A a + t + m * depth, an affine camera seeing a face of
    `_TEMPLATE_DEPTH` turn, so that |m| is the turn's sine; the reading is |m| times the nose tip's depth. A sheet's
    points fit with m near 0 however a few of them drift, because all of them take part."""
    depth = _TEMPLATE_DEPTH[points]
    design = np.column_stack([a[points], np.ones(len(points)), depth])
    coef, *_ = np.linalg.lstsq(design, b[points], rcond=None)
    return float(np.hypot(*coef[3])) * float(_TEMPLATE_DEPTH[_NOSE])


def _apply(h: FloatArray, points: FloatArray) -> FloatArray | None:
    x = np.concatenate([points, np.ones((len(points), 1))], axis=1) @ h.T
    if np.any(np.abs(x[:, 2]) < 1e-9):
        return None
    return np.asarray(x[:, :2] / x[:, 2:], dtype=np.float64)


def sustained(values: Sequence[float], times_ms: Sequence[float], span_ms: float) -> float:
    """The highest level `values` hold over some stretch of frames at least `span_ms` long (the largest, over
    such stretches, of their smallest value); the smallest value when the frames span less than that.

    The times are the client's: frames claimed far apart make a stretch of two, whose smaller value is still never
    above the second largest of all (the statistic this replaced), so forged spacing cannot raise it."""
    best = float("-inf")
    j = 0
    for i in range(len(values)):
        j = max(j, i)
        while j < len(values) and times_ms[j] - times_ms[i] < span_ms:
            j += 1
        if j == len(values):
            break
        best = max(best, min(values[i : j + 1]))
    return best if best > float("-inf") else float(min(values))


def reference_frame(frames: Sequence[CaptureFrame], challenge: Challenge, config: ParallaxConfig) -> int | None:
    """Where tracked parallax starts: the first frame once the screen's last colour and the exposure have settled
    (the prompt is shown at the flash's end and people take longer than this to start); None without one."""
    start = challenge.flash_end_ms + config.reference_settle_ms
    return next((i for i, f in enumerate(frames) if f.timestamp_ms >= start), None)


def tracked_parallax(
    images: Sequence[npt.NDArray[np.uint8]],
    landmarks: FloatArray,
    prompt: MotionPrompt | None,
    config: ParallaxConfig,
    *,
    times_ms: Sequence[float],
) -> SignalResult:
    """Parallax from points tracked by texture. `images`: the motion-phase frames from the reference frame on,
    in time order, captured at `times_ms`; `landmarks`: the detector's five points on the first of them."""
    if prompt is None:
        return SignalResult("parallax", Verdict.INCONCLUSIVE, 0.0, ("parallax_not_requested",))
    if len(images) < 3:
        return SignalResult("parallax", Verdict.INCONCLUSIVE, 0.0, ("parallax_too_few_frames",))
    iod = float(np.hypot(*(landmarks[1] - landmarks[0])))
    points, plane, nose = face_points(landmarks)
    # The nose's points get a window that stays on the nose: a wider one takes in the cheeks beside it, which move
    # with the plane, and LK then follows a blend of both (parallax read short).
    windows = np.full(len(points), _window_px(iod, config.track_window, 9), dtype=np.intp)
    windows[nose] = _window_px(iod, config.nose_track_window, 7)
    tracks, alive = track_points(images, points, windows, config.track_fb_max_px)
    deviations: list[float] = []
    deviation_times: list[float] = []
    motion_rows: list[FloatArray] = []
    ref = tracks[0]
    for i in range(1, len(images)):
        live = alive[i]
        fit = plane_residual(
            ref, tracks[i], plane[live[plane]], nose[live[nose]], config.ransac_threshold, config.depth_fit_cap
        )
        if fit is None:
            continue
        deviations.append(fit[0])
        deviation_times.append(float(times_ms[i]))
        # The five landmarks for the motion measures: tracked where they survived, else the plane's
        # homography (eyes, mouth) or the nose points' median displacement (nose tip).
        row = _apply(fit[1], ref[:5])
        if row is None:
            continue
        row[live[:5]] = tracks[i, :5][live[:5]]
        alive_nose = nose[live[nose]]
        row[_NOSE] = ref[_NOSE] + np.median(tracks[i, alive_nose] - ref[alive_nose], axis=0)
        motion_rows.append(row)
    measures: dict[str, float] = {
        "tracked": float(alive[-1].sum()),
        "tracked_frames": float(len(deviations)),
    }
    if deviation_times:
        # How long before the capture's end the nose was last followed (its points lost, or too few of the plane's).
        measures["untracked_ms"] = float(times_ms[-1]) - deviation_times[-1]
    if len(deviations) < 2 or len(motion_rows) < 2:
        return SignalResult("parallax", Verdict.INCONCLUSIVE, 0.0, ("parallax_untracked",), measures)
    rows = [tracks[0, :5], *motion_rows]
    yaws = np.array([yaw_of(p) for p in rows])
    iods = np.array([float(np.hypot(*(p[1] - p[0]))) for p in rows])
    aspect = np.array([_aspect(p) for p in rows])
    yaw_change, yaw_away = excursions(yaws, 0, prompt)
    scale_change = float(iods.max() / max(iods[0], 1e-6) - 1.0)
    foreshortening = float(1.0 - aspect.min() / max(aspect[0], 1e-6))
    # Held, not peaked: a turned head keeps its nose off the plane, while a print's tracking glitches for a frame
    # or three (tuning prints reached 0.108 as the second largest frame, heads hold theirs to the capture's end).
    deviation = sustained(deviations, deviation_times, config.sustain_ms)
    measures.update(
        {
            "deviation": deviation,
            "yaw_change": yaw_change,
            "yaw_away": yaw_away,
            "scale_change": scale_change,
            "foreshortening": foreshortening,
        }
    )
    return _verdict(prompt, deviation, measures, config, mark_decisive=True)


def _window_px(iod: float, share: float, smallest: int) -> int:
    """An LK window of `share` eye distances in pixels: odd, at least `smallest`, at most 41."""
    return int(np.clip(round(iod * share), smallest, 41)) | 1


def _verdict(
    prompt: MotionPrompt | None,
    deviation: float,
    measures: dict[str, float],
    config: ParallaxConfig,
    *,
    mark_decisive: bool,
) -> SignalResult:
    """The verdict both parallax measurements share: was the prompt performed, and did the nose leave the plane.
    `measures` holds the motion's: `yaw_change` and `yaw_away` (`excursions`), `scale_change`, `foreshortening`."""
    dominant = True  # the motion went mostly the prompted way (not the other way, nor both ways: a shake)
    if prompt is MotionPrompt.MOVE_CLOSER:
        moved = right_way = measures["scale_change"] >= config.min_scale_change
        low, high = config.closer_fail_deviation, config.closer_pass_deviation
    else:
        toward, away = measures["yaw_change"], measures["yaw_away"]
        dominant = away <= config.max_yaw_away_share * toward
        right_way = dominant and toward >= config.min_yaw_change
        moved = max(toward, away) >= config.min_yaw_change or measures["foreshortening"] >= config.min_foreshortening
        low, high = config.fail_deviation, config.pass_deviation
    score = ramp(deviation, low, high)
    if not moved:
        return SignalResult("parallax", Verdict.INCONCLUSIVE, score, ("motion_not_performed",), measures)
    if deviation < low:
        if measures.get("untracked_ms", 0.0) > config.sustain_ms:
            # The nose was lost before the turn's end, where a head's nose holds its deviation: a low reading of the
            # part that was followed is no evidence of a plane (session 18: small faces whose nose points were lost
            # mid-turn, at 0.13 to 0.19 and rising).
            return SignalResult("parallax", Verdict.INCONCLUSIVE, score, ("parallax_untracked",), measures)
        return SignalResult("parallax", Verdict.FAIL, score, ("parallax_planar",), measures)
    if not right_way:
        reason = "motion_too_small" if dominant else "motion_wrong_direction"
        return SignalResult("parallax", Verdict.INCONCLUSIVE, score, (reason,), measures)
    if deviation >= high:
        if mark_decisive:
            # A turn's (tracked) parallax separates heads from planes with margin; a move closer's does not.
            measures["decisive"] = float(prompt is not MotionPrompt.MOVE_CLOSER)
        return SignalResult("parallax", Verdict.PASS, score, (), measures)
    return SignalResult("parallax", Verdict.INCONCLUSIVE, score, ("parallax_weak",), measures)
