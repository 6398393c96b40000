"""Error rates: ISO/IEC 30107-3 presentation attack detection figures and verification TAR/FAR/EER, with Wilson
95 % intervals and the sample counts each figure rests on."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "ATTACK_SPECIES",
    "BONA_FIDE",
    "DEFAULT_APCER_POINTS",
    "DEFAULT_FAR_POINTS",
    "Outcome",
    "PadMetrics",
    "Rate",
    "VerifyMetrics",
    "bpcer_at_apcer",
    "equal_error_rate",
    "far_frr",
    "pad_metrics",
    "roc_curve",
    "tar_at_far",
    "verify_metrics",
    "wilson_interval",
]

BONA_FIDE = "bona_fide"
#: Attack presentation species a bundle's label may name (ISO/IEC 30107-3 "PAI species", coarsely).
ATTACK_SPECIES: tuple[str, ...] = ("print", "replay", "mask", "injection", "other")
DEFAULT_APCER_POINTS: tuple[float, ...] = (0.01, 0.05, 0.10)
DEFAULT_FAR_POINTS: tuple[float, ...] = (0.01, 0.001)
_ACCEPT = "realface"
_UNCERTAIN = "uncertain"


def wilson_interval(errors: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a proportion (95 % for z = 1.96); (0, 1) when there are no samples. Unlike the
    normal approximation it stays inside 0..1 and is not zero-width at 0 errors: 0/30 gives 0 to 11.4 %."""
    if total <= 0:
        return 0.0, 1.0
    p = errors / total
    denom = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denom
    half = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True, slots=True)
class Rate:
    """`errors` out of `total` samples; `value` is None when there are no samples (undefined, not 0)."""

    errors: int
    total: int

    @property
    def value(self) -> float | None:
        return self.errors / self.total if self.total else None

    @property
    def interval(self) -> tuple[float, float]:
        return wilson_interval(self.errors, self.total)

    def to_json(self) -> dict[str, Any]:
        low, high = self.interval
        return {"value": self.value, "errors": self.errors, "total": self.total, "ci95_low": low, "ci95_high": high}


@dataclass(frozen=True, slots=True)
class Outcome:
    """One presentation: its label (`bona_fide` or an attack species), the engine's decision (`realface`,
    `spoofface` or `uncertain`) and a scalar score (higher = more live), None when the engine gave none."""

    label: str
    decision: str
    score: float | None = None


@dataclass(frozen=True, slots=True)
class PadMetrics:
    """ISO/IEC 30107-3 figures of a dataset.

    APCER (per species): share of attack presentations accepted (`realface`). BPCER: share of bona fide
    presentations not accepted (`spoofface` or `uncertain`: a user who must retry was not accepted).
    ACER = (max APCER + BPCER) / 2 (defined in the 2017 edition, dropped in 2023: report it beside, never
    instead of, the two rates)."""

    apcer: dict[str, Rate]
    bpcer: Rate
    uncertain: Rate
    uncertain_by_label: dict[str, Rate]
    correct: Rate  # `errors` counts the *correct* decisions here
    bpcer_at_apcer: dict[float, tuple[float | None, float | None]] = field(default_factory=dict)

    @property
    def max_apcer(self) -> tuple[str, Rate] | None:
        """The species with the highest APCER (over species with samples), or None without attacks."""
        present = [(s, r) for s, r in self.apcer.items() if r.total]
        if not present:
            return None
        return max(present, key=lambda item: (item[1].value or 0.0, item[1].total))

    @property
    def acer(self) -> float | None:
        worst = self.max_apcer
        if worst is None or self.bpcer.value is None:
            return None
        return ((worst[1].value or 0.0) + self.bpcer.value) / 2

    @property
    def false_accepts(self) -> int:
        return sum(r.errors for r in self.apcer.values())

    @property
    def attacks(self) -> int:
        return sum(r.total for r in self.apcer.values())

    def to_json(self) -> dict[str, Any]:
        worst = self.max_apcer
        return {
            "presentations": self.correct.total,
            "bona_fide": self.bpcer.total,
            "attacks": self.attacks,
            "apcer": {s: r.to_json() for s, r in self.apcer.items()},
            "apcer_max": None if worst is None else worst[1].value,
            "apcer_max_species": None if worst is None else worst[0],
            "bpcer": self.bpcer.to_json(),
            "acer": self.acer,
            "accuracy": self.correct.value,
            "correct": self.correct.errors,
            "false_accepts": self.false_accepts,
            "false_rejects": self.bpcer.errors,
            "uncertain_share": self.uncertain.value,
            "uncertain": self.uncertain.to_json(),
            "uncertain_by_label": {s: r.to_json() for s, r in self.uncertain_by_label.items()},
            "bpcer_at_apcer": [
                {"apcer": p, "bpcer": b, "threshold": t} for p, (b, t) in sorted(self.bpcer_at_apcer.items())
            ],
        }


