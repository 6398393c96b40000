"""Quality for recognition: grades a detected face low / medium / high from measurable image properties."""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

import numpy as np
import numpy.typing as npt

from .types import DetectedFace, RGBImage

__all__ = [
    "QualityForRecognition",
    "QualityMeasures",
    "QualityThresholds",
    "assess_quality",
    "measure_quality",
]


class QualityForRecognition(str, Enum):
    """Azure's `qualityForRecognition` values, ordered low < medium < high."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {QualityForRecognition.LOW: 0, QualityForRecognition.MEDIUM: 1, QualityForRecognition.HIGH: 2}


@dataclass(frozen=True, slots=True)
class QualityMeasures:
    """What the grade is computed from.

    - `face_size_px`: the shorter side of the detector's box, in the original image's pixels.
    - `sharpness`: variance of the 4-neighbour Laplacian over the central part of the aligned 150x150 grey
      chip. A face upscaled from few pixels, out of focus or motion-blurred scores low.
    - `brightness`: mean grey level (0..255) of that central part; `clipped_fraction`: share of its pixels
      at or below 5 or at or above 250 (crushed shadows, blown highlights).
    - `yaw`: horizontal offset of the nose from the eyes' midpoint divided by the eye distance: 0 frontal,
      about 0.5 near 45 degrees. `pitch`: the nose's position between the eye line (0) and the mouth line
      (1); about 0.5 frontal, lower when the head tilts up, higher when it tilts down. `roll_degrees` is the
      eye line's angle; alignment removes roll, so it does not lower the grade.
    - `detector_score`: RetinaFace's confidence.
    """

    face_size_px: int
    sharpness: float
    brightness: float
    clipped_fraction: float
    yaw: float
    pitch: float
    roll_degrees: float
    detector_score: float


@dataclass(frozen=True, slots=True)
class QualityThresholds:
    """Per-measure limits: below a `*_medium` limit the face is low, below a `*_high` limit it is medium.

    Sizes follow Azure's guidance (faces of 200 px and more recognise best; 36 px is its detection floor);
    sharpness limits were set from the aligned chips of sharp portraits and blurred copies of them (sharp
    faces score about 70 to 1000, the astronaut photo blurred with a 2 px Gaussian about 5); frontal faces
    have a pitch ratio of about 0.4 to 0.75; the yaw limits are roughly 25 and 45 degrees of head turn.
    """

    face_size_high: int = 100
    face_size_medium: int = 50
    sharpness_high: float = 50.0
    sharpness_medium: float = 15.0
    brightness_low_high: float = 60.0
    brightness_low_medium: float = 35.0
    brightness_high_high: float = 200.0
    brightness_high_medium: float = 225.0
    clipped_high: float = 0.10
    clipped_medium: float = 0.30
    yaw_high: float = 0.25
    yaw_medium: float = 0.45
    pitch_range_high: tuple[float, float] = (0.30, 0.80)
    pitch_range_medium: tuple[float, float] = (0.15, 0.90)
    score_high: float = 0.95
    score_medium: float = 0.85


DEFAULT_THRESHOLDS = QualityThresholds()

# The chip's border is padding (background, hair, ears): judge only the inner face.
_INNER = slice(30, 120)


def measure_quality(face: DetectedFace, chip: RGBImage) -> QualityMeasures:
    """Measure `face` (as detected) and its aligned chip (from `Embedder.align`)."""
    grey = _grey(chip)[_INNER, _INNER]
    lap = -4.0 * grey[1:-1, 1:-1] + grey[:-2, 1:-1] + grey[2:, 1:-1] + grey[1:-1, :-2] + grey[1:-1, 2:]
    clipped = float(np.mean((grey <= 5.0) | (grey >= 250.0)))

    lm = face.landmarks
    eye_dx, eye_dy = lm.eye_right.x - lm.eye_left.x, lm.eye_right.y - lm.eye_left.y
    eye_dist = max(math.hypot(eye_dx, eye_dy), 1e-6)
    ux, uy = eye_dx / eye_dist, eye_dy / eye_dist  # unit vector along the eye line
    mid_x, mid_y = (lm.eye_left.x + lm.eye_right.x) / 2, (lm.eye_left.y + lm.eye_right.y) / 2
    nose_x, nose_y = lm.nose.x - mid_x, lm.nose.y - mid_y
    mouth_x = (lm.mouth_left.x + lm.mouth_right.x) / 2 - mid_x
    mouth_y = (lm.mouth_left.y + lm.mouth_right.y) / 2 - mid_y
    # Project onto the eye line and its normal, so an in-plane rotation changes neither yaw nor pitch.
    yaw = (nose_x * ux + nose_y * uy) / eye_dist
    nose_down = -nose_x * uy + nose_y * ux
    mouth_down = -mouth_x * uy + mouth_y * ux
    pitch = nose_down / mouth_down if mouth_down > 1e-6 else 0.0

    return QualityMeasures(
        face_size_px=min(face.box.width, face.box.height),
        sharpness=float(lap.var()),
        brightness=float(grey.mean()),
        clipped_fraction=clipped,
        yaw=float(yaw),
        pitch=float(pitch),
        roll_degrees=math.degrees(math.atan2(eye_dy, eye_dx)),
        detector_score=face.score,
    )


def assess_quality(
    measures: QualityMeasures, thresholds: QualityThresholds = DEFAULT_THRESHOLDS
) -> QualityForRecognition:
    """The worst grade over all measures: one bad property is enough to spoil recognition."""
    t = thresholds
    m = measures
    grades = [
        _grade_at_least(m.face_size_px, t.face_size_high, t.face_size_medium),
        _grade_at_least(m.sharpness, t.sharpness_high, t.sharpness_medium),
        _grade_at_least(m.brightness, t.brightness_low_high, t.brightness_low_medium),
        _grade_at_least(-m.brightness, -t.brightness_high_high, -t.brightness_high_medium),
        _grade_at_least(-m.clipped_fraction, -t.clipped_high, -t.clipped_medium),
        _grade_at_least(-abs(m.yaw), -t.yaw_high, -t.yaw_medium),
        _grade_in_range(m.pitch, t.pitch_range_high, t.pitch_range_medium),
        _grade_at_least(m.detector_score, t.score_high, t.score_medium),
    ]
    return min(grades, key=lambda g: g.rank)


def _grade_at_least(value: float, high: float, medium: float) -> QualityForRecognition:
    if value >= high:
        return QualityForRecognition.HIGH
    if value >= medium:
        return QualityForRecognition.MEDIUM
    return QualityForRecognition.LOW


def _grade_in_range(value: float, high: tuple[float, float], medium: tuple[float, float]) -> QualityForRecognition:
    if high[0] <= value <= high[1]:
        return QualityForRecognition.HIGH
    if medium[0] <= value <= medium[1]:
        return QualityForRecognition.MEDIUM
    return QualityForRecognition.LOW


def _grey(chip: RGBImage) -> npt.NDArray[np.float64]:
    rgb = chip.astype(np.float64)
    # ITU-R BT.601 luma, the weighting JPEG and most cameras use.
    return 0.299 * rgb[:, :, 0] + 0.587 * rgb[:, :, 1] + 0.114 * rgb[:, :, 2]
