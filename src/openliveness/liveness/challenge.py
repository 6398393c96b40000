"""Fresh, unpredictable challenges: a random colour sequence per attempt (and a motion prompt in PassiveActive)."""

from __future__ import annotations

import random
import secrets
from collections.abc import Sequence

from openliveness.domain import LivenessOperationMode
from openliveness.liveness.types import RGB, Challenge, FlashStep, MotionPrompt

__all__ = ["ISSUED_PROMPTS", "MOTION_MS", "PALETTE", "every_channel_changes", "new_challenge"]

# Saturated colours far apart in chroma, so each step's reflection differs from its neighbours' in every channel
# pair; no black (it lights nothing) and white only as the neutral lead-in.
PALETTE: tuple[RGB, ...] = (
    (255, 0, 0),
    (0, 255, 0),
    (0, 0, 255),
    (255, 255, 0),
    (0, 255, 255),
    (255, 0, 255),
)

# The prompts a new challenge draws from. `move_closer` stays in the protocol (clients handle it, the engine
# still judges it) but is no longer issued: moving toward the camera displaces the nose off the face's plane only
# by its offset from the optical axis, so its parallax does not separate prints from heads (tuning: heads 0.026
# to 0.115, prints 0.024 to 0.066) and the decision fell back on flash shape, which a curved print can pass.
# A turn's parallax separates them with margin (docs/liveness-engine.md).
ISSUED_PROMPTS: tuple[MotionPrompt, ...] = (MotionPrompt.TURN_LEFT, MotionPrompt.TURN_RIGHT)

# How long the motion prompt's phase lasts: time to react (people start 0.25 to 0.6 s after the prompt), to turn
# (0.7 to 1.1 s) and then to hold the turned pose for parallax's held span (`ParallaxConfig.sustain_ms`, 250 ms)
# with half a second to spare. Session 18: at 1.8 s a slow turn was still under way when the capture ended, and
# its nose held less than the turn gives (docs/liveness-engine.md, "The motion phase's length").
MOTION_MS = 2400

_rng = secrets.SystemRandom()
_MIN_STEPS_PER_CHANNEL_STATE = 2


def every_channel_changes(colors: Sequence[RGB], minimum: int) -> bool:
    """Each channel is lit (>= 128) in at least `minimum` of the colours and dark in at least `minimum`."""
    for channel in range(3):
        lit = sum(c[channel] >= 128 for c in colors)
        if lit < minimum or len(colors) - lit < minimum:
            return False
    return True


def new_challenge(
    mode: LivenessOperationMode,
    *,
    rng: random.Random = _rng,
    steps: int = 7,
    step_ms: tuple[int, int] = (280, 480),
    lead_in_ms: int = 700,
    motion_ms: int = MOTION_MS,
) -> Challenge:
    """A challenge drawn from the OS's CSPRNG: colours never repeat back to back, durations vary per step,
    so neither the order nor the timing of the light can be known before the attempt starts. (`rng` is only
    for reproducible simulations; the server always uses the CSPRNG.)

    Every camera channel is lit in at least two steps and left dark in at least two: the face's response in a
    channel is measured only by the light changing in it, and each step is checked against the others
    (signals/flash_steps.py). About 1 draw in 6 misses this and is drawn again (1 in 75 had a channel that never
    changed, which no face can answer measurably)."""
    while True:
        colors: list[RGB] = []
        for _ in range(steps):
            choices = [c for c in PALETTE if not colors or c != colors[-1]]
            colors.append(rng.choice(choices))
        # (Fewer than four steps cannot meet it; only tests ask for so few.)
        if steps < 2 * _MIN_STEPS_PER_CHANNEL_STATE or every_channel_changes(colors, _MIN_STEPS_PER_CHANNEL_STATE):
            break
    flash = tuple(FlashStep(color=c, duration_ms=rng.randint(*step_ms)) for c in colors)
    active = mode is LivenessOperationMode.PASSIVE_ACTIVE
    return Challenge(
        mode=mode,
        steps=flash,
        lead_in_ms=lead_in_ms,
        motion=rng.choice(list(ISSUED_PROMPTS)) if active else None,
        motion_ms=motion_ms if active else 0,
    )
