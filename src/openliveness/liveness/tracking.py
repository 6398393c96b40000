"""Face tracking over a capture: the detector on a few keyframes, landmarks interpolated in between."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

from openliveness.vision import DetectedFace, FaceAnalyzer, FaceBox, FaceLandmarks, Point

from .config import TrackingConfig
from .types import CaptureFrame, Challenge

__all__ = ["FaceTrack", "Keyframe", "choose_keyframes", "track_faces"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Keyframe:
    """The detector's answer on one frame: the main face (None: no face) and how many faces it saw."""

    index: int
    face: DetectedFace | None
    face_count: int
    full_resolution: bool


@dataclass(frozen=True, slots=True)
class FaceTrack:
    """Landmarks for every frame, ``(n, 5, 2)``; rows are NaN where no keyframe had a face."""

    landmarks: FloatArray
    keyframes: tuple[Keyframe, ...]

    @property
    def detected(self) -> tuple[Keyframe, ...]:
        return tuple(k for k in self.keyframes if k.face is not None)

    def interocular(self) -> FloatArray:
        """Eye distance per frame (NaN where untracked)."""
        eyes = self.landmarks[:, 1] - self.landmarks[:, 0]
        return np.asarray(np.hypot(eyes[:, 0], eyes[:, 1]), dtype=np.float64)


def choose_keyframes(frames: Sequence[CaptureFrame], challenge: Challenge, config: TrackingConfig) -> list[int]:
    """Frame indices to detect on: evenly spread over the lead-in and flash, and over the motion phase."""
    n = len(frames)
    if n == 0:
        return []
    flash = [i for i, f in enumerate(frames) if f.timestamp_ms < challenge.flash_end_ms]
    motion = [i for i, f in enumerate(frames) if f.timestamp_ms >= challenge.flash_end_ms]
    if challenge.motion is None:
        flash, motion = list(range(n)), []
    chosen = set(_spread(flash, config.flash_keyframes)) | set(_spread(motion, config.motion_keyframes))
    if not chosen:
        chosen = set(_spread(list(range(n)), config.flash_keyframes))
    return sorted(chosen)


def track_faces(
    analyzer: FaceAnalyzer,
    frames: Sequence[CaptureFrame],
    challenge: Challenge,
    config: TrackingConfig,
    *,
    parts: Executor | None = None,
) -> FaceTrack:
    """Detect on keyframes (on `parts`' threads when given), then interpolate the landmarks of the main face by
    frame index (timestamps come from the client and are checked separately, so they do not steer the tracking)."""
    motion_start = challenge.flash_end_ms if challenge.motion is not None else float("inf")

    def detect(index: int) -> Keyframe:
        full = frames[index].timestamp_ms >= motion_start
        return _detect(analyzer, frames[index].image, index, None if full else config.flash_detect_side, config)

    chosen = choose_keyframes(frames, challenge, config)
    keyframes = list(map(detect, chosen) if parts is None else parts.map(detect, chosen))
    n = len(frames)
    landmarks = np.full((n, 5, 2), np.nan, dtype=np.float64)
    known = [k for k in keyframes if k.face is not None]
    if known:
        xs = np.array([k.index for k in known], dtype=np.float64)
        pts = np.stack([k.face.landmarks.as_array() for k in known if k.face is not None])
        grid = np.arange(n, dtype=np.float64)
        for p in range(5):
            for c in range(2):
                # np.interp holds the end values beyond the first and last keyframes.
                landmarks[:, p, c] = np.interp(grid, xs, pts[:, p, c])
    return FaceTrack(landmarks=landmarks, keyframes=tuple(keyframes))


def _detect(
    analyzer: FaceAnalyzer, image: npt.NDArray[np.uint8], index: int, side: int | None, config: TrackingConfig
) -> Keyframe:
    height, width = image.shape[:2]
    scale = 1.0
    if side is not None and max(height, width) > side:
        scale = side / max(height, width)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = np.asarray(Image.fromarray(image).resize(size, Image.Resampling.BILINEAR))
    faces = [f for f in analyzer.detect(image) if f.score >= config.min_face_score]
    if not faces:
        return Keyframe(index=index, face=None, face_count=0, full_resolution=scale == 1.0)
    main = max(faces, key=lambda f: (f.box.area, f.score))
    others = [
        f
        for f in faces
        if f is not main
        and f.score >= config.second_face_min_score
        and f.box.area >= config.second_face_min_ratio * main.box.area
    ]
    return Keyframe(
        index=index, face=_rescale(main, 1.0 / scale), face_count=1 + len(others), full_resolution=scale == 1.0
    )


def _rescale(face: DetectedFace, factor: float) -> DetectedFace:
    if factor == 1.0:
        return face
    b = face.box
    box = FaceBox(
        top=round(b.top * factor),
        left=round(b.left * factor),
        width=round(b.width * factor),
        height=round(b.height * factor),
    )
    pts = [Point(x * factor, y * factor) for x, y in face.landmarks.as_array()]
    return DetectedFace(box=box, landmarks=FaceLandmarks(*pts), score=face.score)


def _spread(indices: list[int], count: int) -> list[int]:
    if count <= 0 or not indices:
        return []
    if len(indices) <= count:
        return list(indices)
    picks = np.linspace(0, len(indices) - 1, count).round().astype(int)
    return [indices[i] for i in picks]
