"""Single still frames of a simulator head lit by one screen colour, for test cameras that answer a live screen.

A browser test camera cannot run the simulator per frame; it shows, at each moment, the still for the colour
the page is showing. Exposure and white balance are locked on the white still, as a camera whose page locked
them would be: the colour stills then differ by the screen's light alone."""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np
from numpy.typing import NDArray

from openliveness.liveness.types import RGB
from openliveness.simulate.conditions import Conditions
from openliveness.simulate.head import HeadModel
from openliveness.simulate.render import Camera, Shake, background_matrix, render_surface
from openliveness.simulate.simulator import (
    _CROSSTALK,
    FACE_WIDTH_CM,
    _ambient,
    _compose,
    _far,
    _head_surface,
    _pipeline,
    _rest_pose,
)

__all__ = ["render_stills"]

_WHITE: RGB = (255, 255, 255)


def _screen(color: RGB, brightness: float) -> NDArray[np.float32]:
    # The same display model as the simulator's ScreenLight, without the time axis.
    linear = (np.array(color, dtype=np.float32) / 255.0) ** 2.2
    return np.asarray((linear @ _CROSSTALK.T) * np.float32(brightness), np.float32).reshape(1, 1, 3)


def render_stills(
    head: HeadModel,
    colors: Iterable[RGB],
    *,
    width: int = 480,
    height: int = 360,
    conditions: Conditions | None = None,
    seed: int = 0,
) -> dict[RGB, NDArray[np.uint8]]:
    """One RGB uint8 frame (height, width, 3) of `head` at rest per screen colour, white always included."""
    cond = conditions or Conditions()
    focal = cond.face_size * width * cond.distance_cm / FACE_WIDTH_CM
    camera = Camera(width=width, height=height, focal=focal)
    rest = _rest_pose(camera, cond, cond.distance_cm)
    surface = _head_surface(head, rest.distance)
    still = Shake(0.0, 0.0, 0.0)
    seen = render_surface(surface, rest, camera, still)
    matrix = background_matrix(surface, rest, camera, still)
    back = np.asarray(
        cv2.warpAffine(head.background, matrix, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT),
        np.float32,
    )
    ambient = _ambient(cond)
    pipeline = _pipeline(np.random.default_rng(seed), camera, cond)
    out: dict[RGB, NDArray[np.uint8]] = {}
    # White first: it sets the exposure and gains; later frames at the same time stamp leave them locked.
    for color in [_WHITE, *[c for c in colors if c != _WHITE]]:
        radiance = _compose(seen, back, ambient, _screen(color, cond.screen_brightness), _far(cond), cond.specular)
        out[color] = pipeline.process(radiance, 0.0)
    return out
