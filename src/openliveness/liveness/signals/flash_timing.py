"""Flash timing: the face's chromaticity must follow the server's colour schedule, and more than the room's."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..config import FlashConfig
from ..regions import BACKGROUND, BESIDE, SKIN, RegionSeries
from ..types import Challenge
from .base import SignalResult, Verdict, ramp
from .flash_steps import StepAgreement, step_agreement
from .schedule_fit import ScheduleFit, fit_schedule, reduced_rss, screen_colours

__all__ = ["FlashTiming", "fit_schedule", "flash_timing", "screen_colours"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class FlashTiming:
    """The timing signal and what the shape signal reuses: the schedule offset that fitted best."""

    result: SignalResult
    offset_ms: float


def light_window_end_ms(challenge: Challenge, config: FlashConfig) -> float:
    """The last capture time at which our screen's light can still be seen on the face (the latest display
    latency, plus the camera's exposure and a margin): no signal reads the regions' light beyond it."""
    return challenge.flash_end_ms + config.offset_max_ms + 200.0


def flash_timing(challenge: Challenge, series: RegionSeries, config: FlashConfig) -> FlashTiming:
    """Search the bounded offset window for the best fit of the skin's colour to the schedule, then compare
    the face's response with the background's at that offset."""
    window = (series.times_ms >= config.lead_in_settle_ms) & (series.times_ms <= light_window_end_ms(challenge, config))
    times = series.times_ms[window]
    skin = np.nansum(series.regions(SKIN), axis=1)[window]
    skin[~np.all(np.isfinite(series.regions(SKIN)[window]), axis=(1, 2))] = np.nan
    best: tuple[float, ScheduleFit, float] | None = None
    rss = reduced_rss(skin, times)
    for offset in np.arange(config.offset_min_ms, config.offset_max_ms + 1e-9, config.offset_step_ms):
        expected = screen_colours(challenge, times, float(offset), config.exposure_ms)
        fit = fit_schedule(skin, times, expected, rss_reduced=rss)
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
        steps_ambiguous=float(steps.ambiguous),
    )
    if np.isfinite(steps.other_cosine):
        measures["steps_other_cosine"] = steps.other_cosine

    background = series.region(BACKGROUND)[window]
    bg_fit = fit_schedule(background, times, screen_colours(challenge, times, offset, config.exposure_ms))
    ratio = float("inf")
    if bg_fit is not None:
        bg_response = float(bg_fit.response.mean())
        measures["background_response"] = bg_response
        ratio = response / max(bg_response, 0.25 * config.min_response)
        measures["face_background_ratio"] = ratio

    at_offset = screen_colours(challenge, times, offset, config.exposure_ms)
    beside = _beside_ratio(series, window, times, at_offset, response)
    if beside is not None:
        measures["beside_ratio"] = beside

    reasons: list[str] = []
    score = ramp(r2, config.timing_fail_r2, config.timing_pass_r2) * ramp(response, 0.0, config.min_response)
    disagreeing = steps.steps - steps.agreeing
    measurable = response >= config.min_response and r2 >= config.timing_fail_r2
    if measurable and disagreeing >= config.step_fail_disagreeing:
        # A measurable response in which several steps show another colour: lit by a sequence that is not ours.
        verdict = Verdict.FAIL
        reasons.append("flash_steps_mismatch")
        score = min(score, 0.2)
    elif measurable and beside is not None and beside >= config.max_beside_ratio:
        # Our light reaches both sides of the head as strongly as the face: a sheet or a screen, not a room.
        verdict = Verdict.FAIL
        reasons.append("flash_lit_beside_face")
        score = min(score, 0.2)
    elif r2 >= config.timing_pass_r2 and response >= config.min_response:
        if ratio < config.min_face_background_ratio:
            verdict = Verdict.FAIL
            reasons.append("flash_background_responds_like_face")
            score = min(score, 0.2)
        elif (disagreeing > 0 and not _one_misread(steps, disagreeing, config)) or (
            steps.steps < config.min_steps_checked
        ):
            verdict = Verdict.INCONCLUSIVE
            reasons.append("flash_steps_weak")
            score = min(score, 0.5)
        else:
            verdict = Verdict.PASS
    elif r2 < config.timing_fail_r2 or response < 0.5 * config.min_response:
        # No answer to our schedule, or an answer to another one. A room bright enough to drown a screen at
        # arm's length (direct sunlight) lands here too: outside the supported range, refused, not guessed at.
        verdict = Verdict.FAIL
        reasons.append("flash_timing_mismatch" if response >= 0.5 * config.min_response else "flash_no_response")
    else:
        verdict = Verdict.INCONCLUSIVE
        reasons.append("flash_timing_weak")
    return FlashTiming(SignalResult("flash_timing", verdict, score, tuple(reasons), measures), offset)


def _one_misread(steps: StepAgreement, disagreeing: int, config: FlashConfig) -> bool:
    """A single disagreeing step, still near its own colour, beside enough agreeing ones: a misread, excused, unless
    it reads another colour as cleanly as lit steps read their own (then that colour lit it)."""
    return (
        disagreeing == 1
        and steps.agreeing >= config.steps_agreeing_to_excuse_one
        and steps.min_cosine >= config.step_excused_min_cosine
        and not steps.other_cosine >= config.step_excused_max_other_cosine
    )


def _beside_ratio(
    series: RegionSeries, window: npt.NDArray[np.bool_], times: FloatArray, expected: FloatArray, response: float
) -> float | None:
    """The smaller response, over the face's, of the two regions beside the head at eye level (None when neither
    is in the frame long enough or the face shows no response). A real head has the room behind it there (a wall
    1 to 3 m away: a few to 20 percent of the face's response); a print or a screen with a margin has its own
    surface on both sides, lit like the face. The smaller side, so that one side catching something near does
    not count."""
    if response <= 0:
        return None
    ratios = []
    for name in BESIDE:
        fit = fit_schedule(series.region(name)[window], times, expected)
        if fit is not None:
            ratios.append(float(fit.response.mean()) / response)
    return min(ratios) if ratios else None
