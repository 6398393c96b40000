"""Fixtures for the engine's tests: the engine on the real detector, and synthetic heads and prints."""

from __future__ import annotations

import pytest

from openliveness.liveness.engine import LivenessEngine
from openliveness.vision import FaceAnalyzer

from .synth import Scene, astronaut_frame, head_scene


@pytest.fixture(scope="session")
def engine(analyzer: FaceAnalyzer) -> LivenessEngine:
    return LivenessEngine(analyzer)


@pytest.fixture(scope="session")
def head(analyzer: FaceAnalyzer) -> Scene:
    return head_scene(analyzer, astronaut_frame())


@pytest.fixture(scope="session")
def flat(analyzer: FaceAnalyzer) -> Scene:
    """The same face as a flat print filling the frame: every pixel faces the screen."""
    return head_scene(analyzer, astronaut_frame(), flat=True)
