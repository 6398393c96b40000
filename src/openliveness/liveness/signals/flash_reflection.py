"""Flash reflection: is our screen's light reflected by a diffuse surface (skin, paper) or added by glass?

Light that a diffuse surface reflects is the surface's albedo times the irradiance, so our screen's contribution
is MULTIPLICATIVE with the local albedo: dark brows, eyes, lips and hair gain less, in absolute terms, than bright
skin, while the share of the light that comes from the screen varies only smoothly (with the geometry). A replay
device shows its content by emitting it; what it does with our light is mostly a reflection on its glass (a broad
glare plus a little diffusion), which is ADDITIVE: the same absolute change over dark and bright displayed
content, so its share is largest where the content is dark.

Per colour step and per channel the step leaves dark, `D(p) = white(p) - exposure * step(p)` is our screen's
contribution at each point `p` of a face-aligned grid, `W(p)` the white-lit light. After removing their smooth
parts (a Gaussian blur over about a fifth of the eye distance), the diffuse model predicts
`D - blur(D) = blur(D) * (W / blur(W) - 1)` (the albedo's texture carried into the response), the additive one
`D - blur(D) = 0`. The statistic is the least-squares slope `b` of the first on the second, pooled over steps and
channels: about 1 for skin or paper, about 0 for glare. What the replay's own content does in between (its
recording answering another schedule) is multiplicative too, but happens at times our schedule does not explain:
the share of channel `c` that our screen removes must be the same at every step that leaves `c` dark; its
spread over those steps (`unexplained`) is reported beside the slope.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import cv2
import numpy as np
import numpy.typing as npt

from ..config import FlashConfig
from ..regions import CANONICAL_LANDMARKS, similarity
from ..types import CaptureFrame, Challenge
from .base import SignalResult, Verdict, ramp
from .flash_timing import light_window_end_ms

__all__ = ["FaceGrid", "face_grid", "flash_reflection", "grid_frames", "reflection_slope"]

FloatArray = npt.NDArray[np.float64]

# The face-aligned grid, in inter-ocular distances from the eyes' midpoint: brows, eyes, nose, mouth and cheeks,
# where albedo texture is (dark brows, eyes and lips against bright skin).
_X0, _X1 = -1.0, 1.0
_Y0, _Y1 = -0.75, 1.45
_STEP = 0.05
_OVERSAMPLE = 2
_LINEAR_LUT = ((np.arange(256, dtype=np.float32) / 255.0) ** 2.2).astype(np.float32)


class FaceGrid:
    """`values[i]`: the frame's linear RGB on the face-aligned grid, ``(h, w, 3)``, NaN off the frame or where
    the face was not tracked (then the whole frame is NaN)."""

    def __init__(self, values: npt.NDArray[np.float32]) -> None:
        self.values = values


def _grid_shape() -> tuple[int, int]:
    w = round((_X1 - _X0) / _STEP)
    h = round((_Y1 - _Y0) / _STEP)
    return h, w


def _inner_face() -> npt.NDArray[np.bool_]:
    """The grid's pixels inside an ellipse on the face (0.85 eye distances to each side, from 0.65 above the eyes to
    1.35 below), off the temples, jaw and hair. Where the grid reaches past the face, the room behind it takes
    little of our light however bright it is in the white-lit frame, so the face's edge reads as texture that the
    response does not carry: against a bright room it pulled genuine heads' slope down to 0.1 (additive)."""
    h, w = _grid_shape()
    x = _X0 + _STEP * (np.arange(w) + 0.5)
    y = _Y0 + _STEP * (np.arange(h) + 0.5)
    return np.asarray((x[None, :] / 0.85) ** 2 + (y[:, None] - 0.35) ** 2 <= 1.0)


_INNER_FACE = _inner_face()


