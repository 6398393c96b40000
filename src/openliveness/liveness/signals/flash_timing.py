"""Flash timing: the face's chromaticity must follow the server's colour schedule, and more than the room's."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..config import FlashConfig
from ..regions import BACKGROUND, SKIN, RegionSeries
from ..types import Challenge
from .base import SignalResult, Verdict, ramp

__all__ = ["FlashTiming", "fit_schedule", "flash_timing", "screen_colours"]

FloatArray = npt.NDArray[np.float64]
_EXPOSURE_SAMPLES = 5
_WHITE = np.ones(3)


@dataclass(frozen=True, slots=True)
class FlashTiming:
    """The timing signal and what the shape signal reuses: the schedule offset that fitted best."""

    result: SignalResult
    offset_ms: float


@dataclass(frozen=True, slots=True)
class ScheduleFit:
    r2: float
    response: FloatArray  # per-channel log gain when the screen lights that channel
    frames: int


def screen_colours(challenge: Challenge, times_ms: FloatArray, offset_ms: float, exposure_ms: float) -> FloatArray:
    """The screen colour (0..1 per channel) each frame saw, averaged over its exposure, if the frames were
    taken `offset_ms` after the schedule's clock. White outside the colour steps (lead-in, motion phase)."""
    colours = np.array([s.color for s in challenge.steps], dtype=np.float64).reshape(-1, 3) / 255.0
    bounds = np.cumsum([challenge.lead_in_ms] + [s.duration_ms for s in challenge.steps]).astype(np.float64)
    out = np.zeros((len(times_ms), 3), dtype=np.float64)
    for k in range(_EXPOSURE_SAMPLES):
        t = times_ms - offset_ms - exposure_ms * k / max(1, _EXPOSURE_SAMPLES - 1)
        step = np.searchsorted(bounds, t, side="right") - 1
        inside = (step >= 0) & (step < len(challenge.steps))
        sample = np.tile(_WHITE, (len(t), 1))
        sample[inside] = colours[step[inside]]
        out += sample
    return out / _EXPOSURE_SAMPLES


def fit_schedule(observed: FloatArray, times_ms: FloatArray, expected: FloatArray) -> ScheduleFit | None:
    """Fit log chromaticity = per-channel level + per-channel linear drift + response x screen colour.

    Centring the log RGB across channels removes the exposure gain of each frame (auto-exposure); the drift
    term absorbs slow white-balance adaptation. `r2` is the share of the remaining variance that the screen
    schedule explains (partial R^2), which is what a replay for another schedule cannot reach."""
    ok = np.all(np.isfinite(observed), axis=1) & np.all(observed > 0, axis=1)
    if ok.sum() < 8:
        return None
    logs = np.log(observed[ok])
    centred = logs - logs.mean(axis=1, keepdims=True)
    tau = (times_ms[ok] - times_ms[ok].mean()) / 1000.0
    s = expected[ok]
    n = len(tau)
    centring = np.eye(3) - 1.0 / 3.0
    rows = []
    for c in range(3):
        level = np.zeros((n, 3))
        level[:, c] = 1.0
        drift = np.zeros((n, 3))
        drift[:, c] = tau
        lit = s * centring[c]  # column c' carries P[c, c'] * S[:, c']
        rows.append(np.hstack([level, drift, lit]))
    design = np.vstack(rows)
    target = centred.T.reshape(-1)
    reduced, *_ = np.linalg.lstsq(design[:, :6], target, rcond=None)
    full, *_ = np.linalg.lstsq(design, target, rcond=None)
    rss_reduced = float(((target - design[:, :6] @ reduced) ** 2).sum())
    rss_full = float(((target - design @ full) ** 2).sum())
    r2 = 0.0 if rss_reduced <= 1e-12 else max(0.0, 1.0 - rss_full / rss_reduced)
    return ScheduleFit(r2=r2, response=full[6:], frames=n)


def flash_timing(challenge: Challenge, series: RegionSeries, config: FlashConfig, *, face_luma: float) -> FlashTiming:
    """Search the bounded offset window for the best fit of the skin's colour to the schedule, then compare
    the face's response with the background's at that offset."""
    window = (series.times_ms >= config.lead_in_settle_ms) & (
        series.times_ms <= challenge.flash_end_ms + config.offset_max_ms + 200.0
    )
    times = series.times_ms[window]
    skin = np.nansum(series.regions(SKIN), axis=1)[window]
    skin[~np.all(np.isfinite(series.regions(SKIN)[window]), axis=(1, 2))] = np.nan
    best: tuple[float, ScheduleFit, float] | None = None
    for offset in np.arange(config.offset_min_ms, config.offset_max_ms + 1e-9, config.offset_step_ms):
        expected = screen_colours(challenge, times, float(offset), config.exposure_ms)
        fit = fit_schedule(skin, times, expected)
        if fit is None:
            continue
        # A fit in which the lit channels get darker is not a reflection of our screen.
        r2 = fit.r2 if float(fit.response.mean()) > 0 else 0.0
        if best is None or r2 > best[2]:
            best = (float(offset), fit, r2)
    if best is None:
        result = SignalResult("flash_timing", Verdict.INCONCLUSIVE, 0.0, ("too_few_frames",))
        return FlashTiming(result, 0.0)
    offset, fit, r2 = best
    response = float(fit.response.mean())
    measures = {"r2": r2, "response": response, "offset_ms": offset, "frames": float(fit.frames)}

    background = series.region(BACKGROUND)[window]
    bg_fit = fit_schedule(background, times, screen_colours(challenge, times, offset, config.exposure_ms))
    ratio = float("inf")
    if bg_fit is not None:
        bg_response = float(bg_fit.response.mean())
        measures["background_response"] = bg_response
        ratio = response / max(bg_response, 0.25 * config.min_response)
        measures["face_background_ratio"] = ratio

    reasons: list[str] = []
    score = ramp(r2, config.timing_fail_r2, config.timing_pass_r2) * ramp(response, 0.0, config.min_response)
    if r2 >= config.timing_pass_r2 and response >= config.min_response:
        if ratio < config.min_face_background_ratio:
            verdict = Verdict.FAIL
            reasons.append("flash_background_responds_like_face")
            score = min(score, 0.2)
        else:
            verdict = Verdict.PASS
    elif r2 < config.timing_fail_r2 or response < 0.5 * config.min_response:
        if face_luma >= config.drowned_luma:
            verdict = Verdict.INCONCLUSIVE
            reasons.append("flash_drowned_by_ambient_light")
        else:
            verdict = Verdict.FAIL
            reasons.append("flash_timing_mismatch" if response >= 0.5 * config.min_response else "flash_no_response")
    else:
        verdict = Verdict.INCONCLUSIVE
        reasons.append("flash_timing_weak")
    return FlashTiming(SignalResult("flash_timing", verdict, score, tuple(reasons), measures), offset)
