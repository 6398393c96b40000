"""The fusion table: each row, and that the first matching row wins."""

from __future__ import annotations

import pytest

from openliveness.domain import LivenessDecision, LivenessOperationMode
from openliveness.liveness.config import FusionConfig
from openliveness.liveness.fusion import fuse
from openliveness.liveness.signals import SignalResult, Verdict

P, F, I = Verdict.PASS, Verdict.FAIL, Verdict.INCONCLUSIVE  # noqa: E741 (the table reads better)
PASSIVE, ACTIVE = LivenessOperationMode.PASSIVE, LivenessOperationMode.PASSIVE_ACTIVE


def _signals(**verdicts: Verdict | None) -> dict[str, SignalResult]:
    # Flash reflection passes unless a row says otherwise (`flash_reflection=None`: missing).
    verdicts = {"flash_reflection": P, **verdicts}
    return {
        name: SignalResult(name, v, 1.0 if v is P else 0.0, () if v is P else (f"{name}_reason",))
        for name, v in verdicts.items()
        if v is not None
    }


@pytest.mark.parametrize(
    ("mode", "verdicts", "decision", "reason"),
    [
        (PASSIVE, {"integrity": P, "quality": P, "flash_timing": P, "flash_shape": P}, "realface", None),
        (PASSIVE, {"integrity": F, "quality": I, "flash_timing": P, "flash_shape": P}, "spoofface", "integrity_reason"),
        (PASSIVE, {"integrity": P, "quality": I, "flash_timing": F, "flash_shape": F}, "uncertain", "quality_reason"),
        (
            PASSIVE,
            {"integrity": P, "quality": P, "flash_timing": F, "flash_shape": P},
            "spoofface",
            "flash_timing_reason",
        ),
        (
            PASSIVE,
            {"integrity": P, "quality": P, "flash_timing": P, "flash_shape": F},
            "spoofface",
            "flash_shape_reason",
        ),
        (
            PASSIVE,
            {"integrity": P, "quality": P, "flash_timing": I, "flash_shape": F},
            "spoofface",
            "flash_shape_reason",
        ),
        (
            PASSIVE,
            {"integrity": P, "quality": P, "flash_timing": I, "flash_shape": P},
            "uncertain",
            "flash_timing_reason",
        ),
        # Passive ignores parallax; PassiveActive requires it.
        (PASSIVE, {"integrity": P, "quality": P, "flash_timing": P, "flash_shape": P, "parallax": F}, "realface", None),
        (
            ACTIVE,
            {"integrity": P, "quality": P, "flash_timing": P, "flash_shape": P, "parallax": F},
            "spoofface",
            "parallax_reason",
        ),
        (
            ACTIVE,
            {"integrity": P, "quality": P, "flash_timing": P, "flash_shape": P, "parallax": I},
            "uncertain",
            "parallax_reason",
        ),
        (ACTIVE, {"integrity": P, "quality": P, "flash_timing": P, "flash_shape": P}, "uncertain", "parallax_missing"),
        (ACTIVE, {"integrity": P, "quality": P, "flash_timing": P, "flash_shape": P, "parallax": P}, "realface", None),
        # Flash reflection is required in both modes: replay evidence is spoofface, a weak measure uncertain.
        (
            PASSIVE,
            {"integrity": P, "quality": P, "flash_timing": P, "flash_shape": P, "flash_reflection": F},
            "spoofface",
            "flash_reflection_reason",
        ),
        (
            ACTIVE,
            {"integrity": P, "quality": P, "flash_timing": P, "flash_shape": P, "flash_reflection": I, "parallax": P},
            "uncertain",
            "flash_reflection_reason",
        ),
        (
            PASSIVE,
            {"integrity": P, "quality": P, "flash_timing": P, "flash_shape": P, "flash_reflection": None},
            "uncertain",
            "flash_reflection_missing",
        ),
    ],
)
def test_fusion_table(
    mode: LivenessOperationMode, verdicts: dict[str, Verdict | None], decision: str, reason: str | None
) -> None:
    fused = fuse(_signals(**verdicts), mode, FusionConfig())
    assert fused.decision is LivenessDecision(decision)
    if reason is None:
        assert fused.reasons == ()
    else:
        assert reason in fused.reasons


def test_missing_quality_is_never_realface() -> None:
    fused = fuse(_signals(integrity=P, flash_timing=P, flash_shape=P), PASSIVE, FusionConfig())
    assert fused.decision is LivenessDecision.UNCERTAIN


def _with_parallax(shape: Verdict, parallax: Verdict, decisive: float) -> dict[str, SignalResult]:
    signals = _signals(integrity=P, quality=P, flash_timing=P, flash_shape=shape)
    reasons = () if parallax is P else ("parallax_reason",)
    signals["parallax"] = SignalResult("parallax", parallax, 1.0, reasons, {"decisive": decisive})
    return signals


