"""The engine's contract as the server calls it (implemented in `liveness/engine.py`)."""

from __future__ import annotations

from typing import Protocol

from openliveness.liveness.types import Capture, Challenge, LivenessResult

__all__ = ["LivenessEvaluator"]


class LivenessEvaluator(Protocol):
    def evaluate(self, challenge: Challenge, capture: Capture) -> LivenessResult:
        """Decide from the decoded frames whether a live person answered `challenge`. CPU-bound and
        thread-safe: the server calls it from worker threads."""
        ...
