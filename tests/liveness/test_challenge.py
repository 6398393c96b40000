"""Challenges are drawn fresh; PassiveActive prompts are turns only (a move closer cannot be verified)."""

from __future__ import annotations

import random
from collections import Counter

from openliveness.domain import LivenessOperationMode
from openliveness.liveness.challenge import ISSUED_PROMPTS, new_challenge
from openliveness.liveness.types import MotionPrompt


def test_passive_active_issues_turns_only_in_both_directions() -> None:
    rng = random.Random(5)
    prompts = Counter(new_challenge(LivenessOperationMode.PASSIVE_ACTIVE, rng=rng).motion for _ in range(300))
    assert set(prompts) == {MotionPrompt.TURN_LEFT, MotionPrompt.TURN_RIGHT} == set(ISSUED_PROMPTS)
    assert min(prompts.values()) > 100


def test_passive_has_no_prompt() -> None:
    assert new_challenge(LivenessOperationMode.PASSIVE, rng=random.Random(1)).motion is None