@pytest.mark.parametrize(
    ("shape", "parallax", "decisive", "mode", "decision"),
    [
        # A weak shape does not make a head uncertain once a turn's parallax clearly passed...
        (I, P, 1.0, ACTIVE, "realface"),
        # ...but it does after a move closer (not decisive), and always in Passive.
        (I, P, 0.0, ACTIVE, "uncertain"),
        (I, P, 1.0, PASSIVE, "uncertain"),
        # After a decisive turn a shape failure no longer refuses either; after a move closer it does; a strong
        # shape cannot rescue a parallax failure.
        (F, P, 1.0, ACTIVE, "realface"),
        (F, P, 0.0, ACTIVE, "spoofface"),
        (P, F, 0.0, ACTIVE, "spoofface"),
        (P, I, 0.0, ACTIVE, "uncertain"),
    ],
)
def test_flash_shape_is_advisory_after_decisive_parallax(
    shape: Verdict, parallax: Verdict, decisive: float, mode: LivenessOperationMode, decision: str
) -> None:
    fused = fuse(_with_parallax(shape, parallax, decisive), mode, FusionConfig())
    assert fused.decision is LivenessDecision(decision)


@pytest.mark.parametrize(
    ("shape_reasons", "decision"),
    [
        # A shape that read no curvature refuses even after a decisive turn, with a lit outline or without (a print's
        # tracking can glitch past the pass while turned hard)...
        (("flash_shape_sheet", "flash_shape_flat"), "spoofface"),
        (("flash_shape_flat",), "spoofface"),
        # ...as does a sheet curved across only (paper around a bottle has a parallax of its own)...
        (("flash_shape_cylinder",), "spoofface"),
        # ...a lit outline alone does not: heads that turned are misread on it now and then.
        (("flash_shape_sheet",), "realface"),
    ],
)
def test_sheet_readings_refuse_after_decisive_parallax(shape_reasons: tuple[str, ...], decision: str) -> None:
    signals = _with_parallax(F, P, 1.0)
    signals["flash_shape"] = SignalResult("flash_shape", F, 0.0, shape_reasons)
    assert fuse(signals, ACTIVE, FusionConfig()).decision is LivenessDecision(decision)
    # The rules can be turned off (then any shape failure is advisory after a decisive turn).
    off = FusionConfig(flat_refuses_after_decisive_parallax=False, cylinder_refuses_after_decisive_parallax=False)
    assert fuse(signals, ACTIVE, off).decision is LivenessDecision.REAL_FACE


@pytest.mark.parametrize(
    ("shape_reasons", "decision"),
    [
        # A reading of a sheet that flash shape doubts (saturated skin, or measured to worse than its share) is no
        # evidence of an attack, and no evidence of a head either: uncertain, after a decisive turn as in Passive...
        (("flash_shape_flat", "flash_shape_saturated"), "uncertain"),
        (("flash_shape_cylinder", "flash_shape_noisy"), "uncertain"),
        (("flash_shape_cylinder", "flash_shape_occluded"), "uncertain"),
        # So is a share along the face between a sheet's and a head's (a cut-out wrapped on a bottle turns too)...
        (("flash_shape_cylinder", "flash_shape_weak"), "uncertain"),
        # ...while a weak curvature across stays advisory after the turn, and so does a head's share along the face
        # under the floor's pass (`flash_shape_weak_along`: no tuning cut-out that turned decisively read there).
        (("flash_shape_weak",), "realface"),
        (("flash_shape_weak_along",), "realface"),
    ],
)
def test_doubted_sheet_readings_leave_the_capture_uncertain(shape_reasons: tuple[str, ...], decision: str) -> None:
    signals = _with_parallax(I, P, 1.0)
    signals["flash_shape"] = SignalResult("flash_shape", I, 0.1, shape_reasons)
    assert fuse(signals, ACTIVE, FusionConfig()).decision is LivenessDecision(decision)
    assert fuse(signals, PASSIVE, FusionConfig()).decision is LivenessDecision.UNCERTAIN


@pytest.mark.parametrize(
    ("gates", "timing", "shape", "decision"),
    [
        # Motion smears the shape, not the colour's timing: a timing failure under motion still refuses...
        (("too_much_motion",), F, P, "spoofface"),
        # ...a shape failure under motion does not (the regions were smeared)...
        (("too_much_motion",), P, F, "uncertain"),
        # ...and any other gate keeps the capture uncertain whatever timing says.
        (("too_much_motion", "face_too_small"), F, P, "uncertain"),
        (("too_dark",), F, P, "uncertain"),
    ],
)
def test_timing_failure_refuses_through_the_motion_gate(
    gates: tuple[str, ...], timing: Verdict, shape: Verdict, decision: str
) -> None:
    signals = _signals(integrity=P, quality=I, flash_timing=timing, flash_shape=shape)
    signals["quality"] = SignalResult("quality", I, 0.0, gates)
    fused = fuse(signals, PASSIVE, FusionConfig())
    assert fused.decision is LivenessDecision(decision)
    if decision == "spoofface":
        assert fused.reasons == ("flash_timing_reason",)
