"""The guidance hint judges the face's own light, not only the frame's."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage import data

from openliveness.sessions.guidance import HINT_MESSAGES, guidance_hint, main_face_box
from openliveness.vision import FaceAnalyzer


def _framed_astronaut() -> np.ndarray:
    """The astronaut cropped to 320x240 with her face centred at about a third of the width (a framing the size
    and position checks accept)."""
    image = data.astronaut()
    crop = np.ascontiguousarray(image[0:228, 90:394])
    return cv2.resize(crop, (320, 240), interpolation=cv2.INTER_AREA)


def _hint(analyzer: FaceAnalyzer, image: np.ndarray) -> str:
    faces = analyzer.detect(image)
    return guidance_hint(image, faces_found=len(faces), box=main_face_box(faces))


def _face_mask(image: np.ndarray, analyzer: FaceAnalyzer) -> np.ndarray:
    b = analyzer.detect(image)[0].box
    mask = np.zeros(image.shape[:2], dtype=np.float32)
    cv2.ellipse(mask, (b.left + b.width // 2, b.top + b.height // 2), (b.width // 2, b.height // 2), 0, 0, 360, 1.0, -1)
    return cv2.GaussianBlur(mask, (0, 0), 3)[..., None]


def _relit(image: np.ndarray, mask: np.ndarray, face_gain: float, room_gain: float) -> np.ndarray:
    gain = mask * face_gain + (1 - mask) * room_gain
    return np.clip(image.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def test_a_well_lit_framed_face_is_ok(analyzer: FaceAnalyzer) -> None:
    assert _hint(analyzer, _framed_astronaut()) == "ok"


def test_a_face_clipped_in_a_dark_room_is_too_bright(analyzer: FaceAnalyzer) -> None:
    # The screen lights the face and the camera meters the dark room: the face clips while the frame as a whole is
    # neither bright nor clipped (the frame-level checks pass it).
    image = _framed_astronaut()
    glowing = _relit(image, _face_mask(image, analyzer), face_gain=3.0, room_gain=0.4)
    assert glowing.mean() < 215 and (glowing.mean(axis=2) >= 250).mean() < 0.3
    assert _hint(analyzer, glowing) == "too_bright"
    assert "too bright" in HINT_MESSAGES["too_bright"]


def test_a_backlit_face_is_too_dark(analyzer: FaceAnalyzer) -> None:
    image = _framed_astronaut()
    backlit = _relit(image, _face_mask(image, analyzer), face_gain=0.2, room_gain=1.0)
    assert 45 <= backlit.mean() <= 215  # the frame's mean alone would pass it
    assert _hint(analyzer, backlit) == "too_dark"


def _textured(size: tuple[int, int] = (240, 320), level: float = 150.0) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.clip(level + 25 * rng.standard_normal((*size, 3)), 0, 255).astype(np.uint8)


@pytest.mark.parametrize(("clipped_rows", "hint"), [(0.45, "ok"), (0.55, "too_bright")])
def test_the_face_is_too_bright_past_half_of_its_middle_clipped(clipped_rows: float, hint: str) -> None:
    image = _textured()
    box = {"top": 60, "left": 110, "width": 100, "height": 120}
    # The box's middle (60 % of it each way): rows 84 to 156, columns 130 to 190.
    top, bottom = 84, 156
    cut = top + round(clipped_rows * (bottom - top))
    image[top:cut, 130:190] = 255
    assert guidance_hint(image, faces_found=1, box=box) == hint
