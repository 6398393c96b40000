"""What every signal returns: a verdict, a score in 0..1 (1 = live), reasons and the measured values."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

__all__ = ["SignalResult", "Verdict", "ramp"]


class Verdict(str, Enum):
    """`inconclusive`: the signal could not be measured well enough to speak either way."""

    PASS = "pass"
    FAIL = "fail"
    INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True, slots=True)
class SignalResult:
    name: str
    verdict: Verdict
    score: float
    reasons: tuple[str, ...] = ()
    measures: dict[str, float] = field(default_factory=dict)


def ramp(value: float, low: float, high: float) -> float:
    """0 at or below `low`, 1 at or above `high`, linear between: scores read the same way for every signal."""
    if high <= low:
        return 1.0 if value >= high else 0.0
    return float(min(1.0, max(0.0, (value - low) / (high - low))))
