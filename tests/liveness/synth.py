"""Small synthetic captures for the engine's unit tests: a photo turned into a shaded 3D head (an ellipsoid
with a nose) lit by the challenge's screen colours, and flat / non-answering counterparts of it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image

from openliveness.domain import LivenessOperationMode
from openliveness.liveness import PALETTE, Capture, CaptureFrame, Challenge, FlashStep, MotionPrompt
from openliveness.liveness.challenge import MOTION_MS
from openliveness.liveness.signals import screen_colours
from openliveness.liveness.tracking import Keyframe
from openliveness.vision import DetectedFace, FaceAnalyzer, FaceBox, FaceLandmarks, Point

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Scene:
    """A face photo (the albedo) and the surface normals of the head we pretend it is."""

    albedo: FloatArray  # linear RGB
    normals: FloatArray  # HxWx3, z toward the camera and the screen
    on_face: FloatArray  # 1 on the head, 0 on the far background


def astronaut_frame() -> npt.NDArray[np.uint8]:
    """A 480x360 frame with the astronaut's face large enough to be measured."""
    from skimage import data

    crop = data.astronaut()[0:240, 90:410]
    return np.asarray(Image.fromarray(crop).resize((480, 360), Image.Resampling.BILINEAR))


def head_scene(
    analyzer: FaceAnalyzer, image: npt.NDArray[np.uint8], *, flat: bool = False, fills_frame: bool = True
) -> Scene:
    """`flat`: a print of the photo; `fills_frame`: the print covers the whole view (else only the head
    shape, with the room behind)."""
    face = max(analyzer.detect(image), key=lambda f: f.box.area)
    pts = face.landmarks.as_array()
    iod = float(np.hypot(*(pts[1] - pts[0])))
    centre = np.array([pts[:2, 0].mean(), (pts[:2, 1].mean() + pts[3:, 1].mean()) / 2])
    h, w = image.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    a, b, c = 0.95 * iod, 1.5 * iod, 1.0 * iod
    u, v = (xx - centre[0]) / a, (yy - centre[1]) / b
    inside = u**2 + v**2 < 1.0
    z = np.sqrt(np.clip(1.0 - u**2 - v**2, 0.0, None))
    normals = np.dstack([u / a, v / b, z / c])
    normals /= np.linalg.norm(normals, axis=2, keepdims=True)
    # The nose: a ridge from between the eyes to the tip, standing out toward the screen (heights in pixels).
    nose = pts[2]
    d2 = ((xx - nose[0]) / (0.15 * iod)) ** 2 + ((yy - nose[1] + 0.25 * iod) / (0.4 * iod)) ** 2
    height = 0.3 * iod * np.exp(-d2)
    normals[..., 0] -= np.gradient(height, axis=1)
    normals[..., 1] -= np.gradient(height, axis=0)
    normals[~inside] = (0.0, 0.0, 1.0)
    normals /= np.linalg.norm(normals, axis=2, keepdims=True)
    on_face = inside.astype(np.float64)
    if flat:
        normals = np.zeros_like(normals)
        normals[..., 2] = 1.0
        if fills_frame:
            on_face = np.ones_like(on_face)
    albedo = (image.astype(np.float64) / 255.0) ** 2.2
    return Scene(albedo=albedo, normals=normals, on_face=on_face)


