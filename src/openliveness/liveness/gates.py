"""Quality gates: captures that cannot carry enough evidence either way are `uncertain`, with the reason."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .config import QualityGateConfig
from .regions import RegionSeries
from .signals.base import SignalResult, Verdict
from .tracking import FaceTrack
from .types import CaptureFrame, Challenge

__all__ = ["quality_gates", "white_luma"]


def white_luma(challenge: Challenge, series: RegionSeries) -> float:
    """Median skin luma under the white lead-in (NaN when the face was never tracked there)."""
    lead = (series.times_ms < challenge.lead_in_ms) & np.isfinite(series.luma)
    values = series.luma[lead] if lead.any() else series.luma[np.isfinite(series.luma)]
    return float(np.median(values)) if values.size else float("nan")


def quality_gates(
    challenge: Challenge,
    frames: Sequence[CaptureFrame],
    track: FaceTrack,
    series: RegionSeries,
    config: QualityGateConfig,
) -> SignalResult:
    reasons: list[str] = []
    times = np.array([f.timestamp_ms for f in frames], dtype=np.float64)
    n = len(frames)
    flash = (times >= challenge.flash_start_ms) & (times < challenge.flash_end_ms)
    per_step = [int(np.sum([challenge.step_at(t) == s for t in times])) for s in range(len(challenge.steps))]
    if (
        n < config.min_frames
        or flash.sum() < config.min_flash_frames
        or min(per_step, default=0) < (config.min_frames_per_step)
    ):
        reasons.append("too_few_frames")
    measures: dict[str, float] = {"frames": float(n), "flash_frames": float(flash.sum())}

    keyframes = track.keyframes
    detected = track.detected
    share = len(detected) / len(keyframes) if keyframes else 0.0
    measures["detected_share"] = share
    if not detected:
        return SignalResult("quality", Verdict.INCONCLUSIVE, 0.0, (*reasons, "no_face"), measures)
    if share < config.min_detected_keyframes:
        reasons.append("no_face")
    if sum(k.face_count > 1 for k in keyframes) >= 2:
        reasons.append("multiple_faces")

    iod = np.array([float(np.hypot(*np.subtract(*k.face.landmarks.as_array()[[1, 0]]))) for k in detected if k.face])
    measures["interocular_px"] = float(np.median(iod))
    if np.median(iod) < config.min_interocular_px:
        reasons.append("face_too_small")

    luma = white_luma(challenge, series)
    measures["luma"] = luma
    if np.isfinite(luma):
        if luma < config.too_dark_luma:
            reasons.append("too_dark")
        elif luma > config.too_bright_luma:
            reasons.append("too_bright")
    clipped = series.clipped_share
    if clipped is not None:
        measures["clipped"] = clipped
        if clipped > config.max_clipped_fraction:
            reasons.append("clipped")

    # Motion during the flash smears the per-region light over different parts of the face.
    in_flash = [k for k in detected if k.face and frames[k.index].timestamp_ms < challenge.flash_end_ms]
    if len(in_flash) >= 2:
        centres = np.array([k.face.landmarks.as_array()[:2].mean(axis=0) for k in in_flash if k.face])
        spread = float(np.hypot(*(centres.max(axis=0) - centres.min(axis=0))) / np.median(iod))
        measures["flash_motion"] = spread
        if spread > config.max_flash_motion:
            reasons.append("too_much_motion")
    if reasons:
        return SignalResult("quality", Verdict.INCONCLUSIVE, 0.0, tuple(dict.fromkeys(reasons)), measures)
    return SignalResult("quality", Verdict.PASS, 1.0, (), measures)
