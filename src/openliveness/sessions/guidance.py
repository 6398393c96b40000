"""The guidance hint for one preview frame: what the user should change before the capture starts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from openliveness.vision import DetectedFace

__all__ = ["HINT_MESSAGES", "guidance_hint", "main_face_box"]

ScalarT = TypeVar("ScalarT", bound=np.generic)

HINT_MESSAGES = {
    "no_face": "No face found. Look at the camera.",
    "multiple_faces": "Only one person may be in view.",
    "too_dark": "It is too dark. Face a light source or raise the screen brightness.",
    "too_bright": "Your face is too bright. Move away from direct light, or light the room around you.",
    "move_closer": "Move closer to the camera.",
    "move_back": "Move back a little.",
    "center": "Center your face in the oval.",
    "hold_still": "Hold still.",
    "ok": "Good. Hold still.",
}

# Mean value (channels averaged) under which the frame, or the middle of the face's box, is too dark: the engine
# refuses skin under 35 as `too_dark`, and the preview is lit less than the capture's white screen, so this warns a
# little above it.
_TOO_DARK = 45.0
# The face is judged on the middle of its box (the detector's box reaches the hair and the room at its corners).
_INNER = 0.6
# Share of the face's middle clipped in some channel above which it is too bright. The camera meters the whole
# frame: in a dim room a face lit by the screen is exposed far past its skin and clips. Flash shape reads skin with
# more than half of it clipped as doubtful (`FlashConfig.shape_refusal_max_clipped`), and the preview's clipping only
# grows once the capture's white screen lights the face.
_FACE_CLIPPED = 0.5
_CLIPPED_LEVEL = 250


def guidance_hint(image: npt.NDArray[np.uint8], *, faces_found: int, box: dict[str, int] | None) -> str:
    """One of `HINT_MESSAGES`' keys, the first that applies: the frame's light, then the face's presence, size,
    position and light, then its sharpness."""
    grey = image.mean(axis=2)
    mean = float(grey.mean())
    if mean < _TOO_DARK:
        return "too_dark"
    if mean > 215 or float((grey >= _CLIPPED_LEVEL).mean()) > 0.3:
        return "too_bright"
    if faces_found == 0 or box is None:
        return "no_face"
    if faces_found > 1:
        return "multiple_faces"
    height, width = grey.shape
    share = box["width"] / width
    if share < 0.22:
        return "move_closer"
    if share > 0.65:
        return "move_back"
    cx = (box["left"] + box["width"] / 2) / width - 0.5
    cy = (box["top"] + box["height"] / 2) / height - 0.5
    if abs(cx) > 0.15 or abs(cy) > 0.18:
        return "center"
    middle = _crop(image, box, _INNER)
    if middle.size:
        if float(middle.mean()) < _TOO_DARK:
            return "too_dark"
        if float((middle.max(axis=2) >= _CLIPPED_LEVEL).mean()) > _FACE_CLIPPED:
            return "too_bright"
    face = _crop(grey, box, 1.0)
    if face.size and _sharpness(face) < 8.0:
        return "hold_still"
    return "ok"


def main_face_box(faces: Sequence[DetectedFace]) -> dict[str, int] | None:
    """The largest detected face's box, as the guidance answer gives it (None without a face)."""
    if not faces:
        return None
    b = max(faces, key=lambda f: f.box.area).box
    return {"top": b.top, "left": b.left, "width": b.width, "height": b.height}


def _crop(image: npt.NDArray[ScalarT], box: dict[str, int], share: float) -> npt.NDArray[ScalarT]:
    """The central `share` of the face's box (1: all of it), within the frame."""
    h, w = image.shape[:2]
    margin_x, margin_y = box["width"] * (1 - share) / 2, box["height"] * (1 - share) / 2
    x0, y0 = max(0, round(box["left"] + margin_x)), max(0, round(box["top"] + margin_y))
    x1, y1 = min(w, round(box["left"] + box["width"] - margin_x)), min(h, round(box["top"] + box["height"] - margin_y))
    return image[y0:y1, x0:x1]


def _sharpness(grey: npt.NDArray[np.float64]) -> float:
    lap = grey[1:-1, 1:-1] * 4 - grey[:-2, 1:-1] - grey[2:, 1:-1] - grey[1:-1, :-2] - grey[1:-1, 2:]
    return float(lap.var()) if lap.size else 0.0
