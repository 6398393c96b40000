"""Challenges are drawn fresh; PassiveActive prompts are turns only (a move closer cannot be verified)."""

from __future__ import annotations

import itertools
import random
from collections import Counter

from openliveness.domain import LivenessOperationMode
from openliveness.liveness.challenge import ISSUED_PROMPTS, new_challenge
from openliveness.liveness.types import JPEG_QUALITY, Challenge, MotionPrompt


def test_passive_active_issues_turns_only_in_both_directions() -> None:
    rng = random.Random(5)
    prompts = Counter(new_challenge(LivenessOperationMode.PASSIVE_ACTIVE, rng=rng).motion for _ in range(300))
    assert set(prompts) == {MotionPrompt.TURN_LEFT, MotionPrompt.TURN_RIGHT} == set(ISSUED_PROMPTS)
    assert min(prompts.values()) > 100


def test_passive_has_no_prompt() -> None:
    assert new_challenge(LivenessOperationMode.PASSIVE, rng=random.Random(1)).motion is None


def test_every_channel_is_lit_and_left_dark_in_at_least_two_steps() -> None:
    """A channel that never changes (or changes in one step only) cannot be measured or checked step by step:
    without the rule, about 1 draw in 6 has one."""
    rng = random.Random(7)
    for _ in range(500):
        colours = [step.color for step in new_challenge(LivenessOperationMode.PASSIVE, rng=rng).steps]
        for channel in range(3):
            lit = sum(c[channel] >= 128 for c in colours)
            assert 2 <= lit <= len(colours) - 2, colours
        assert all(a != b for a, b in itertools.pairwise(colours))


def test_the_wire_form_round_trips_and_older_stored_challenges_read_with_the_jpeg_quality() -> None:
    challenge = new_challenge(LivenessOperationMode.PASSIVE_ACTIVE, rng=random.Random(3))
    wire = challenge.to_json()
    assert wire["capture"]["jpegQuality"] == JPEG_QUALITY
    assert Challenge.from_json(wire) == challenge
    stored = {**wire, "capture": {k: v for k, v in wire["capture"].items() if k != "jpegQuality"}}
    assert Challenge.from_json(stored).jpeg_quality == JPEG_QUALITY
    assert Challenge.from_json({**wire, "capture": {**wire["capture"], "jpegQuality": 0.95}}).jpeg_quality == 0.95
