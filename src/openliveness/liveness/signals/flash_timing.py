"""Flash timing: the face's chromaticity must follow the server's colour schedule, and more than the room's."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..config import FlashConfig
from ..regions import BACKGROUND, SKIN, RegionSeries
from ..types import Challenge
from .base import SignalResult, Verdict, ramp
from .flash_steps import step_agreement
from .schedule_fit import ScheduleFit, fit_schedule, screen_colours

__all__ = ["FlashTiming", "fit_schedule", "flash_timing", "screen_colours"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class FlashTiming:
    """The timing signal and what the shape signal reuses: the schedule offset that fitted best."""

    result: SignalResult
    offset_ms: float


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
    steps = step_agreement(challenge, skin, times, offset, config)
    measures.update(
        steps=float(steps.steps),
        steps_disagreeing=float(steps.steps - steps.agreeing),
        steps_min_cosine=steps.min_cosine,
    )

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
    disagreeing = steps.steps - steps.agreeing
    if response >= config.min_response and r2 >= config.timing_fail_r2 and disagreeing >= config.step_fail_disagreeing:
        # A measurable response in which several steps show another colour: lit by a sequence that is not ours.
        verdict = Verdict.FAIL
        reasons.append("flash_steps_mismatch")
        score = min(score, 0.2)
    elif r2 >= config.timing_pass_r2 and response >= config.min_response:
        if ratio < config.min_face_background_ratio:
            verdict = Verdict.FAIL
            reasons.append("flash_background_responds_like_face")
            score = min(score, 0.2)
        elif disagreeing > 0 or steps.steps < config.min_steps_checked:
            verdict = Verdict.INCONCLUSIVE
            reasons.append("flash_steps_weak")
            score = min(score, 0.5)
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