def face_grid(frames: tuple[CaptureFrame, ...], landmarks: FloatArray, wanted: npt.NDArray[np.bool_]) -> FaceGrid:
    """Resample the `wanted` frames' faces onto the canonical grid (2x oversampled, then box-averaged)."""
    h, w = _grid_shape()
    fine = _STEP / _OVERSAMPLE
    out = np.full((len(frames), h, w, 3), np.nan, dtype=np.float32)
    uu, vv = np.meshgrid([0.0, w * _OVERSAMPLE - 1.0], [0.0, h * _OVERSAMPLE - 1.0])
    corners = np.stack([_X0 + fine * (uu.ravel() + 0.5), _Y0 + fine * (vv.ravel() + 0.5)], axis=1)
    for i in np.flatnonzero(wanted):
        pts = landmarks[i]
        if not np.all(np.isfinite(pts)):
            continue
        image = frames[i].image
        a = similarity(CANONICAL_LANDMARKS, pts)
        # Grid pixel (u, v) -> canonical (x0 + fine (u + .5), y0 + fine (v + .5)) -> image a @ [x, y, 1].
        m = np.empty((2, 3), dtype=np.float64)
        m[:, :2] = a[:, :2] * fine
        m[:, 2] = a[:, :2] @ np.array([_X0 + 0.5 * fine, _Y0 + 0.5 * fine]) + a[:, 2]
        src = corners @ a[:, :2].T + a[:, 2]
        ih, iw = image.shape[:2]
        if src[:, 0].min() < 0 or src[:, 1].min() < 0 or src[:, 0].max() > iw - 1 or src[:, 1].max() > ih - 1:
            # Part of the grid is off the frame: mark it by warping with an impossible border value.
            warped = cv2.warpAffine(
                image,
                m,
                (w * _OVERSAMPLE, h * _OVERSAMPLE),
                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=(0, 0, 0),
            )
            inside = cv2.warpAffine(
                np.full(image.shape[:2], 255, dtype=np.uint8),
                m,
                (w * _OVERSAMPLE, h * _OVERSAMPLE),
                flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP,
                borderMode=cv2.BORDER_CONSTANT,
                borderValue=0,
            )
            linear = cv2.LUT(warped, _LINEAR_LUT)
            linear[inside == 0] = np.nan
        else:
            warped = cv2.warpAffine(
                image, m, (w * _OVERSAMPLE, h * _OVERSAMPLE), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
            )
            linear = cv2.LUT(warped, _LINEAR_LUT)
        # Box average of each oversampled block (INTER_AREA at an integer factor; a NaN spreads to its block, as
        # a mean would). OpenCV's lookup and resize release the GIL: the grid is resampled beside the regions.
        out[i] = cv2.resize(linear, (w, h), interpolation=cv2.INTER_AREA)
    return FaceGrid(out)


