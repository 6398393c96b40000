"""Liveness: challenges, the capture format, and the engine that decides realface / spoofface / uncertain."""

from openliveness.liveness.challenge import PALETTE, new_challenge
from openliveness.liveness.config import EngineConfig
from openliveness.liveness.engine import LivenessEngine
from openliveness.liveness.types import (
    Capture,
    CaptureFrame,
    Challenge,
    FlashStep,
    LivenessResult,
    MotionPrompt,
)

__all__ = [
    "PALETTE",
    "Capture",
    "CaptureFrame",
    "Challenge",
    "EngineConfig",
    "FlashStep",
    "LivenessEngine",
    "LivenessResult",
    "MotionPrompt",
    "new_challenge",
]
