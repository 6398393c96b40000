"""Capture simulator: renders bona fide and attack captures that answer (or fail) a liveness challenge."""

from .client import CheckResult, run_simulated_check, upload_capture
from .conditions import ConditionRanges, Conditions, conditions_to_json, sample_conditions
from .head import HeadModel, build_head, darken_room
from .simulator import (
    ATTACK_SPECIES,
    ON_REQUEST_VARIANTS,
    VARIANTS,
    SimulatedCapture,
    Species,
    random_challenge,
    simulate_capture,
)

__all__ = [
    "ATTACK_SPECIES",
    "ON_REQUEST_VARIANTS",
    "VARIANTS",
    "CheckResult",
    "ConditionRanges",
    "Conditions",
    "HeadModel",
    "SimulatedCapture",
    "Species",
    "build_head",
    "conditions_to_json",
    "darken_room",
    "random_challenge",
    "run_simulated_check",
    "sample_conditions",
    "simulate_capture",
    "upload_capture",
]
