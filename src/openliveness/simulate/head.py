"""A 3D head built from one face photo: the photo as albedo on a generic face depth model posed by its 5 landmarks."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol

import cv2
import numpy as np
from numpy.typing import NDArray

from openliveness.vision.types import DetectedFace, RGBImage

__all__ = ["IOD_CM", "HeadModel", "build_head", "darken_room", "srgb_to_linear"]

F32 = NDArray[np.float32]

#: Adult inter-ocular distance (pupil to pupil): converts the photo's pixels to centimetres.
IOD_CM = 6.3
# Above this many pixels between the eyes a photo carries more detail than any rendered frame can show.
_MAX_IOD_PX = 90.0
# A photo's face lower than this many pixels between the eyes is upscaled so depth detail is not lost.
_MIN_IOD_PX = 40.0


class _FaceDetector(Protocol):
    def detect(self, image: RGBImage) -> list[DetectedFace]: ...


def srgb_to_linear(image: NDArray[np.uint8]) -> F32:
    """8-bit sRGB to linear light (a 2.2 gamma: close enough for albedo)."""
    lut = ((np.arange(256, dtype=np.float32) / 255.0) ** 2.2).astype(np.float32)
    return lut[image]


@dataclass(frozen=True, slots=True, eq=False)
class HeadModel:
    """The photo's pixels as albedo and, on the same grid, the head's shape.

        `geometry` has four channels per pixel: depth (cm, toward the camera, 0 at the eyes' plane), weight (1 on
        the head, falling to 0 outside it: the part that moves with the head), and the x, y components of the unit
        surface normal (its z component is positive). `background` is the photo with the head painted out: what a
    turning head uncovers. `origin` is the face centre (pixels), `ppc` pixels per cm."""

    albedo: F32
    background: F32
    geometry: F32
    landmarks: NDArray[np.float64]
    origin: tuple[float, float]
    ppc: float
    roll: float

    @property
    def size(self) -> tuple[int, int]:
        return int(self.albedo.shape[1]), int(self.albedo.shape[0])


def build_head(
    image: RGBImage, detector: _FaceDetector | None = None, *, landmarks: NDArray[np.float64] | None = None
) -> HeadModel:
    """Build the head of the largest face in `image` (RGB uint8). `detector` is a `FaceAnalyzer` or `Detector`;
    give `landmarks` ((5, 2): eyes, nose, mouth corners as the detector orders them) instead to skip detection.

    Raises ValueError when no face is found."""
    if landmarks is None:
        if detector is None:
            raise ValueError("build_head needs a detector or landmarks")
        faces = detector.detect(image)
        if not faces:
            raise ValueError("no face found in the photo")
        face = max(faces, key=lambda f: f.box.area)
        landmarks = face.landmarks.as_array()
    points = np.asarray(landmarks, dtype=np.float64).reshape(5, 2)
    iod = float(np.linalg.norm(points[1] - points[0]))
    if iod < 8.0:
        raise ValueError(f"face too small to model ({iod:.1f} px between the eyes)")
    scale = min(max(1.0, _MIN_IOD_PX / iod), _MAX_IOD_PX / iod)
    if scale != 1.0:
        height, width = image.shape[:2]
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        image = np.asarray(
            cv2.resize(image, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC), np.uint8
        )
        points = points * scale
    albedo = srgb_to_linear(np.ascontiguousarray(image))
    geometry, origin, ppc, roll = _face_geometry(image.shape[0], image.shape[1], points)
    background = _paint_out(albedo, geometry[..., 1])
    return HeadModel(
        albedo=albedo, background=background, geometry=geometry, landmarks=points, origin=origin, ppc=ppc, roll=roll
    )


def _paint_out(albedo: F32, weight: F32) -> F32:
    """The photo without the head, filled from its surroundings (at quarter resolution: only smooth walls and
    hair-coloured blur are needed behind a head that turns by a few centimetres)."""
    height, width = weight.shape
    small = (max(8, width // 4), max(8, height // 4))
    mask = (cv2.resize(weight, small, interpolation=cv2.INTER_AREA) > 0.01).astype(np.uint8)
    mask = np.asarray(cv2.dilate(mask, np.ones((3, 3), np.uint8)), np.uint8)
    srgb = (np.clip(cv2.resize(albedo, small, interpolation=cv2.INTER_AREA), 0, 1) ** (1 / 2.2) * 255).astype(np.uint8)
    filled = cv2.inpaint(srgb, mask, 5, cv2.INPAINT_TELEA)
    filled = cv2.GaussianBlur(filled, (0, 0), 1.5)
    plate = srgb_to_linear(np.asarray(cv2.resize(filled, (width, height), interpolation=cv2.INTER_LINEAR), np.uint8))
    inside = cv2.resize(mask.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR)[..., None]
    return np.ascontiguousarray(inside * plate + (1.0 - inside) * albedo).astype(np.float32)


def _gauss(x: F32, y: F32, cx: float, cy: float, sx: float, sy: float) -> F32:
    return np.exp(-0.5 * (((x - cx) / sx) ** 2 + ((y - cy) / sy) ** 2)).astype(np.float32)


def _face_geometry(
    height: int, width: int, points: NDArray[np.float64]
) -> tuple[F32, tuple[float, float], float, float]:
    """Depth, weight and normals of a generic adult head fitted to the landmarks. Shape sizes are typical adult
    measures (head with hair 17 cm wide, 26 cm tall, 20 cm deep; nose tip 2.5 cm in front of the eyes' plane)."""
    eye_l, eye_r, nose, mouth_l, mouth_r = points
    eyes = (eye_l + eye_r) / 2
    mouth = (mouth_l + mouth_r) / 2
    iod = float(np.linalg.norm(eye_r - eye_l))
    ppc = iod / IOD_CM
    roll = float(np.arctan2(eye_r[1] - eye_l[1], eye_r[0] - eye_l[0]))
    cos_r, sin_r = np.cos(roll), np.sin(roll)
    origin = (float((eyes[0] + mouth[0]) / 2), float((eyes[1] + mouth[1]) / 2))

    def to_face(p: NDArray[np.float64]) -> tuple[float, float]:
        # Face-aligned centimetres with the eye midpoint at 0: x along the eye line, y down the face.
        dx, dy = (p[0] - eyes[0]) / ppc, (p[1] - eyes[1]) / ppc
        return float(cos_r * dx + sin_r * dy), float(-sin_r * dx + cos_r * dy)

    us = np.arange(width, dtype=np.float32)
    vs = np.arange(height, dtype=np.float32)
    du = (us - np.float32(eyes[0])) / np.float32(ppc)
    dv = (vs - np.float32(eyes[1])) / np.float32(ppc)
    x = (np.float32(cos_r) * du[None, :] + np.float32(sin_r) * dv[:, None]).astype(np.float32)
    y = (np.float32(-sin_r) * du[None, :] + np.float32(cos_r) * dv[:, None]).astype(np.float32)

    nose_x, nose_y = to_face(nose)
    _, mouth_y = to_face(mouth)
    mouth_y = float(np.clip(mouth_y, 4.0, 9.0))
    nose_y = float(np.clip(nose_y, 2.0, mouth_y - 1.0))

    # Head: a super-ellipsoid, flatter across the face than a sphere, steep at the sides.
    a, b, c, yc = 8.6, 13.0, 10.0, 0.2
    r = np.abs(x / a) ** 2.5 + np.abs((y - yc) / b) ** 2.2
    inside = np.clip(1.0 - r, 0.0, 1.0)
    depth = (c * (np.sqrt(inside) - 1.0)).astype(np.float32)

    # Nose: a ridge from the bridge to the tip, rising and widening toward the tip, then the nostrils.
    top_x, top_y = 0.0, 0.4
    vx, vy = nose_x - top_x, nose_y - top_y
    length = max(float(np.hypot(vx, vy)), 1e-3)
    s = ((x - top_x) * vx + (y - top_y) * vy) / (length * length)
    across = np.abs((x - top_x) * vy - (y - top_y) * vx) / length
    sc = np.clip(s, 0.0, 1.0)
    height_cm = 0.9 + 1.7 * sc**1.5
    below = np.clip(s - 1.0, 0.0, None) * length
    height_cm = height_cm * np.exp(-0.5 * (below / 0.55) ** 2)
    above = np.clip(-s, 0.0, None) * length
    height_cm = height_cm * np.exp(-0.5 * (above / 0.8) ** 2)
    sigma = 0.55 + 0.45 * sc
    depth += (height_cm * np.exp(-0.5 * (across / sigma) ** 2)).astype(np.float32)
    depth += 0.7 * _gauss(x, y, nose_x, nose_y - 0.1, 1.5, 0.7)
    # Eye sockets, brow ridge, cheekbones, lips, chin.
    for sx in (-IOD_CM / 2, IOD_CM / 2):
        depth -= 0.8 * _gauss(x, y, sx, 0.0, 1.3, 0.9)
        depth += 0.5 * _gauss(x, y, sx * 1.1, 2.6, 1.5, 1.4)
    depth += 0.5 * _gauss(x, y, 0.0, -1.6, 4.0, 0.7)
    depth += 0.45 * _gauss(x, y, 0.0, mouth_y, 2.0, 0.6)
    depth += 0.4 * _gauss(x, y, 0.0, mouth_y + 3.5, 1.8, 1.4)
    # Outside the head the depth model means nothing: the weight hands those pixels to the background.
    weight = np.clip((1.0 - r) / 0.12, 0.0, 1.0).astype(np.float32)
    weight = weight * weight * (3.0 - 2.0 * weight)
    depth = cv2.GaussianBlur(depth, (0, 0), max(0.6 * ppc / 10.0, 0.5))

    grad_y, grad_x = np.gradient(depth)
    nx, ny = -grad_x * ppc, -grad_y * ppc
    norm = np.sqrt(nx * nx + ny * ny + 1.0)
    geometry = np.stack([depth, weight, nx / norm, ny / norm], axis=-1).astype(np.float32)
    return np.ascontiguousarray(geometry), origin, ppc, roll


def darken_room(head: HeadModel, gain: float) -> HeadModel:
    """The same head in front of a room `gain` times as bright: the photo's surroundings, which become the room
    (and what a turning head uncovers), scaled. A dark room behind a screen-lit face is the case where
    auto-exposure meters the room and saturates the face."""
    on_head = head.geometry[..., 1:2]
    return replace(
        head,
        albedo=(head.albedo * (on_head + (1.0 - on_head) * np.float32(gain))).astype(np.float32),
        background=(head.background * np.float32(gain)).astype(np.float32),
    )
