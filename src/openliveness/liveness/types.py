"""Values of the liveness protocol shared by the server, the engine and the simulator: the challenge an attempt
gets, the capture a client sends back, and the engine's verdict."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np
from numpy.typing import NDArray

from openliveness.domain import LivenessDecision, LivenessOperationMode

__all__ = [
    "JPEG_QUALITY",
    "MAX_FRAMES",
    "MIN_JPEG_QUALITY",
    "RGB",
    "Capture",
    "CaptureFrame",
    "Challenge",
    "FlashStep",
    "LivenessResult",
    "MotionPrompt",
]

RGB = tuple[int, int, int]
# Most frames one capture may carry (about 7 s at 12 fps); the API refuses more.
MAX_FRAMES = 90
# The JPEG quality clients are asked to encode frames at (the canvas's `toBlob` quality, 0..1), and the coarsest
# the API accepts (libjpeg's 1..100 scale, estimated from a frame's quantization table): the flash is read from a
# few per cent of light on small regions, which coarse quantization smears (docs/liveness-engine.md, session 10).
# Browsers' encoders map 0.92 to 90-92; the floor leaves room for encoders with their own tables.
JPEG_QUALITY = 0.92
MIN_JPEG_QUALITY = 85


class MotionPrompt(str, Enum):
    """What a PassiveActive attempt asks the user to do after the flash sequence."""

    TURN_LEFT = "turn_left"
    TURN_RIGHT = "turn_right"
    MOVE_CLOSER = "move_closer"


@dataclass(frozen=True, slots=True)
class FlashStep:
    """One screen colour, shown full-screen for `duration_ms`."""

    color: RGB
    duration_ms: int


@dataclass(frozen=True, slots=True)
class Challenge:
    """What the client must do in one attempt. The schedule starts when the client shows the first colour
    (its t = 0 for frame timestamps): `lead_in_ms` of neutral white so exposure settles, then the steps, then
    (PassiveActive) `motion_ms` for the motion prompt with the screen white again."""

    mode: LivenessOperationMode
    steps: tuple[FlashStep, ...]
    lead_in_ms: int
    motion: MotionPrompt | None = None
    motion_ms: int = 0
    frame_width: int = 480
    frame_height: int = 360
    max_frames: int = MAX_FRAMES
    target_fps: int = 12
    jpeg_quality: float = JPEG_QUALITY

    @property
    def flash_start_ms(self) -> int:
        return self.lead_in_ms

    @property
    def flash_end_ms(self) -> int:
        return self.lead_in_ms + sum(s.duration_ms for s in self.steps)

    @property
    def total_ms(self) -> int:
        return self.flash_end_ms + self.motion_ms

    def step_at(self, t_ms: float) -> int | None:
        """Index of the step on screen at `t_ms` (None in the lead-in and the motion phase)."""
        if t_ms < self.lead_in_ms:
            return None
        elapsed = self.lead_in_ms
        for index, step in enumerate(self.steps):
            elapsed += step.duration_ms
            if t_ms < elapsed:
                return index
        return None

    def to_json(self) -> dict[str, Any]:
        """The wire form (see docs/protocol.md)."""
        return {
            "mode": self.mode.value,
            "leadInMs": self.lead_in_ms,
            "steps": [{"color": _hex(s.color), "durationMs": s.duration_ms} for s in self.steps],
            "motion": None if self.motion is None else {"prompt": self.motion.value, "durationMs": self.motion_ms},
            "capture": {
                "width": self.frame_width,
                "height": self.frame_height,
                "maxFrames": self.max_frames,
                "targetFps": self.target_fps,
                "jpegQuality": self.jpeg_quality,
            },
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Challenge:
        motion = data.get("motion")
        capture = data["capture"]
        return cls(
            mode=LivenessOperationMode(data["mode"]),
            steps=tuple(
                FlashStep(color=_parse_hex(s["color"]), duration_ms=int(s["durationMs"])) for s in data["steps"]
            ),
            lead_in_ms=int(data["leadInMs"]),
            motion=None if motion is None else MotionPrompt(motion["prompt"]),
            motion_ms=0 if motion is None else int(motion["durationMs"]),
            frame_width=int(capture["width"]),
            frame_height=int(capture["height"]),
            max_frames=int(capture["maxFrames"]),
            target_fps=int(capture["targetFps"]),
            # Challenges stored before the field existed asked for the same.
            jpeg_quality=float(capture.get("jpegQuality", JPEG_QUALITY)),
        )


def _hex(color: RGB) -> str:
    return "#" + "".join(f"{channel:02x}" for channel in color)


def _parse_hex(value: str) -> RGB:
    value = value.removeprefix("#")
    return (int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16))


@dataclass(frozen=True, slots=True)
class CaptureFrame:
    """One decoded camera frame. `timestamp_ms` is the client's capture time on the challenge's clock;
    `step_index` is the step the client says was on screen (None: lead-in or motion phase)."""

    image: NDArray[np.uint8]
    timestamp_ms: float
    step_index: int | None


@dataclass(frozen=True, slots=True)
class Capture:
    frames: tuple[CaptureFrame, ...]


@dataclass(frozen=True, slots=True)
class LivenessResult:
    """The engine's verdict with its evidence. `scores` maps signal name to a score in 0..1 (1 = live);
    `reasons` are short machine-readable codes (e.g. "flash_timing_mismatch", "too_dark")."""

    decision: LivenessDecision
    scores: dict[str, float] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()
    face_rectangle: dict[str, int] | None = None
    best_frame_index: int | None = None