def _blur(values: npt.NDArray[np.float64], mask: npt.NDArray[np.bool_], sigma: float) -> npt.NDArray[np.float64]:
    """Gaussian blur that ignores masked-out pixels (normalised convolution)."""
    v = np.where(mask, values, 0.0).astype(np.float32)
    m = mask.astype(np.float32)
    bv = cv2.GaussianBlur(v, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    bm = cv2.GaussianBlur(m, (0, 0), sigma, borderType=cv2.BORDER_REPLICATE)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(bv / bm, dtype=np.float64)


def reflection_slope(
    white: npt.NDArray[np.float64], responses: list[npt.NDArray[np.float64]], sigma: float
) -> tuple[float, float]:
    """Pooled slope of the response's texture on the texture the diffuse model predicts, and the texture's
    energy (its denominator, in units of the response's mean squared level: how well the slope is measured).

    `white`: one channel's white-lit light on the grid; `responses`: that channel's screen contributions `D`,
    one per step that leaves it dark. NaN pixels are ignored."""
    mask = np.isfinite(white) & (white > 0)
    for d in responses:
        mask &= np.isfinite(d)
    # The grid's edge is where the blur is least reliable; keep the interior.
    mask = cv2.erode(mask.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    if mask.sum() < 50:
        return float("nan"), 0.0
    bw = _blur(white, mask, sigma)
    texture = np.where(mask, white / bw - 1.0, 0.0)
    # Extreme texture (specular highlights, clipped pixels, the frame edge) would dominate a least-squares slope.
    texture = np.clip(texture, -0.8, 0.8)
    num = 0.0
    den = 0.0
    level = 0.0
    for d in responses:
        bd = _blur(d, mask, sigma)
        predicted = bd * texture
        observed = np.where(mask, d - bd, 0.0)
        num += float((observed * predicted)[mask].sum())
        den += float((predicted**2)[mask].sum())
        level += float((bd**2)[mask].sum())
    if den <= 0 or level <= 0:
        return float("nan"), 0.0
    return num / den, den / level


def grid_frames(challenge: Challenge, frames: tuple[CaptureFrame, ...], config: FlashConfig) -> npt.NDArray[np.bool_]:
    """The frames `flash_reflection` may read at any offset of the search window: from the settled lead-in to the
    end of the light's window (a grid of these can be resampled before the offset is known)."""
    times = np.array([f.timestamp_ms for f in frames], dtype=np.float64)
    return np.asarray((times >= config.lead_in_settle_ms) & (times <= light_window_end_ms(challenge, config)))


def flash_reflection(
    challenge: Challenge,
    frames: tuple[CaptureFrame, ...],
    landmarks: FloatArray,
    offset_ms: float,
    config: FlashConfig,
    *,
    grid: FaceGrid | None = None,
) -> SignalResult:
    """`grid`: the faces already resampled on (at least) the frames this offset reads, e.g. `grid_frames`'; else
    they are resampled here."""
    times = np.array([f.timestamp_ms for f in frames], dtype=np.float64)
    guard = config.transition_guard_ms
    white_mask = (times >= config.lead_in_settle_ms) & (times + guard <= challenge.lead_in_ms + offset_ms)
    step_masks = []
    start = float(challenge.lead_in_ms)
    for step in challenge.steps:
        end = start + step.duration_ms
        step_masks.append(
            (times - offset_ms - config.exposure_ms >= start + guard * 0.5) & (times - offset_ms <= end - guard * 0.5)
        )
        start = end
    if white_mask.sum() < 2:
        return SignalResult("flash_reflection", Verdict.INCONCLUSIVE, 0.0, ("flash_reflection_unmeasurable",))
    wanted = white_mask.copy()
    for m in step_masks:
        wanted |= m
    faces = (grid if grid is not None else face_grid(frames, landmarks, wanted)).values.astype(np.float64)
    with np.errstate(invalid="ignore"), _quiet():
        white = np.nanmean(faces[white_mask], axis=0)
    sigma = config.reflection_blur / _STEP
    per_channel: dict[int, list[npt.NDArray[np.float64]]] = {0: [], 1: [], 2: []}
    shares: dict[int, list[float]] = {0: [], 1: [], 2: []}
    for step, m in zip(challenge.steps, step_masks, strict=True):
        if m.sum() < 1:
            continue
        on = [c for c in range(3) if step.color[c] >= 128]
        off = [c for c in range(3) if step.color[c] < 128]
        if not on or not off:
            continue
        with _quiet():
            lit = np.nanmean(faces[m], axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.log(white[..., on]) - np.log(lit[..., on])
        ratio = ratio[np.isfinite(ratio)]
        if ratio.size < 50:
            continue
        exposure = float(np.exp(np.median(ratio)))
        for c in off:
            d = white[..., c] - exposure * lit[..., c]
            per_channel[c].append(d)
            ok = np.isfinite(d) & np.isfinite(white[..., c]) & (white[..., c] > 0)
            if ok.sum() >= 50:
                shares[c].append(float(d[ok].sum() / white[..., c][ok].sum()))
    num = den = level_sum = 0.0
    energy = 0.0
    face_white = np.where(_INNER_FACE[..., None], white, np.nan)
    for c, responses in per_channel.items():
        if not responses:
            continue
        slope, texture_energy = reflection_slope(face_white[..., c], responses, sigma)
        if not np.isfinite(slope):
            continue
        weight = texture_energy * len(responses)
        num += slope * weight
        den += weight
        energy += texture_energy * len(responses)
        level_sum += len(responses)
    share_all = [s for v in shares.values() for s in v]
    spreads = [float(np.std(v)) for v in shares.values() if len(v) >= 2]
    mean_share = float(np.mean(share_all)) if share_all else 0.0
    measures: dict[str, float] = {"samples": float(level_sum), "share": mean_share}
    if spreads and mean_share > 0:
        measures["unexplained"] = float(np.mean(spreads)) / mean_share
    if den <= 0 or level_sum < 3:
        return SignalResult("flash_reflection", Verdict.INCONCLUSIVE, 0.0, ("flash_reflection_unmeasurable",), measures)
    slope = num / den
    measures["slope"] = slope
    measures["texture"] = energy / level_sum
    if mean_share < config.reflection_min_share:
        return SignalResult("flash_reflection", Verdict.INCONCLUSIVE, 0.0, ("flash_reflection_unmeasurable",), measures)
    unexplained = measures.get("unexplained", float("inf"))
    score = min(
        ramp(slope, config.reflection_fail, config.reflection_pass),
        1.0 - ramp(unexplained, config.reflection_unexplained_pass, config.reflection_unexplained_fail),
    )
    reasons: list[str] = []
    if slope < config.reflection_fail:
        reasons.append("flash_reflection_additive")
    if unexplained >= config.reflection_unexplained_fail and "unexplained" in measures:
        reasons.append("flash_reflection_unexplained")
    if reasons:
        return SignalResult("flash_reflection", Verdict.FAIL, score, tuple(reasons), measures)
    if slope >= config.reflection_pass and unexplained < config.reflection_unexplained_pass:
        return SignalResult("flash_reflection", Verdict.PASS, score, (), measures)
    return SignalResult("flash_reflection", Verdict.INCONCLUSIVE, score, ("flash_reflection_weak",), measures)


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence numpy's 'mean of empty slice' (all-NaN grid pixels are expected off the frame)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)
        yield
