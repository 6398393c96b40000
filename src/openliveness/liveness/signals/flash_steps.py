"""Per-step agreement of the face's colour with the server's schedule (part of flash timing).

The timing fit's partial R^2 is one number for the whole flash, and its per-channel gains are free: a stream lit
by *another* sequence that shares most steps with ours (a partial guess, or chance: six colours, and colours
that share a channel, red and yellow, blue and cyan) is explained well enough, and the gains bend to make a
wrong colour look like the right one. A live face lit by 5 of our 7 colours was accepted that way. Each step is
separate evidence: with the gains fitted on the *other* steps (so a wrong step cannot bend them), the face's
chroma during the step, against the white lead-in, must be closest to the step's own colour among the palette's
and within `step_min_cosine` of it. A lit face agrees at every step (cosines 0.99 and up); a sequence that is
not ours disagrees wherever its colour differs, so passing needs every colour right.

A face whose response in one channel is several times another's (warm skin in a warm room) makes some palette
neighbours nearly indistinguishable: magenta's predicted chroma is then within 20 degrees of blue's, and a
genuine magenta step, a little noisy, reads as blue. A step whose chroma is still within
`step_ambiguous_cosine` of its own colour, but nearer another, is therefore left unchecked (ambiguous), not
counted against the face; one far from its own colour disagrees. Passing still needs `min_steps_checked` steps
that agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..challenge import PALETTE, every_channel_changes
from ..config import FlashConfig
from ..types import Challenge
from .schedule_fit import fit_schedule, screen_colours

__all__ = ["StepAgreement", "step_agreement"]

FloatArray = npt.NDArray[np.float64]
_PALETTE = np.array(PALETTE, dtype=np.float64) / 255.0


@dataclass(frozen=True, slots=True)
class StepAgreement:
    steps: int  # steps checked: a frame exposed fully inside them, and not ambiguous
    agreeing: int  # steps whose chroma is closest to their own colour and within the cosine
    min_cosine: float  # lowest cosine to the step's own colour
    ambiguous: int = 0  # steps nearer another colour but still within `step_ambiguous_cosine` of their own
    # The highest cosine to another palette colour of a disagreeing step (NaN when none disagrees): a step that
    # reads another colour as cleanly as lit steps read their own was lit by that colour, not misread.
    other_cosine: float = float("nan")


def step_agreement(
    challenge: Challenge, observed: FloatArray, times_ms: FloatArray, offset_ms: float, config: FlashConfig
) -> StepAgreement:
    """`observed`: the skin's linear RGB per frame (n, 3), NaN where untracked; `times_ms` its frame times.
    A step counts when a frame's exposure lies inside it, half a transition guard from its edges."""
    expected = screen_colours(challenge, times_ms, offset_ms, config.exposure_ms)
    full = fit_schedule(observed, times_ms, expected)
    if full is None:
        return StepAgreement(0, 0, float("nan"))
    guard = config.transition_guard_ms
    start = float(challenge.lead_in_ms)
    steps = agreeing = ambiguous = 0
    cosines: list[float] = []
    other_cosine = float("nan")
    for index, step in enumerate(challenge.steps):
        end = start + step.duration_ms
        t = times_ms - offset_ms
        inside = (t - config.exposure_ms >= start + guard * 0.5) & (t <= end - guard * 0.5)
        # Leave the whole step out of the gains' fit (frames straddling its edges included), when the other
        # steps still light and leave dark every channel (else its gain is not measured without this step).
        near = (t + config.exposure_ms >= start) & (t - config.exposure_ms <= end)
        start = end
        others = [s.color for k, s in enumerate(challenge.steps) if k != index]
        measured = every_channel_changes(others, 1)
        fit = fit_schedule(observed[~near], times_ms[~near], expected[~near]) if measured else full
        if fit is None or not inside.any():
            continue
        residual = fit.unexplained(observed[inside], times_ms[inside])
        residual = residual[np.all(np.isfinite(residual), axis=1)]
        if not len(residual):
            continue
        chroma = residual.mean(axis=0)
        # Light only adds: a negative gain would turn a colour around to match.
        lit = _PALETTE * np.maximum(fit.response, 0.0)
        lit -= lit.mean(axis=1, keepdims=True)
        norms = np.linalg.norm(lit, axis=1) * float(np.linalg.norm(chroma))
        cos = np.where(norms > 0, lit @ chroma / np.where(norms > 0, norms, 1.0), 0.0)
        own = PALETTE.index(step.color)
        cosines.append(float(cos[own]))
        if cos[own] >= config.step_min_cosine and int(np.argmax(cos)) == own:
            agreeing += 1
        elif cos[own] >= config.step_ambiguous_cosine:
            ambiguous += 1
            continue
        else:
            other_cosine = float(np.fmax(other_cosine, np.max(np.delete(cos, own))))
        steps += 1
    return StepAgreement(steps, agreeing, min(cosines) if cosines else float("nan"), ambiguous, other_cosine)
