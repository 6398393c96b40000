"""Fusion: the signals' verdicts become realface / spoofface / uncertain by one ordered table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from openliveness.domain import LivenessDecision, LivenessOperationMode

from .config import FusionConfig
from .signals.base import SignalResult, Verdict

__all__ = ["Fused", "fuse"]

# Flash shape's reading of no curvature (signals/flash_shape.py), alone or with a lit outline.
_FLAT = "flash_shape_flat"
# Flash shape's reading of paper bent about one axis: curved across, flat along.
_CYLINDER = "flash_shape_cylinder"


@dataclass(frozen=True, slots=True)
class Fused:
    decision: LivenessDecision
    reasons: tuple[str, ...]


def fuse(signals: Mapping[str, SignalResult], mode: LivenessOperationMode, config: FusionConfig) -> Fused:
    """First matching row wins (docs/liveness-engine.md, "Fusion"):

    1. integrity fails -> spoofface (an honest client cannot produce it);
    2. a quality gate trips -> uncertain (the evidence cannot be read), except that flash timing's failure
       still refuses when the only gate is motion (it smears the shape, not the colour's timing);
    3. flash timing, flash shape, flash reflection or (PassiveActive) parallax fails -> spoofface;
    4. any required signal inconclusive -> uncertain (in PassiveActive, flash shape is not required, nor does
       its failure count in row 3, once parallax passed decisively, unless it read no curvature (flat) or a
       sheet bent about one axis: such a reading refuses, or, when flash shape doubts it, makes the capture
       uncertain);
    5. otherwise realface: every required signal passed.
    """
    required = ["flash_timing", "flash_shape", "flash_reflection"]
    # Flash shape alone cannot separate prints from heads across faces. In PassiveActive, once parallax has
    # passed decisively (a turn tracked by texture: prints rarely reach it), shape is advisory: neither its
    # inconclusive verdict nor its failure decides (replays and injections, which do turn, are refused by flash
    # timing and reflection). A shape pass never rescues a parallax failure. No curvature at all (flat) still
    # refuses: a print's tracking can glitch past the pass for the held span, and parallax alone does not overrule
    # a reading of a plane; nor does a sheet bent about one axis, which has a parallax of its own when bent tightly.
    checked = list(required)
    if mode is LivenessOperationMode.PASSIVE_ACTIVE and config.require_parallax_in_passive_active:
        required.append("parallax")
        checked.append("parallax")
        par = signals.get("parallax")
        if (
            config.shape_advisory_after_decisive_parallax
            and par is not None
            and par.verdict is Verdict.PASS
            and par.measures.get("decisive", 0.0) >= 1.0
        ):
            shape = signals.get("flash_shape")
            flat = shape is not None and _FLAT in shape.reasons
            cylinder = shape is not None and _CYLINDER in shape.reasons
            # A reading of a sheet (flat, or bent about one axis) still decides: it refuses, or, when flash shape
            # doubts it (saturated skin, within its noise), leaves the capture uncertain.
            sheet = (flat and config.flat_refuses_after_decisive_parallax) or (
                cylinder and config.cylinder_refuses_after_decisive_parallax
            )
            if not sheet:
                required.remove("flash_shape")
            if not (sheet or config.shape_failure_refuses_after_decisive_parallax):
                checked.remove("flash_shape")

    def reasons_of(names: list[str], verdict: Verdict) -> tuple[str, ...]:
        out: list[str] = []
        for name in names:
            sig = signals.get(name)
            if sig is not None and sig.verdict is verdict:
                out.extend(sig.reasons or (f"{name}_{verdict.value}",))
        return tuple(dict.fromkeys(out))

    integrity = signals.get("integrity")
    if integrity is not None and integrity.verdict is Verdict.FAIL:
        return Fused(LivenessDecision.SPOOF_FACE, reasons_of(["integrity"], Verdict.FAIL))
    quality = signals.get("quality")
    timing = signals.get("flash_timing")
    if (
        quality is not None
        and set(quality.reasons) <= config.motion_gates
        and timing is not None
        and timing.verdict is Verdict.FAIL
    ):
        # Motion smears the regions' light (shape), not the face's colour answering our schedule: a timing
        # failure under motion is still evidence of an attack (a replay of a moving head, a moving injection).
        return Fused(LivenessDecision.SPOOF_FACE, timing.reasons)
    if quality is None or quality.verdict is not Verdict.PASS:
        return Fused(LivenessDecision.UNCERTAIN, quality.reasons if quality else ("no_face",))
    failed = reasons_of(checked, Verdict.FAIL)
    if failed:
        return Fused(LivenessDecision.SPOOF_FACE, failed)
    missing = [name for name in required if name not in signals]
    inconclusive = reasons_of(required, Verdict.INCONCLUSIVE) + tuple(f"{m}_missing" for m in missing)
    if inconclusive:
        return Fused(LivenessDecision.UNCERTAIN, inconclusive)
    return Fused(LivenessDecision.REAL_FACE, ())
