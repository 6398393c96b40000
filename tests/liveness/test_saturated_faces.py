"""A screen-lit face in front of a dark room saturates (auto-exposure meters the room); it is still measured."""

from __future__ import annotations

import numpy as np

from openliveness.domain import LivenessDecision, LivenessOperationMode
from openliveness.liveness import LivenessEngine
from openliveness.liveness.signals import Verdict
from openliveness.simulate import Conditions, HeadModel, darken_room, random_challenge, simulate_capture


def test_faces_saturated_by_a_dark_room_are_measured_not_refused(engine: LivenessEngine, sim_head: HeadModel) -> None:
    """Dim room, small face, the room behind darkened: about half the skin pixels saturate under the white
    screen. The old gate refused such captures as `clipped` (over 40 %), and plain region means bent the flash
    shape towards flat; measured on their unsaturated pixels, the shape reads as a head's. (Per-step colour
    agreement still misses a step in some of them: docs/liveness-engine.md, Known limits. The curvature down the
    cheeks, which a pass also needs, is noisier on saturated skin: one of these six reads too flat along.)"""
    head = darken_room(sim_head, 0.15)
    conditions = Conditions.dim().with_(face_size=0.26, awb_strength=0.2)
    decisions, clipped, shapes = [], [], []
    for seed in range(6):
        rng = np.random.default_rng(seed)
        challenge = random_challenge(rng, LivenessOperationMode.PASSIVE)
        capture = simulate_capture(head, challenge, "bona_fide", conditions=conditions, rng=rng)
        result, signals = engine.evaluate_detailed(challenge, capture.to_capture())
        decisions.append(result.decision)
        clipped.append(signals["quality"].measures["clipped"])
        assert "clipped" not in result.reasons
        shape = signals["flash_shape"]
        assert shape.measures["relative_curvature"] >= engine.config.flash.shape_pass, shape
        shapes.append(shape.verdict)
    assert shapes.count(Verdict.PASS) >= 5, shapes
    assert np.median(clipped) > 0.4, clipped
    assert decisions.count(LivenessDecision.REAL_FACE) >= 3, decisions