def pad_metrics(outcomes: Iterable[Outcome], *, apcer_points: Sequence[float] = DEFAULT_APCER_POINTS) -> PadMetrics:
    """Decision-based figures from the engine's decisions, and BPCER at fixed APCER points from the scores."""
    items = list(outcomes)
    for o in items:
        if o.label != BONA_FIDE and o.label not in ATTACK_SPECIES:
            raise ValueError(f"unknown label {o.label!r}; expected {BONA_FIDE} or one of {ATTACK_SPECIES}")
    bona = [o for o in items if o.label == BONA_FIDE]
    apcer = {
        s: Rate(sum(o.decision == _ACCEPT for o in group), len(group))
        for s in ATTACK_SPECIES
        if (group := [o for o in items if o.label == s])
    }
    labels = [BONA_FIDE, *apcer]
    uncertain_by_label = {
        lab: Rate(sum(o.decision == _UNCERTAIN for o in group), len(group))
        for lab in labels
        if (group := [o for o in items if o.label == lab])
    }
    correct = sum((o.decision == _ACCEPT) == (o.label == BONA_FIDE) for o in items)
    return PadMetrics(
        apcer=apcer,
        bpcer=Rate(sum(o.decision != _ACCEPT for o in bona), len(bona)),
        uncertain=Rate(sum(o.decision == _UNCERTAIN for o in items), len(items)),
        uncertain_by_label=uncertain_by_label,
        correct=Rate(correct, len(items)),
        bpcer_at_apcer=bpcer_at_apcer(items, apcer_points),
    )


def _scores(values: Iterable[float | None]) -> NDArray[np.float64]:
    # A presentation the engine gave no score is as un-live as can be (it is never accepted on a threshold).
    return np.array([-math.inf if v is None else v for v in values], dtype=np.float64)


def bpcer_at_apcer(
    outcomes: Sequence[Outcome], points: Sequence[float] = DEFAULT_APCER_POINTS
) -> dict[float, tuple[float | None, float | None]]:
    """For each APCER point p: the lowest BPCER over score thresholds t (accept when score >= t) at which the
    APCER of *every* species is at most p, and that threshold. (None, None) without bona fide or attacks.
    With n attacks of a species, APCER moves in steps of 1/n: points below that can only be met at 0 accepts."""
    bona = _scores(o.score for o in outcomes if o.label == BONA_FIDE)
    species = {s: _scores(o.score for o in outcomes if o.label == s) for s in ATTACK_SPECIES}
    species = {s: v for s, v in species.items() if v.size}
    if not bona.size or not species:
        return {p: (None, None) for p in points}
    finite = np.concatenate([bona, *species.values()])
    candidates = np.unique(np.concatenate([finite[np.isfinite(finite)], [math.inf]]))
    result: dict[float, tuple[float | None, float | None]] = {}
    for p in points:
        best: tuple[float | None, float | None] = (None, None)
        for t in candidates:  # ascending: the first threshold that meets p has the lowest BPCER
            if max(float(np.mean(v >= t)) for v in species.values()) <= p:
                best = (float(np.mean(bona < t)), float(t))
                break
        result[p] = best
    return result


# --- verification: scores where higher means "more likely the same person" -----------------------------------


def far_frr(genuine: NDArray[np.float64], impostor: NDArray[np.float64], threshold: float) -> tuple[float, float]:
    """FAR and FRR when a pair is accepted at score >= threshold."""
    return float(np.mean(impostor >= threshold)), float(np.mean(genuine < threshold))


