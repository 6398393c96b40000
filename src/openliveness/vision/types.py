"""Value types shared by the vision modules: images, face boxes, landmarks, detections and embeddings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = ["EMBEDDING_SIZE", "DetectedFace", "Embedding", "FaceBox", "FaceLandmarks", "Point", "RGBImage"]

#: A decoded image: ``uint8`` array of shape ``(height, width, 3)`` in RGB order.
RGBImage: TypeAlias = npt.NDArray[np.uint8]

#: A face embedding: ``float32`` array of shape ``(EMBEDDING_SIZE,)`` as dlib's ResNet returns it (not
#: re-normalised: dlib's distances and its 0.6 operating point are defined on the raw vectors).
Embedding: TypeAlias = npt.NDArray[np.float32]

EMBEDDING_SIZE = 128


@dataclass(frozen=True, slots=True)
class FaceBox:
    """Face rectangle in image pixels, Azure's `faceRectangle` layout."""

    top: int
    left: int
    width: int
    height: int

    @property
    def area(self) -> int:
        return self.width * self.height


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class FaceLandmarks:
    """RetinaFace's five points. Left and right as seen in the image: the person's right eye is `eye_left`."""

    eye_left: Point
    eye_right: Point
    nose: Point
    mouth_left: Point
    mouth_right: Point

    def as_array(self) -> npt.NDArray[np.float64]:
        """The points as a ``(5, 2)`` array of (x, y) in the order of the fields."""
        pts = (self.eye_left, self.eye_right, self.nose, self.mouth_left, self.mouth_right)
        return np.array([[p.x, p.y] for p in pts], dtype=np.float64)


@dataclass(frozen=True, slots=True)
class DetectedFace:
    """One detection: box and landmarks, in the pixels of the image given to the detector, and score."""

    box: FaceBox
    landmarks: FaceLandmarks
    score: float
