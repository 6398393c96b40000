"""The screen colour each frame saw, and the least-squares fit of the face's chroma to it (flash timing)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..types import Challenge

__all__ = ["ScheduleFit", "fit_schedule", "log_chroma", "reduced_rss", "screen_colours"]

FloatArray = npt.NDArray[np.float64]
_EXPOSURE_SAMPLES = 5
_WHITE = np.ones(3)
_CENTRING = np.eye(3) - 1.0 / 3.0


@dataclass(frozen=True, slots=True)
class ScheduleFit:
    r2: float
    response: FloatArray  # per-channel log gain when the screen lights that channel
    frames: int
    level: FloatArray  # per-channel level of the centred log chroma
    drift: FloatArray  # per-channel drift, per second from `t_mean_ms`
    t_mean_ms: float

    def unexplained(self, observed: FloatArray, times_ms: FloatArray) -> FloatArray:
        """The centred log chroma of `observed` less this fit's level and drift: what the screen must explain
        (NaN rows where a channel is not positive)."""
        tau = (times_ms - self.t_mean_ms) / 1000.0
        return log_chroma(observed) - self.level - tau[:, None] * self.drift


def log_chroma(observed: FloatArray) -> FloatArray:
    """Log RGB centred across channels (removes each frame's exposure gain); NaN rows where a channel is not
    positive or finite."""
    ok = np.all(np.isfinite(observed), axis=1) & np.all(observed > 0, axis=1)
    out = np.full(observed.shape, np.nan)
    logs = np.log(observed[ok])
    out[ok] = logs - logs.mean(axis=1, keepdims=True)
    return out


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


def fit_schedule(
    observed: FloatArray, times_ms: FloatArray, expected: FloatArray, *, rss_reduced: float | None = None
) -> ScheduleFit | None:
    """Fit log chromaticity = per-channel level + per-channel linear drift + response x screen colour.

    Centring the log RGB across channels removes the exposure gain of each frame (auto-exposure); the drift
    term absorbs slow white-balance adaptation. `r2` is the share of the remaining variance that the screen
    schedule explains (partial R^2), which is what a replay for another schedule cannot reach. The reduced
    model's residual does not depend on `expected`: pass `reduced_rss(observed, times_ms)` when fitting the same
    frames to many schedules."""
    chroma = log_chroma(observed)
    ok = np.all(np.isfinite(chroma), axis=1)
    if ok.sum() < 8:
        return None
    centred = chroma[ok]
    t_mean = float(times_ms[ok].mean())
    tau = (times_ms[ok] - t_mean) / 1000.0
    s = expected[ok]
    n = len(tau)
    rows = []
    for c in range(3):
        level = np.zeros((n, 3))
        level[:, c] = 1.0
        drift = np.zeros((n, 3))
        drift[:, c] = tau
        lit = s * _CENTRING[c]  # column c' carries P[c, c'] * S[:, c']
        rows.append(np.hstack([level, drift, lit]))
    design = np.vstack(rows)
    target = centred.T.reshape(-1)
    if rss_reduced is None:
        reduced, *_ = np.linalg.lstsq(design[:, :6], target, rcond=None)
        rss_reduced = float(((target - design[:, :6] @ reduced) ** 2).sum())
    full, *_ = np.linalg.lstsq(design, target, rcond=None)
    rss_full = float(((target - design @ full) ** 2).sum())
    r2 = 0.0 if rss_reduced <= 1e-12 else max(0.0, 1.0 - rss_full / rss_reduced)
    return ScheduleFit(r2=r2, response=full[6:], frames=n, level=full[:3], drift=full[3:6], t_mean_ms=t_mean)


def reduced_rss(observed: FloatArray, times_ms: FloatArray) -> float | None:
    """Residual sum of squares of the level-and-drift model alone (per channel a line in time), which is what
    `fit_schedule` compares the full model with; None where `fit_schedule` would not fit."""
    chroma = log_chroma(observed)
    ok = np.all(np.isfinite(chroma), axis=1)
    if ok.sum() < 8:
        return None
    tau = (times_ms[ok] - times_ms[ok].mean()) / 1000.0
    lines = np.stack([np.ones_like(tau), tau], axis=1)
    coef, *_ = np.linalg.lstsq(lines, chroma[ok], rcond=None)
    return float(((chroma[ok] - lines @ coef) ** 2).sum())