def tar_at_far(genuine: NDArray[np.float64], impostor: NDArray[np.float64], target: float) -> tuple[float, float]:
    """Highest TAR whose FAR does not exceed `target`, and the threshold that gives it."""
    best = (0.0, 1.0 + 1e-9)
    top = max(1.0, float(np.max(np.concatenate([genuine, impostor]))) if genuine.size + impostor.size else 1.0)
    for t in np.unique(np.concatenate([genuine, impostor, [top + 1e-9]])):
        far, frr = far_frr(genuine, impostor, float(t))
        if far <= target and 1 - frr > best[0]:
            best = (1 - frr, float(t))
    return best


def equal_error_rate(genuine: NDArray[np.float64], impostor: NDArray[np.float64]) -> tuple[float, float]:
    """EER (mean of FAR and FRR where they are closest) and its threshold. Pass negated distances rather than
    confidences where confidences saturate at 0 and 1 in double precision."""
    best = (2.0, 0.0, 0.0)
    for t in np.unique(np.concatenate([genuine, impostor])):
        far, frr = far_frr(genuine, impostor, float(t))
        if abs(far - frr) < best[0]:
            best = (abs(far - frr), (far + frr) / 2, float(t))
    return best[1], best[2]


def roc_curve(
    genuine: NDArray[np.float64], impostor: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """FAR, TAR and threshold at every distinct score (descending thresholds: FAR rises from 0)."""
    thresholds = np.unique(np.concatenate([genuine, impostor, [math.inf]]))[::-1]
    far = np.array([np.mean(impostor >= t) for t in thresholds], dtype=np.float64)
    tar = np.array([np.mean(genuine >= t) for t in thresholds], dtype=np.float64)
    return far, tar, thresholds


@dataclass(frozen=True, slots=True)
class VerifyMetrics:
    """Verification figures of scored pairs at `threshold` (accept when score >= threshold)."""

    threshold: float
    false_accepts: Rate
    false_rejects: Rate
    correct: Rate  # `errors` counts the *correct* decisions here
    tar_at_far: dict[float, tuple[float, float]]
    eer: float | None
    eer_threshold: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "pairs": self.correct.total,
            "genuine_pairs": self.false_rejects.total,
            "impostor_pairs": self.false_accepts.total,
            "threshold": self.threshold,
            "accuracy": self.correct.value,
            "correct": self.correct.errors,
            "false_accepts": self.false_accepts.errors,
            "far": self.false_accepts.to_json(),
            "false_rejects": self.false_rejects.errors,
            "frr": self.false_rejects.to_json(),
            "tar_at_far": [{"far": p, "tar": tar, "threshold": t} for p, (tar, t) in sorted(self.tar_at_far.items())],
            "eer": self.eer,
            "eer_threshold": self.eer_threshold,
        }


def verify_metrics(
    genuine: NDArray[np.float64],
    impostor: NDArray[np.float64],
    threshold: float,
    *,
    far_points: Sequence[float] = DEFAULT_FAR_POINTS,
    eer_scores: tuple[NDArray[np.float64], NDArray[np.float64]] | None = None,
) -> VerifyMetrics:
    """`eer_scores` (genuine, impostor) computes the EER on other scores of the same pairs (negated distances)."""
    fa = int(np.sum(impostor >= threshold))
    fr = int(np.sum(genuine < threshold))
    eg, ei = eer_scores if eer_scores is not None else (genuine, impostor)
    eer: tuple[float | None, float | None] = equal_error_rate(eg, ei) if eg.size and ei.size else (None, None)
    return VerifyMetrics(
        threshold=threshold,
        false_accepts=Rate(fa, int(impostor.size)),
        false_rejects=Rate(fr, int(genuine.size)),
        correct=Rate(int(genuine.size) - fr + int(impostor.size) - fa, int(genuine.size + impostor.size)),
        tar_at_far={p: tar_at_far(genuine, impostor, p) for p in far_points} if genuine.size and impostor.size else {},
        eer=eer[0],
        eer_threshold=eer[1],
    )
