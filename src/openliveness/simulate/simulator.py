"""Captures of each species answering (or failing) a challenge: the bona fide head lit by the screen, and the
print, replay, injection and still-photo attacks."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from openliveness.domain import LivenessOperationMode
from openliveness.liveness.challenge import new_challenge
from openliveness.liveness.types import RGB, Capture, CaptureFrame, Challenge, MotionPrompt
from openliveness.vision.decode import FRAME_LIMITS, decode_image

from .conditions import Conditions, kelvin_to_rgb, sample_conditions
from .head import HeadModel, srgb_to_linear
from .render import (
    REFERENCE_DISTANCE_CM,
    Camera,
    CameraPipeline,
    Pose,
    Rendered,
    Shake,
    Surface,
    background_matrix,
    encode_jpeg,
    render_surface,
)

__all__ = [
    "ATTACK_SPECIES",
    "VARIANTS",
    "SimulatedCapture",
    "Species",
    "known_variants",
    "random_challenge",
    "simulate_capture",
]

F32 = NDArray[np.float32]

#: Cheek-to-cheek width of an adult face: `Conditions.face_size` is this width over the frame width.
FACE_WIDTH_CM = 14.0
# The person's answer to a motion prompt: they start this long after it appears (ms), then take this long to
# turn (or move closer) and hold the pose until the capture ends.
REACTION_MS = (250.0, 600.0)
TURN_MS = (700.0, 1100.0)


class Species(str, Enum):
    """What is in front of the camera. Labels match the benchmark's report."""

    BONA_FIDE = "bona_fide"
    PRINT = "print"
    REPLAY = "replay"
    INJECTION = "injection"
    PHOTO_STILL = "photo_still"


ATTACK_SPECIES: tuple[Species, ...] = (Species.PRINT, Species.REPLAY, Species.INJECTION, Species.PHOTO_STILL)

#: The variants each species draws from when none is asked for.
VARIANTS: dict[Species, tuple[str, ...]] = {
    Species.BONA_FIDE: ("live",),
    Species.PRINT: ("flat", "moving", "tilted", "curved"),
    Species.REPLAY: ("tablet", "phone"),
    Species.INJECTION: ("constant", "other_sequence"),
    Species.PHOTO_STILL: ("still",),
}
#: Variants rendered only when asked for by name (not drawn, so the report's mix stays comparable across sessions):
#: a curved print cut along the head's outline, hair included, so that the room shows where a head would end; and
#: the same cut-out wrapped tightly around a bottle or a can (radius 5 to 9 cm), as curved as a head across; and
#: wrapped at a slant (the bottle's axis 30 to 60 degrees from the face's vertical), curved across and along the face.
ON_REQUEST_VARIANTS: dict[Species, tuple[str, ...]] = {
    Species.PRINT: ("curved_cutout", "wrapped_cutout", "diagonal_cutout")
}


def known_variants(species: Species) -> tuple[str, ...]:
    """Every variant `simulate_capture` renders for `species`: those it draws, then those rendered on request."""
    return VARIANTS[species] + ON_REQUEST_VARIANTS.get(species, ())


@dataclass(frozen=True, slots=True)
class SimulatedCapture:
    """A rendered capture: the JPEG frames and the metadata JSON a client sends with them."""

    label: str
    frames: list[bytes]
    metadata: dict[str, Any]
    variant: str = ""

    def to_capture(self) -> Capture:
        """Decode the JPEGs into the engine's in-process `Capture`."""
        entries = self.metadata["frames"]
        return Capture(
            frames=tuple(
                CaptureFrame(
                    image=decode_image(data, FRAME_LIMITS),
                    timestamp_ms=float(entry["timestampMs"]),
                    step_index=entry["stepIndex"],
                )
                for data, entry in zip(self.frames, entries, strict=True)
            )
        )


def random_challenge(
    rng: np.random.Generator,
    mode: LivenessOperationMode = LivenessOperationMode.PASSIVE,
    **options: Any,
) -> Challenge:
    """A challenge like the server's (`liveness.new_challenge`), drawn from `rng` so simulations are reproducible."""
    return new_challenge(mode, rng=random.Random(int(rng.integers(2**63))), **options)


