"""Metrics on hand-computed cases, including the edge cases (no attacks of a species, all uncertain, empty)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import openliveness.evaluation as evaluation
from openliveness.evaluation import (
    Outcome,
    Rate,
    bpcer_at_apcer,
    equal_error_rate,
    pad_metrics,
    roc_curve,
    tar_at_far,
    verify_metrics,
    wilson_interval,
)


def test_public_api_is_declared() -> None:
    for name in evaluation.__all__:
        assert hasattr(evaluation, name), name


def outcomes(label: str, realface: int = 0, spoofface: int = 0, uncertain: int = 0) -> list[Outcome]:
    return (
        [Outcome(label, "realface") for _ in range(realface)]
        + [Outcome(label, "spoofface") for _ in range(spoofface)]
        + [Outcome(label, "uncertain") for _ in range(uncertain)]
    )


def test_apcer_per_species_bpcer_acer_and_uncertain_share() -> None:
    # 10 bona fide: 8 accepted, 1 refused, 1 uncertain -> BPCER 2/10.
    # 4 prints: 1 accepted -> APCER 1/4; 5 replays: 0 accepted -> 0/5 (2 of them uncertain).
    data = (
        outcomes("bona_fide", realface=8, spoofface=1, uncertain=1)
        + outcomes("print", realface=1, spoofface=3)
        + outcomes("replay", spoofface=3, uncertain=2)
    )
    m = pad_metrics(data)
    assert m.apcer["print"] == Rate(1, 4) and m.apcer["print"].value == 0.25
    assert m.apcer["replay"] == Rate(0, 5) and m.apcer["replay"].value == 0.0
    assert "mask" not in m.apcer  # no attacks of a species: absent, not 0 %
    assert m.max_apcer == ("print", Rate(1, 4))
    assert m.bpcer == Rate(2, 10)
    assert m.acer == pytest.approx((0.25 + 0.2) / 2)
    assert m.uncertain == Rate(3, 19)
    assert m.uncertain_by_label["replay"] == Rate(2, 5)
    assert m.false_accepts == 1
    assert m.correct == Rate(8 + 3 + 5, 19)  # bona fide accepted + attacks not accepted
    js = m.to_json()
    assert js["apcer_max"] == 0.25 and js["apcer_max_species"] == "print"
    assert js["bpcer"]["value"] == 0.2 and js["false_accepts"] == 1 and js["accuracy"] == pytest.approx(16 / 19)
    assert js["uncertain_share"] == pytest.approx(3 / 19)


def test_no_attacks_at_all_and_no_bona_fide() -> None:
    only_bona = pad_metrics(outcomes("bona_fide", realface=3, spoofface=1))
    assert only_bona.apcer == {} and only_bona.max_apcer is None and only_bona.acer is None
    assert only_bona.to_json()["apcer_max"] is None
    only_attacks = pad_metrics(outcomes("mask", realface=1, spoofface=1))
    assert only_attacks.bpcer == Rate(0, 0) and only_attacks.bpcer.value is None
    assert only_attacks.acer is None
    assert only_attacks.bpcer_at_apcer[0.05] == (None, None)


def test_all_uncertain_counts_as_not_accepted() -> None:
    m = pad_metrics(outcomes("bona_fide", uncertain=4) + outcomes("print", uncertain=6))
    assert m.bpcer == Rate(4, 4)  # a user asked to retry was not accepted
    assert m.apcer["print"] == Rate(0, 6)
    assert m.uncertain == Rate(10, 10) and m.uncertain.value == 1.0
    assert m.acer == 0.5


def test_empty_dataset() -> None:
    m = pad_metrics([])
    assert m.apcer == {} and m.bpcer.value is None and m.uncertain.value is None and m.correct.value is None
    js = m.to_json()
    assert js["presentations"] == 0 and js["accuracy"] is None and js["acer"] is None


def test_unknown_label_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown label"):
        pad_metrics([Outcome("deepfake", "realface")])


def test_wilson_interval_by_hand() -> None:
    # p = 0.5, n = 10: centre 0.5, half = 1.96 * sqrt(0.025 + 0.0096040) / 1.384160 = 0.26340.
    low, high = wilson_interval(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)
    low, high = wilson_interval(0, 30)  # zero errors still leaves an upper bound: z^2 / (n + z^2)
    assert low == 0.0 and high == pytest.approx(1.96**2 / (30 + 1.96**2), abs=1e-12)
    assert wilson_interval(0, 0) == (0.0, 1.0)
    assert Rate(3, 3).interval[1] == 1.0


def test_bpcer_at_apcer_from_scores() -> None:
    bona = [Outcome("bona_fide", "realface", s) for s in (0.9, 0.8, 0.7, 0.6, 0.3)]
    prints = [Outcome("print", "spoofface", s) for s in (0.1, 0.2, 0.5, 0.65)]
    replays = [Outcome("replay", "spoofface", s) for s in (0.05, None)]
    got = bpcer_at_apcer(bona + prints + replays, (0.0, 0.25, 0.5))
    # APCER 0: threshold above 0.65 -> 0.7; bona fide below 0.7: 0.6, 0.3 -> 2/5.
    assert got[0.0] == (pytest.approx(0.4), pytest.approx(0.7))
    # APCER <= 1/4 for prints: threshold 0.6 lets 0.65 through (1/4) -> bona fide below: 0.3 -> 1/5.
    assert got[0.25] == (pytest.approx(0.2), pytest.approx(0.6))
    # APCER <= 1/2: threshold 0.3 lets 0.5 and 0.65 through (2/4), replay 0/2 -> BPCER 0.
    assert got[0.5] == (pytest.approx(0.0), pytest.approx(0.3))


def test_verification_by_hand() -> None:
    genuine = np.array([0.99, 0.95, 0.90, 0.40])
    impostor = np.array([0.01, 0.02, 0.50, 0.96, 0.03])
    assert tar_at_far(genuine, impostor, 0.0) == (0.25, 0.99)  # only above the impostor at 0.96
    assert tar_at_far(genuine, impostor, 0.2) == (0.75, 0.9)  # 1 of 5 impostors may pass
    m = verify_metrics(genuine, impostor, 0.94)
    assert m.false_accepts == Rate(1, 5) and m.false_rejects == Rate(2, 4) and m.correct == Rate(6, 9)
    eer, t = equal_error_rate(genuine, impostor)
    # At t = 0.90: FAR 1/5, FRR 1/4 -> |diff| 0.05, the closest; EER is their mean.
    assert t == 0.9 and eer == pytest.approx((0.2 + 0.25) / 2)
    far, tar, thresholds = roc_curve(genuine, impostor)
    assert far[0] == 0 and tar[0] == 0 and math.isinf(thresholds[0])
    assert far[-1] == 1 and tar[-1] == 1
    assert np.all(np.diff(far) >= 0) and np.all(np.diff(tar) >= 0)
    js = m.to_json()
    assert js["false_accepts"] == 1 and js["accuracy"] == pytest.approx(6 / 9) and js["eer"] == pytest.approx(0.225)