def render_capture(
    scene: Scene,
    challenge: Challenge,
    *,
    answer: Challenge | None = None,
    screen_gain: float = 0.8,
    ambient: float = 0.5,
    background_screen: float = 0.08,
    lag_ms: float = 60.0,
    fps: float = 12.0,
    noise: float = 0.01,
    seed: int = 0,
) -> Capture:
    """Frames on the challenge's clock. `answer` is the schedule the pictured light actually follows (another
    challenge for a replay); `screen_gain=0` is an injected stream that no screen lights."""
    rng = np.random.default_rng(seed)
    lit_by = answer or challenge
    times = np.arange(0.0, challenge.total_ms, 1000.0 / fps) + rng.uniform(0, 20)
    colours = screen_colours(lit_by, times, lag_ms, 30.0)
    # Lambert toward the screen; the far background gets a small share of the screen's light.
    facing = np.clip(scene.normals[..., 2], 0.0, None)
    screen_map = facing * (scene.on_face + (1.0 - scene.on_face) * background_screen)
    ambient_map = ambient * (0.7 + 0.3 * np.clip(scene.normals[..., 2] * 0.8 - scene.normals[..., 1] * 0.6, 0, None))
    gain = 1.0
    frames = []
    for t, colour in zip(times, colours, strict=True):
        light = ambient_map[..., None] + screen_gain * screen_map[..., None] * colour[None, None, :]
        linear = scene.albedo * light
        # Auto-exposure: chases a target brightness with a lag of a few frames.
        gain += 0.35 * (0.18 / max(float(linear.mean()), 1e-3) - gain)
        linear = linear * gain * (1.0 + rng.normal(0.0, noise, linear.shape))
        encoded = np.clip(np.clip(linear, 0.0, 1.0) ** (1 / 2.2) * 255.0 + 0.5, 0, 255).astype(np.uint8)
        frames.append(CaptureFrame(image=encoded, timestamp_ms=float(t), step_index=challenge.step_at(t - lag_ms)))
    return Capture(frames=tuple(frames))


def make_challenge(seed: int, mode: LivenessOperationMode = LivenessOperationMode.PASSIVE) -> Challenge:
    """Like `new_challenge`, but from a seeded generator so a failing test can be replayed."""
    rng = np.random.default_rng(seed)
    colours: list[tuple[int, int, int]] = []
    for _ in range(7):
        choices = [c for c in PALETTE if not colours or c != colours[-1]]
        colours.append(choices[int(rng.integers(len(choices)))])
    steps = tuple(FlashStep(color=c, duration_ms=int(rng.integers(280, 481))) for c in colours)
    active = mode is LivenessOperationMode.PASSIVE_ACTIVE
    return Challenge(
        mode=mode,
        steps=steps,
        lead_in_ms=700,
        motion=list(MotionPrompt)[int(rng.integers(3))] if active else None,
        motion_ms=MOTION_MS if active else 0,
    )


def head_points(yaw_deg: float = 0.0, distance: float = 6.0, *, planar: bool = False, shift: float = 0.0) -> FloatArray:
    """The five landmarks of a head (or of a photo of one when `planar`) seen by a 500 px camera, in pixels.
    Units are eye distances; z points at the camera. The nose tip stands 0.55 in front of the eyes' plane."""
    model = np.array(
        [[-0.5, 0.0, 0.0], [0.5, 0.0, 0.0], [0.0, 0.6, 0.55], [-0.4, 1.05, 0.1], [0.4, 1.05, 0.1]], dtype=np.float64
    )
    if planar:
        model[:, 2] = 0.0
    a = np.radians(yaw_deg)
    rot = np.array([[np.cos(a), 0.0, np.sin(a)], [0.0, 1.0, 0.0], [-np.sin(a), 0.0, np.cos(a)]])
    p = model @ rot.T
    p[:, 0] += shift
    depth = distance - p[:, 2]
    return np.stack([240 + 500 * p[:, 0] / depth, 180 + 500 * p[:, 1] / depth], axis=1)


def keyframe_at(index: int, points: FloatArray) -> Keyframe:
    lm = FaceLandmarks(*(Point(float(x), float(y)) for x, y in points))
    x0, y0 = points.min(axis=0) - 20
    x1, y1 = points.max(axis=0) + 20
    box = FaceBox(top=int(y0), left=int(x0), width=int(x1 - x0), height=int(y1 - y0))
    return Keyframe(
        index=index, face=DetectedFace(box=box, landmarks=lm, score=0.99), face_count=1, full_resolution=True
    )