# How much of each display primary each camera channel sees (rows: camera R, G, B): colour filters overlap.
_CROSSTALK = np.array([[1.0, 0.10, 0.02], [0.12, 1.0, 0.10], [0.03, 0.12, 1.0]], dtype=np.float32)
_CROSSTALK /= _CROSSTALK.sum(axis=1, keepdims=True)
_WHITE: RGB = (255, 255, 255)


class ScreenLight:
    """The colour the screen actually shows over time, as irradiance per unit brightness in camera RGB: the
    challenge's schedule delayed by the display latency, with the panel's finite response time."""

    def __init__(
        self, challenge: Challenge | None, *, brightness: float, latency_ms: float, response_ms: float
    ) -> None:
        starts = [-1e9]
        colors: list[RGB] = [_WHITE]
        if challenge is not None:
            t = float(challenge.lead_in_ms)
            for step in challenge.steps:
                starts.append(t)
                colors.append(step.color)
                t += step.duration_ms
            starts.append(t)
            colors.append(_WHITE)
        self._starts = np.array(starts) + latency_ms
        linear = (np.array(colors, dtype=np.float32) / 255.0) ** 2.2
        self._colors = (linear @ _CROSSTALK.T) * np.float32(brightness)
        self._response = max(response_ms, 1e-3)

    def at(self, times_ms: NDArray[np.float64]) -> F32:
        """Irradiance colours (n, 3) at `times_ms`."""
        index = np.searchsorted(self._starts, times_ms, side="right") - 1
        index = np.clip(index, 0, len(self._starts) - 1)
        current = self._colors[index]
        previous = self._colors[np.maximum(index - 1, 0)]
        since = np.maximum(times_ms - self._starts[index], 0.0)
        fade = np.exp(-since / self._response)[:, None].astype(np.float32)
        return (current + (previous - current) * fade).astype(np.float32)

    def frame(self, t_ms: float, exposure_ms: float, rolling_ms: float, height: int) -> F32:
        """Light integrated over one frame's exposure: (1, 1, 3), or (height, 1, 3) per row band when a rolling
        shutter reads the rows at different times."""
        bands = 12 if rolling_ms > 0 else 1
        offsets = ((np.arange(bands) + 0.5) / bands - 0.5) * rolling_ms
        sub = np.linspace(-exposure_ms, 0.0, 5)
        times = (t_ms + offsets[:, None] + sub[None, :]).ravel()
        light = self.at(times).reshape(bands, 5, 3).mean(axis=1)
        if bands == 1:
            return np.asarray(light.reshape(1, 1, 3), dtype=np.float32)
        rows = cv2.resize(light.reshape(bands, 1, 3), (1, height), interpolation=cv2.INTER_LINEAR)
        return np.asarray(rows, dtype=np.float32).reshape(height, 1, 3)


