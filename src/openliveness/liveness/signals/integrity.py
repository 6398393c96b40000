"""Capture integrity: what an honest client always satisfies (clock, claimed steps, distinct frames)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from ..config import FlashConfig, IntegrityConfig
from ..types import CaptureFrame, Challenge
from .base import SignalResult, Verdict

__all__ = ["integrity"]


def integrity(
    challenge: Challenge, frames: Sequence[CaptureFrame], config: IntegrityConfig, flash: FlashConfig
) -> SignalResult:
    reasons: list[str] = []
    times = np.array([f.timestamp_ms for f in frames], dtype=np.float64)
    measures: dict[str, float] = {"frames": float(len(frames))}
    if len(frames) == 0:
        return SignalResult("integrity", Verdict.INCONCLUSIVE, 0.0, ("too_few_frames",), measures)
    if not np.all(np.isfinite(times)):
        reasons.append("timestamps_out_of_range")
    else:
        if np.any(np.diff(times) <= 0):
            reasons.append("timestamps_not_monotonic")
        if times.min() < -config.negative_slack_ms or times.max() > challenge.total_ms + config.timestamp_slack_ms:
            reasons.append("timestamps_out_of_range")
        mismatch = _step_mismatch(challenge, frames, flash)
        measures["step_mismatch"] = mismatch
        if mismatch > config.max_step_mismatch:
            reasons.append("claimed_steps_inconsistent")
    duplicates = _duplicate_fraction(frames)
    measures["duplicate_fraction"] = duplicates
    if duplicates > config.max_duplicate_fraction:
        reasons.append("duplicated_frames")
    if reasons:
        return SignalResult("integrity", Verdict.FAIL, 0.0, tuple(dict.fromkeys(reasons)), measures)
    return SignalResult("integrity", Verdict.PASS, 1.0, (), measures)


def _step_mismatch(challenge: Challenge, frames: Sequence[CaptureFrame], flash: FlashConfig) -> float:
    """Share of frames whose claimed step the server's schedule never showed within the allowed latency."""
    offsets = np.arange(flash.offset_min_ms, flash.offset_max_ms + 1e-9, flash.offset_step_ms)
    wrong = 0
    for frame in frames:
        allowed = {challenge.step_at(frame.timestamp_ms - float(o)) for o in offsets}
        if frame.step_index not in allowed:
            wrong += 1
    return wrong / len(frames)


def _duplicate_fraction(frames: Sequence[CaptureFrame]) -> float:
    """Share of frames whose pixels repeat an earlier frame: a camera's noise never repeats, a loop does."""
    seen: set[bytes] = set()
    repeats = 0
    for frame in frames:
        # One pixel in 64 is enough to tell camera frames apart (their noise is in every pixel) at a fraction of
        # the cost of copying out a denser strided sample.
        digest = hashlib.blake2b(np.ascontiguousarray(frame.image[::8, ::8]).tobytes(), digest_size=16).digest()
        if digest in seen:
            repeats += 1
        seen.add(digest)
    return repeats / len(frames)
