"""The liveness signals: each turns the tracked light and landmarks into a score in 0..1 with reasons."""

from .base import SignalResult, Verdict
from .flash_reflection import flash_reflection
from .flash_shape import flash_shape
from .flash_timing import FlashTiming, flash_timing, screen_colours
from .integrity import integrity
from .parallax import parallax

__all__ = [
    "FlashTiming",
    "SignalResult",
    "Verdict",
    "flash_reflection",
    "flash_shape",
    "flash_timing",
    "integrity",
    "parallax",
    "screen_colours",
]