def _frame_times(
    challenge: Challenge, conditions: Conditions, rng: np.random.Generator, *, regular: bool = False
) -> list[float]:
    """Capture times on the challenge clock: about `target_fps`, jittered, with dropped frames; a virtual camera
    may deliver perfectly regular ones."""
    period = 1000.0 / challenge.target_fps
    start = float(rng.uniform(5.0, period))
    count = int((challenge.total_ms - start) // period) + 1
    base = start + period * np.arange(count)
    if regular:
        times = base
    else:
        jitter = np.clip(rng.normal(0.0, conditions.frame_jitter_ms, count), -0.4 * period, 0.4 * period)
        keep = rng.random(count) >= conditions.drop_rate
        keep[0] = True
        times = (base + jitter)[keep]
    times = times[times <= challenge.total_ms][: challenge.max_frames]
    return [round(float(t), 3) for t in times]


def _smooth(rng: np.random.Generator, t_s: NDArray[np.float64], amplitude: float, hz: tuple[float, float]) -> F32:
    """A smooth random signal of about `amplitude` RMS: a few sinusoids with random frequencies and phases."""
    if amplitude <= 0:
        return np.zeros(len(t_s), dtype=np.float32)
    out = np.zeros(len(t_s))
    for _ in range(3):
        freq = rng.uniform(*hz)
        out += math.sqrt(2.0 / 3.0) * np.sin(2 * math.pi * freq * t_s + rng.uniform(0, 2 * math.pi))
    return (amplitude * out).astype(np.float32)


def _ease(t_ms: NDArray[np.float64], start: float, duration: float) -> NDArray[np.float64]:
    x = np.clip((t_ms - start) / duration, 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(math.pi * x)


@dataclass(frozen=True, slots=True)
class _Motion:
    """Per-frame poses of the subject and shakes of the camera."""

    poses: list[Pose]
    shakes: list[Shake]
    rest: Pose


def _motion(
    times: Sequence[float],
    rng: np.random.Generator,
    *,
    rest: Pose,
    prompt: MotionPrompt | None,
    prompt_at_ms: float,
    jitter_deg: float,
    jitter_cm: float,
    tremor_px: float,
    turn_deg: tuple[float, float] = (15.0, 28.0),
    closer: tuple[float, float] = (0.6, 0.72),
) -> _Motion:
    t = np.asarray(times, dtype=np.float64)
    ts = t / 1000.0
    rad = math.pi / 180.0
    yaw = rest.yaw + _smooth(rng, ts, jitter_deg * rad, (0.2, 1.2))
    pitch = rest.pitch + _smooth(rng, ts, jitter_deg * rad, (0.2, 1.2))
    roll = rest.roll + _smooth(rng, ts, 0.5 * jitter_deg * rad, (0.2, 1.0))
    tx = rest.tx + _smooth(rng, ts, jitter_cm, (0.1, 0.8))
    ty = rest.ty + _smooth(rng, ts, jitter_cm, (0.1, 0.8))
    distance = rest.distance + _smooth(rng, ts, jitter_cm, (0.1, 0.6))
    if prompt is not None:
        start = prompt_at_ms + float(rng.uniform(*REACTION_MS))
        ease = _ease(t, start, float(rng.uniform(*TURN_MS)))
        if prompt is MotionPrompt.MOVE_CLOSER:
            distance = distance * (1.0 - (1.0 - float(rng.uniform(*closer))) * ease)
            pitch = pitch + ease * float(rng.uniform(-4.0, 4.0)) * rad
        else:
            # The user's left is the camera's right: turning left sends the nose toward image +x.
            sign = 1.0 if prompt is MotionPrompt.TURN_LEFT else -1.0
            yaw = yaw + sign * ease * float(rng.uniform(*turn_deg)) * rad
            pitch = pitch + ease * float(rng.uniform(-3.0, 3.0)) * rad
    shake_x = _smooth(rng, ts, tremor_px, (1.0, 6.0))
    shake_y = _smooth(rng, ts, tremor_px, (1.0, 6.0))
    shake_r = _smooth(rng, ts, tremor_px / 400.0, (0.5, 3.0))
    poses = [
        Pose(float(a), float(b), float(c), float(d), float(e), float(f))
        for a, b, c, d, e, f in zip(yaw, pitch, roll, tx, ty, distance, strict=True)
    ]
    shakes = [Shake(float(a), float(b), float(c)) for a, b, c in zip(shake_x, shake_y, shake_r, strict=True)]
    return _Motion(poses, shakes, rest)


def _camera(challenge: Challenge, conditions: Conditions) -> Camera:
    width = challenge.frame_width
    focal = conditions.face_size * width * conditions.distance_cm / FACE_WIDTH_CM
    return Camera(width=width, height=challenge.frame_height, focal=focal)


def _rest_pose(camera: Camera, conditions: Conditions, distance: float) -> Pose:
    ox, oy = conditions.face_offset
    yaw, pitch, roll = (math.radians(a) for a in conditions.head_pose_deg)
    return Pose(
        yaw=yaw,
        pitch=pitch,
        roll=roll,
        tx=ox * camera.width * distance / camera.focal,
        ty=oy * camera.width * distance / camera.focal,
        distance=distance,
    )


def _pipeline(rng: np.random.Generator, camera: Camera, conditions: Conditions) -> CameraPipeline:
    return CameraPipeline.create(
        rng,
        (camera.width, camera.height),
        ae_tau_s=conditions.ae_tau_s,
        awb_tau_s=conditions.awb_tau_s,
        awb_strength=conditions.awb_strength,
        shot_noise=conditions.shot_noise,
        read_noise=conditions.read_noise,
    )


def _ambient(conditions: Conditions) -> F32:
    return (kelvin_to_rgb(conditions.ambient_kelvin) * np.float32(conditions.ambient)).reshape(1, 1, 3)


def _head_surface(head: HeadModel, distance: float) -> Surface:
    return Surface(
        texture=head.albedo,
        geometry=head.geometry,
        origin=head.origin,
        ppc=head.ppc,
        pivot_z=-9.0,
        shininess=25.0,
        photo_distance=distance,
    )


def _compose(
    front: Rendered,
    back: F32,
    ambient: F32,
    screen: F32,
    far: float,
    specular: float,
    *,
    glow: F32 | None = None,
) -> F32:
    """Radiance of the frame: the front surface lit by the room and the screen (or, with `glow`, emitting it),
    over the far background, which the screen barely reaches."""
    if glow is None:
        lit = front.light[..., None] * screen
        lit += ambient
        lit *= front.texture
    else:
        lit = front.light[..., None] * screen
        lit += ambient
        lit *= np.float32(0.005)  # the little a dark screen diffuses
        lit += glow
    lit += (np.float32(specular) * front.specular)[..., None] * screen
    back_lit = back * (ambient + np.float32(far) * screen)
    lit -= back_lit
    lit *= front.alpha[..., None]
    lit += back_lit
    return lit


def _far(conditions: Conditions) -> float:
    return (REFERENCE_DISTANCE_CM / conditions.background_distance_cm) ** 2


def _render_live(
    head: HeadModel,
    camera: Camera,
    conditions: Conditions,
    times: Sequence[float],
    motion: _Motion,
    light: ScreenLight | None,
    rng: np.random.Generator,
) -> list[NDArray[np.uint8]]:
    """A real head in front of the screen (or, with `light` None, in front of nothing that lights it)."""
    surface = _head_surface(head, motion.rest.distance)
    pipeline = _pipeline(rng, camera, conditions)
    ambient = _ambient(conditions)
    dark = np.zeros((1, 1, 3), dtype=np.float32)
    out = []
    for t, pose, shake in zip(times, motion.poses, motion.shakes, strict=True):
        seen = render_surface(surface, pose, camera, shake)
        matrix = background_matrix(surface, motion.rest, camera, shake)
        back = np.asarray(
            cv2.warpAffine(
                head.background,
                matrix,
                (camera.width, camera.height),
                flags=cv2.INTER_LINEAR,
                borderMode=cv2.BORDER_REFLECT,
            ),
            np.float32,
        )
        screen = (
            dark
            if light is None
            else light.frame(t, conditions.exposure_ms, conditions.rolling_shutter_ms, camera.height)
        )
        radiance = _compose(seen, back, ambient, screen, _far(conditions), conditions.specular)
        out.append(pipeline.process(radiance, t))
    return out


def _room(rng: np.random.Generator, camera: Camera) -> F32:
    """An attacker's room behind the print or screen: smooth walls and furniture, linear albedo."""
    grey = rng.uniform(0.05, 0.5, size=(4, 5, 1)).astype(np.float32)
    coarse = grey * rng.uniform(0.8, 1.2, size=(4, 5, 3)).astype(np.float32)
    coarse *= rng.uniform(0.85, 1.0, size=(1, 1, 3)).astype(np.float32)
    room = cv2.resize(coarse, (camera.width, camera.height), interpolation=cv2.INTER_CUBIC)
    detail = cv2.resize(
        rng.uniform(0.85, 1.15, size=(camera.height // 8, camera.width // 8, 1)).astype(np.float32),
        (camera.width, camera.height),
        interpolation=cv2.INTER_LINEAR,
    )
    return np.asarray(np.clip(room * detail[..., None], 0.01, 0.9), dtype=np.float32)


def _shaken(room: F32, camera: Camera, shake: Shake) -> F32:
    cx, cy = camera.center
    matrix = cv2.getRotationMatrix2D((cx, cy), math.degrees(shake.rotation), 1.0)
    matrix[:, 2] += np.array([shake.dx, shake.dy])
    return np.asarray(
        cv2.warpAffine(
            room, matrix, (camera.width, camera.height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        ),
        np.float32,
    )


def _flat_geometry(height: int, width: int, ppc: float, curve_radius_cm: float | None, axis_deg: float = 0.0) -> F32:
    geometry = np.zeros((height, width, 4), dtype=np.float32)
    geometry[..., 1] = 1.0
    if curve_radius_cm is not None:
        # Paper bent around an axis through its centre, `axis_deg` from the vertical: a cylinder, the paper away from
        # (or toward) the camera across the axis and straight along it.
        angle = math.radians(axis_deg)
        x = (np.arange(width, dtype=np.float32) - (width - 1) / 2.0) / np.float32(ppc)
        y = (np.arange(height, dtype=np.float32) - (height - 1) / 2.0) / np.float32(ppc)
        radius = abs(curve_radius_cm)
        sign = -1.0 if curve_radius_cm > 0 else 1.0
        across = np.clip(
            x[None, :] * np.float32(math.cos(angle)) + y[:, None] * np.float32(math.sin(angle)),
            -0.95 * radius,
            0.95 * radius,
        )
        depth = sign * (radius - np.sqrt(radius * radius - across * across))
        slope = sign * across / np.sqrt(radius * radius - across * across)
        norm = np.sqrt(slope * slope + 1.0)
        geometry[..., 0] = depth
        geometry[..., 2] = -slope * np.float32(math.cos(angle)) / norm
        geometry[..., 3] = -slope * np.float32(math.sin(angle)) / norm
    return geometry


def _window(image: F32, x0: int, y0: int, x1: int, y1: int, border: int) -> F32:
    """`image[y0:y1, x0:x1]`, the part beyond the image's edges filled by `border` (constant: zero)."""
    h, w = image.shape[:2]
    inside = image[max(y0, 0) : min(y1, h), max(x0, 0) : min(x1, w)]
    pads = (max(0, -y0), max(0, y1 - h), max(0, -x0), max(0, x1 - w))
    return np.asarray(cv2.copyMakeBorder(inside, *pads, border, value=0.0), np.float32)


def _print_surface(
    head: HeadModel,
    rng: np.random.Generator,
    *,
    scale: float,
    curve_radius_cm: float | None,
    cutout: bool = False,
    axis_deg: float = 0.0,
) -> tuple[Surface, float]:
    """The photo printed on paper: a crop around the face, printed with ink gamma, limited density, a paper tint
    and halftone softness; with `cutout`, the paper cut along the head's outline (hair included). Returns the
    surface and its specular strength (glossy or matte paper)."""
    ppc_photo = head.ppc
    u0, v0 = head.origin
    half_w = float(rng.uniform(1.3, 2.4)) * 0.5 * FACE_WIDTH_CM * ppc_photo
    half_h = half_w * float(rng.uniform(1.2, 1.45))
    x0, x1 = round(u0 - half_w), round(u0 + half_w)
    y0, y1 = round(v0 - half_h * 0.9), round(v0 + half_h * 1.1)
    srgb = np.clip(head.albedo, 0.0, 1.0) ** (1 / 2.2)
    pad = 2
    crop = _window(srgb, x0, y0, x1, y1, cv2.BORDER_REFLECT)
    gamma = float(rng.uniform(1.8, 2.5))
    white = float(rng.uniform(0.75, 0.9))
    black = float(rng.uniform(0.02, 0.06))
    tint = rng.uniform(0.95, 1.03, size=3).astype(np.float32)
    printed = (black + (white - black) * crop**gamma) * tint
    softness = float(rng.uniform(0.3, 1.2)) * ppc_photo / 10.0
    printed = np.asarray(cv2.GaussianBlur(printed.astype(np.float32), (0, 0), max(softness, 0.3)), np.float32)
    texture = np.zeros((printed.shape[0] + 2 * pad, printed.shape[1] + 2 * pad, 4), dtype=np.float32)
    texture[pad:-pad, pad:-pad, :3] = printed
    texture[pad:-pad, pad:-pad, 3] = 1.0
    if cutout:
        weight = _window(np.ascontiguousarray(head.geometry[..., 1]), x0, y0, x1, y1, cv2.BORDER_CONSTANT)
        texture[pad:-pad, pad:-pad, 3] = (weight > 0.5).astype(np.float32)
    ppc = ppc_photo / scale
    origin = (u0 - x0 + pad, v0 - y0 + pad)
    geometry = _flat_geometry(texture.shape[0], texture.shape[1], ppc, curve_radius_cm, axis_deg)
    if curve_radius_cm is not None:
        # The bend is about the paper's centre column; the face may sit off it.
        geometry[..., 0] -= geometry[round(origin[1]), round(origin[0]), 0]
    glossy = rng.random() < 0.4
    surface = Surface(
        texture=texture,
        geometry=geometry,
        origin=origin,
        ppc=ppc,
        pivot_z=0.0,
        shininess=60.0 if glossy else 6.0,
        border=cv2.BORDER_CONSTANT,
    )
    return surface, float(rng.uniform(0.04, 0.12) if glossy else rng.uniform(0.005, 0.02))


def _render_flat_attack(
    surface: Surface,
    specular: float,
    camera: Camera,
    conditions: Conditions,
    times: Sequence[float],
    motion: _Motion,
    light: ScreenLight,
    rng: np.random.Generator,
    *,
    emission: Callable[[int], F32] | None = None,
    moire: F32 | None = None,
) -> list[NDArray[np.uint8]]:
    """A print (reflecting paper) or, with `emission`, a screen showing frames of its own, over a room."""
    pipeline = _pipeline(rng, camera, conditions)
    ambient = _ambient(conditions)
    room = _room(rng, camera)
    out = []
    for k, (t, pose, shake) in enumerate(zip(times, motion.poses, motion.shakes, strict=True)):
        if emission is not None:
            surface = replace(surface, texture=emission(k))
        seen = render_surface(surface, pose, camera, shake)
        screen = light.frame(t, conditions.exposure_ms, conditions.rolling_shutter_ms, camera.height)
        glow = None
        if emission is not None:
            # The pixel grid beats with the sensor's: moire on the screen's own light.
            glow = seen.texture if moire is None else seen.texture * moire
        radiance = _compose(seen, _shaken(room, camera, shake), ambient, screen, _far(conditions), specular, glow=glow)
        out.append(pipeline.process(radiance, t))
    return out


def _moire(rng: np.random.Generator, camera: Camera) -> F32:
    """Beat pattern between the display's pixel grid and the sensor's: low-frequency stripes of a few percent."""
    yy, xx = np.mgrid[0 : camera.height, 0 : camera.width].astype(np.float32)
    pattern = np.ones((camera.height, camera.width), dtype=np.float32)
    for _ in range(2):
        period = float(rng.uniform(5.0, 24.0))
        angle = float(rng.uniform(0.0, math.pi))
        phase = float(rng.uniform(0.0, 2 * math.pi))
        wave = np.sin(2 * math.pi * (xx * math.cos(angle) + yy * math.sin(angle)) / period + phase)
        pattern += np.float32(rng.uniform(0.02, 0.07)) * wave
    return pattern[..., None]


def simulate_capture(
    head: HeadModel,
    challenge: Challenge,
    species: Species | str = Species.BONA_FIDE,
    *,
    conditions: Conditions | None = None,
    rng: np.random.Generator | int | None = None,
    variant: str | None = None,
) -> SimulatedCapture:
    """Render one capture of `species` for `challenge` from `head`. Deterministic for a given `rng` seed.
    `conditions` default to the typical indoor `Conditions()`; `variant` to one drawn from `VARIANTS`."""
    species = Species(species)
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    cond = conditions or Conditions()
    choices = VARIANTS[species]
    chosen = variant if variant is not None else choices[int(gen.integers(len(choices)))]
    known = known_variants(species)
    if chosen not in known:
        raise ValueError(f"unknown variant {chosen!r} for {species.value}; expected one of {known}")
    camera = _camera(challenge, cond)
    light = ScreenLight(
        challenge,
        brightness=cond.screen_brightness,
        latency_ms=cond.display_latency_ms,
        response_ms=cond.display_response_ms,
    )
    regular = species is Species.INJECTION and gen.random() < 0.5
    times = _frame_times(challenge, cond, gen, regular=regular)
    prompt = challenge.motion
    flash_end = float(challenge.flash_end_ms)

    def live_motion() -> _Motion:
        # A person in front of the camera (or in the injected video), performing the prompt after the flash.
        return _motion(
            times,
            gen,
            rest=_rest_pose(camera, cond, cond.distance_cm),
            prompt=prompt,
            prompt_at_ms=flash_end,
            jitter_deg=cond.head_jitter_deg,
            jitter_cm=cond.head_jitter_cm,
            tremor_px=cond.tremor_px,
        )

    if species is Species.BONA_FIDE:
        motion = live_motion()
        images = _render_live(head, camera, cond, times, motion, light, gen)
    elif species is Species.INJECTION:
        # A virtual camera: a live-looking face (even performing the prompt), lit by anything but our screen.
        other = random_challenge(gen, challenge.mode) if chosen == "other_sequence" else None
        fake_light = (
            None
            if other is None
            else ScreenLight(other, brightness=cond.screen_brightness, latency_ms=0.0, response_ms=1.0)
        )
        motion = live_motion()
        # Without a screen's light (fake_light None) the source video's camera exposed for the room alone.
        images = _render_live(head, camera, cond, times, motion, fake_light, gen)
    elif species in (Species.PRINT, Species.PHOTO_STILL):
        images = _render_print(
            head, camera, cond, times, gen, chosen, prompt, flash_end, light, still=species is Species.PHOTO_STILL
        )
    else:
        images = _render_replay(head, challenge, camera, cond, times, gen, chosen, light)

    frames = [encode_jpeg(image, cond.jpeg_quality) for image in images]
    metadata = {"frames": [{"timestampMs": t, "stepIndex": challenge.step_at(t)} for t in times]}
    return SimulatedCapture(label=species.value, frames=frames, metadata=metadata, variant=chosen)


def _render_print(
    head: HeadModel,
    camera: Camera,
    cond: Conditions,
    times: Sequence[float],
    rng: np.random.Generator,
    variant: str,
    prompt: MotionPrompt | None,
    flash_end: float,
    light: ScreenLight,
    *,
    still: bool,
) -> list[NDArray[np.uint8]]:
    scale = float(rng.uniform(0.6, 1.1))
    curve = None
    if variant in ("curved", "curved_cutout"):
        curve = float(rng.uniform(12.0, 35.0)) * (1.0 if rng.random() < 0.7 else -1.0)
    elif variant in ("wrapped_cutout", "diagonal_cutout"):
        # Around a bottle, bulging toward the camera like a head (the sides turn away).
        curve = float(rng.uniform(5.0, 9.0))
    # The diagonal cut-out lies across the bottle at a slant: curved both across the face and along it.
    axis = float(rng.uniform(30.0, 60.0)) * float(rng.choice([-1.0, 1.0])) if variant == "diagonal_cutout" else 0.0
    cutout = variant in ("curved_cutout", "wrapped_cutout", "diagonal_cutout")
    surface, specular = _print_surface(head, rng, scale=scale, curve_radius_cm=curve, cutout=cutout, axis_deg=axis)
    # Held where its printed face looks as big as a real face would.
    rest = _rest_pose(camera, cond, cond.distance_cm * scale)
    if variant == "tilted":
        rest = replace(
            rest,
            yaw=math.radians(rng.uniform(12.0, 35.0)) * rng.choice([-1.0, 1.0]),
            pitch=math.radians(rng.uniform(-20.0, 20.0)),
        )
    if still:
        motion = _motion(
            times, rng, rest=rest, prompt=None, prompt_at_ms=flash_end, jitter_deg=0.0, jitter_cm=0.0, tremor_px=0.0
        )
    else:
        hand = 3.0 if variant == "moving" else 1.0
        motion = _motion(
            times,
            rng,
            rest=rest,
            prompt=prompt,
            prompt_at_ms=flash_end,
            jitter_deg=hand * float(rng.uniform(0.5, 1.5)),
            jitter_cm=hand * float(rng.uniform(0.1, 0.4)),
            tremor_px=cond.tremor_px,
        )
    return _render_flat_attack(surface, specular, camera, cond, times, motion, light, rng)


def _render_replay(
    head: HeadModel,
    challenge: Challenge,
    camera: Camera,
    cond: Conditions,
    times: Sequence[float],
    rng: np.random.Generator,
    variant: str,
    light: ScreenLight,
) -> list[NDArray[np.uint8]]:
    """A screen playing a bona fide recording made for another challenge (another attempt or session)."""
    recorded_challenge = random_challenge(rng, challenge.mode)
    recorded_cond = sample_conditions(rng)
    recorded_cam = _camera(challenge, recorded_cond)
    offset = float(rng.uniform(-400.0, 400.0))
    recorded_times = [t + offset for t in times]
    recorded_light = ScreenLight(
        recorded_challenge,
        brightness=recorded_cond.screen_brightness,
        latency_ms=recorded_cond.display_latency_ms,
        response_ms=recorded_cond.display_response_ms,
    )
    rec_motion = _motion(
        recorded_times,
        rng,
        rest=_rest_pose(recorded_cam, recorded_cond, recorded_cond.distance_cm),
        prompt=recorded_challenge.motion,
        prompt_at_ms=float(recorded_challenge.flash_end_ms),
        jitter_deg=recorded_cond.head_jitter_deg,
        jitter_cm=recorded_cond.head_jitter_cm,
        tremor_px=recorded_cond.tremor_px,
    )
    recording = _render_live(head, recorded_cam, recorded_cond, recorded_times, rec_motion, recorded_light, rng)

    screen_cm = float(rng.uniform(20.0, 26.0)) if variant == "tablet" else float(rng.uniform(11.0, 15.0))
    bezel = max(2, round(camera.width * float(rng.uniform(0.0, 0.06))))
    height, width = recording[0].shape[:2]
    ppc = width / screen_cm
    gamma = float(rng.uniform(2.0, 2.4))
    # The attacker turns the brightness up so the face is well exposed against the room.
    level = np.float32((cond.ambient + 0.6) * rng.uniform(0.7, 1.2) * 0.9)
    # Displayed face width on the glass, and the distance at which it fills our frame like a real face.
    displayed_face_cm = recorded_cond.face_size * screen_cm
    distance = displayed_face_cm * camera.focal / (cond.face_size * camera.width)
    rest = _rest_pose(camera, cond, distance)
    rest = replace(rest, tx=rest.tx * 0.3, ty=rest.ty * 0.3)
    geometry = _flat_geometry(height + 2 * bezel, width + 2 * bezel, ppc, None)
    lut = srgb_to_linear(np.arange(256, dtype=np.uint8)) ** np.float32(gamma / 2.2)

    def emission(k: int) -> F32:
        texture = np.zeros((height + 2 * bezel, width + 2 * bezel, 4), dtype=np.float32)
        texture[..., 3] = 1.0
        texture[bezel : bezel + height, bezel : bezel + width, :3] = lut[recording[k]] * level
        return texture

    surface = Surface(
        texture=emission(0),
        geometry=geometry,
        origin=((width - 1) / 2.0 + bezel, (height - 1) / 2.0 + bezel),
        ppc=ppc,
        pivot_z=0.0,
        shininess=40.0,
        border=cv2.BORDER_CONSTANT,
    )
    motion = _motion(
        times,
        rng,
        rest=rest,
        prompt=None,
        prompt_at_ms=float(challenge.flash_end_ms),
        jitter_deg=float(rng.uniform(0.3, 1.5)),
        jitter_cm=float(rng.uniform(0.05, 0.4)),
        tremor_px=cond.tremor_px,
    )
    glare = float(rng.uniform(0.002, 0.01))
    return _render_flat_attack(
        surface, glare, camera, cond, times, motion, light, rng, emission=emission, moire=_moire(rng, camera)
    )
