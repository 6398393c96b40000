"""The renderer: projects a textured depth surface through a pinhole camera, lights it with the screen, and runs
the phone camera's pipeline (auto exposure, auto white balance, noise, gamma, JPEG)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

__all__ = ["Camera", "CameraPipeline", "Pose", "Shake", "Surface", "background_matrix", "encode_jpeg", "render_surface"]

F32 = NDArray[np.float32]

#: Distance at which `Conditions.screen_brightness` is the screen's illuminance (the unit of all light levels).
REFERENCE_DISTANCE_CM = 35.0
#: The screen's centre sits this far below the camera (Y grows downward): the camera is in the top bezel.
SCREEN_BELOW_CAMERA_CM = 6.0
# Coarse grid step (pixels) on which the inverse projection and the shading are solved, then upsampled: both
# vary smoothly, and this keeps a 480x360 frame at about 11k solves.
_STEP = 4
_NEWTON_ITERATIONS = 4
# A near area light wraps light slightly past 90 degrees: a softer terminator than a point light.
_WRAP = 0.2


@dataclass(frozen=True, slots=True, eq=False)
class Surface:
    """A rigid textured surface. `texture` is linear (albedo, or emission for a screen), with an optional 4th
        channel of coverage; `geometry` is depth (cm, toward the camera), weight (share of rigid motion, 0 = far
        background), normal x and y; `origin` the texture pixel at the surface's (0, 0), `ppc` pixels per cm;
        rotations turn about (0, 0, `pivot_z`). A `photo_distance` > 0 reads the texture as a perspective photo
    taken from that distance (points behind the eyes' plane look smaller in it), so the head at rest matches
    the photo it came from; 0 reads it as an orthographic picture (prints, screens)."""

    texture: F32
    geometry: F32
    origin: tuple[float, float]
    ppc: float
    pivot_z: float = -9.0
    shininess: float = 30.0
    border: int = cv2.BORDER_REFLECT
    photo_distance: float = 0.0


@dataclass(frozen=True, slots=True)
class Pose:
    """Rotation (radians; yaw > 0 turns the nose toward image +x, pitch > 0 nods down) and position: `tx`, `ty`
    (cm, image axes) of the surface's origin, `distance` from the camera (cm)."""

    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    tx: float = 0.0
    ty: float = 0.0
    distance: float = 38.0

    def matrix(self) -> NDArray[np.float64]:
        cy, sy = math.cos(self.yaw), math.sin(self.yaw)
        cp, sp = math.cos(self.pitch), math.sin(self.pitch)
        cr, sr = math.cos(self.roll), math.sin(self.roll)
        ry = np.array([[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]])
        rx = np.array([[1.0, 0.0, 0.0], [0.0, cp, sp], [0.0, -sp, cp]])
        rz = np.array([[cr, -sr, 0.0], [sr, cr, 0.0], [0.0, 0.0, 1.0]])
        return np.asarray(rz @ ry @ rx, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class Shake:
    """The hand-held camera's motion in the image: shift (pixels) and rotation (radians) about the centre."""

    dx: float = 0.0
    dy: float = 0.0
    rotation: float = 0.0


@dataclass(frozen=True, slots=True)
class Camera:
    width: int
    height: int
    focal: float

    @property
    def center(self) -> tuple[float, float]:
        return (self.width - 1) / 2.0, (self.height - 1) / 2.0


@dataclass(frozen=True, slots=True, eq=False)
class Rendered:
    """One surface seen by the camera: its texture resampled to the frame, the screen-light geometry factor
    (irradiance per unit screen brightness), the specular factor and the coverage."""

    texture: F32
    light: F32
    specular: F32
    alpha: F32


def _coarse_grid(camera: Camera) -> tuple[F32, F32]:
    # Block centres, so cv2.resize's half-pixel convention maps them back onto the right output pixels.
    xs = (np.arange(camera.width // _STEP, dtype=np.float32) + 0.5) * _STEP - 0.5
    ys = (np.arange(camera.height // _STEP, dtype=np.float32) + 0.5) * _STEP - 0.5
    gx, gy = np.meshgrid(xs, ys)
    return gx.astype(np.float32), gy.astype(np.float32)


def render_surface(surface: Surface, pose: Pose, camera: Camera, shake: Shake) -> Rendered:
    """Resample `surface` as the camera sees it in `pose`. The inverse projection is solved by Newton iterations
    on a coarse grid: depth makes the forward map non-linear, and the nose's parallax comes from exactly this."""
    qx, qy = _coarse_grid(camera)
    cx, cy = camera.center
    # Undo the camera shake first: it is a rigid image motion.
    cs, ss = math.cos(shake.rotation), math.sin(shake.rotation)
    ux, uy = qx - cx - shake.dx, qy - cy - shake.dy
    tx_img = (cs * ux + ss * uy).astype(np.float32)
    ty_img = (-ss * ux + cs * uy).astype(np.float32)

    rot = pose.matrix()
    f = camera.focal
    u0, v0 = surface.origin
    ppc = surface.ppc
    # Initial guess: the flat surface at the pose's distance.
    u = (u0 + ppc * (tx_img * pose.distance / f - pose.tx)).astype(np.float32)
    v = (v0 + ppc * (ty_img * pose.distance / f - pose.ty)).astype(np.float32)
    limit = 4.0 * ppc
    for _ in range(_NEWTON_ITERATIONS):
        geo = _sample(surface.geometry, u, v)
        px, py, _, depth_cam = _points(u, v, geo[..., 0], surface, pose, rot)
        inv_d = 1.0 / depth_cam
        ex = tx_img - f * px * inv_d
        ey = ty_img - f * py * inv_d
        # Jacobian of the projection w.r.t. (u, v), holding depth fixed (the depth slope only slows convergence).
        k = f * inv_d * inv_d
        j00 = k * (rot[0, 0] * depth_cam + px * rot[2, 0])
        j01 = k * (rot[0, 1] * depth_cam + px * rot[2, 1])
        j10 = k * (rot[1, 0] * depth_cam + py * rot[2, 0])
        j11 = k * (rot[1, 1] * depth_cam + py * rot[2, 1])
        det = j00 * j11 - j01 * j10
        det = np.where(np.abs(det) < 1e-6, 1e-6, det)
        # Near a silhouette the map folds and Newton can overshoot: bound each step.
        u = (u + np.clip(ppc * (j11 * ex - j01 * ey) / det, -limit, limit)).astype(np.float32)
        v = (v + np.clip(ppc * (-j10 * ex + j00 * ey) / det, -limit, limit)).astype(np.float32)

    geo = _sample(surface.geometry, u, v)
    light, spec, alpha = _shade(u, v, geo, surface, pose, rot)
    coarse = np.stack([u, v, light, spec, alpha], axis=-1)
    full = np.asarray(cv2.resize(coarse, (camera.width, camera.height), interpolation=cv2.INTER_LINEAR), np.float32)
    texture = np.asarray(
        cv2.remap(
            surface.texture, full[..., 0], full[..., 1], cv2.INTER_LINEAR, borderMode=surface.border, borderValue=0
        ),
        np.float32,
    )
    if texture.shape[2] == 4:
        coverage = texture[..., 3] * full[..., 4]
        texture = texture[..., :3]
    else:
        coverage = full[..., 4]
    return Rendered(texture=texture, light=full[..., 2], specular=full[..., 3], alpha=coverage)


def background_matrix(surface: Surface, rest: Pose, camera: Camera, shake: Shake) -> NDArray[np.float64]:
    """The affine map (2x3, texture to frame) of the surface's texture seen flat at `rest`: the far background
    of a photo stays where it is and moves only with the camera."""
    k = camera.focal / (rest.distance * surface.ppc)
    u0, v0 = surface.origin
    cx, cy = camera.center
    ox, oy = camera.focal * rest.tx / rest.distance, camera.focal * rest.ty / rest.distance
    base = np.array([[k, 0.0, ox - k * u0], [0.0, k, oy - k * v0], [0.0, 0.0, 1.0]])
    cs, ss = math.cos(shake.rotation), math.sin(shake.rotation)
    shaken = np.array([[cs, -ss, cx + shake.dx], [ss, cs, cy + shake.dy], [0.0, 0.0, 1.0]])
    return np.asarray((shaken @ base)[:2], dtype=np.float64)


def _sample(field_: F32, u: F32, v: F32) -> F32:
    return np.asarray(cv2.remap(field_, u, v, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE), np.float32)


def _points(
    u: F32, v: F32, z: F32, surface: Surface, pose: Pose, rot: NDArray[np.float64]
) -> tuple[F32, F32, F32, F32]:
    x = (u - surface.origin[0]) / surface.ppc
    y = (v - surface.origin[1]) / surface.ppc
    if surface.photo_distance > 0:
        spread = (surface.photo_distance - z) / surface.photo_distance
        x, y = x * spread, y * spread
    zc = z - surface.pivot_z
    px = rot[0, 0] * x + rot[0, 1] * y + rot[0, 2] * zc + pose.tx
    py = rot[1, 0] * x + rot[1, 1] * y + rot[1, 2] * zc + pose.ty
    pz = rot[2, 0] * x + rot[2, 1] * y + rot[2, 2] * zc + surface.pivot_z
    depth_cam = np.maximum(pose.distance - pz, 1.0)
    return px, py, pz, depth_cam


def _shade(u: F32, v: F32, geo: F32, surface: Surface, pose: Pose, rot: NDArray[np.float64]) -> tuple[F32, F32, F32]:
    """Irradiance from the screen (a near light beside the camera) per unit screen brightness, the specular
    lobe, and coverage. Light falls off with the square of the distance and with the angle to the screen."""
    px, py, pz, _ = _points(u, v, geo[..., 0], surface, pose, rot)
    w = geo[..., 1]
    nx0, ny0 = geo[..., 2], geo[..., 3]
    nz0 = np.sqrt(np.clip(1.0 - nx0 * nx0 - ny0 * ny0, 0.0, 1.0))
    nx = rot[0, 0] * nx0 + rot[0, 1] * ny0 + rot[0, 2] * nz0
    ny = rot[1, 0] * nx0 + rot[1, 1] * ny0 + rot[1, 2] * nz0
    nz = rot[2, 0] * nx0 + rot[2, 1] * ny0 + rot[2, 2] * nz0
    lx, ly, lz = -px, SCREEN_BELOW_CAMERA_CM - py, pose.distance - pz
    r2 = lx * lx + ly * ly + lz * lz
    r = np.sqrt(r2)
    lx, ly, lz = lx / r, ly / r, lz / r
    ndl = nx * lx + ny * ly + nz * lz
    falloff = REFERENCE_DISTANCE_CM**2 / r2
    # lz is the cosine at the screen: a screen emits less toward oblique points.
    head = falloff * np.clip((ndl + _WRAP) / (1.0 + _WRAP), 0.0, None) * np.clip(lz, 0.0, None)
    light = head
    # Viewer at the camera; half vector between the view and the light directions.
    vx, vy, vz = -px, -py, pose.distance - pz
    vn = np.sqrt(vx * vx + vy * vy + vz * vz)
    hx, hy, hz = lx + vx / vn, ly + vy / vn, lz + vz / vn
    hn = np.sqrt(hx * hx + hy * hy + hz * hz)
    ndh = np.clip((nx * hx + ny * hy + nz * hz) / hn, 0.0, 1.0)
    spec = falloff * ndh**surface.shininess
    # Surface turning away from the camera fades out: its silhouette, where the inverse map also folds.
    alpha = w * np.clip(10.0 * (nx * vx + ny * vy + nz * vz) / vn, 0.0, 1.0)
    return light.astype(np.float32), spec.astype(np.float32), alpha.astype(np.float32)


@dataclass(slots=True)
class CameraPipeline:
    """A phone camera's processing: auto exposure and auto white balance that adapt with a lag, shot and read
    noise, a gamma curve, 8-bit output. Stateful across the frames of one capture."""

    ae_tau_s: float
    awb_tau_s: float
    awb_strength: float
    shot_noise: float
    read_noise: float
    noise: F32
    rng: np.random.Generator
    target: float = 0.2
    exposure: float = field(default=0.0)
    gains: F32 = field(default_factory=lambda: np.ones(3, dtype=np.float32))
    last_ms: float | None = None

    @classmethod
    def create(
        cls,
        rng: np.random.Generator,
        size: tuple[int, int],
        *,
        ae_tau_s: float,
        awb_tau_s: float,
        awb_strength: float,
        shot_noise: float,
        read_noise: float,
    ) -> CameraPipeline:
        width, height = size
        # One pool of normal deviates per capture, read at random offsets: drawing fresh deviates per frame would
        # cost more than the rest of the rendering.
        noise = rng.standard_normal(width * height * 3 + 65536, dtype=np.float32)
        return cls(ae_tau_s, awb_tau_s, awb_strength, shot_noise, read_noise, noise, rng)

    def process(self, radiance: F32, t_ms: float) -> NDArray[np.uint8]:
        """Expose, balance, add noise and encode one frame of linear `radiance` captured at `t_ms`."""
        sample = radiance[::6, ::6].reshape(-1, 3)
        means = np.maximum(sample.mean(axis=0), 1e-6)
        # Metering favours the centre, where the face usually is.
        h, w = radiance.shape[:2]
        centre = radiance[h // 4 : 3 * h // 4 : 4, w // 4 : 3 * w // 4 : 4].reshape(-1, 3).mean(axis=0)
        luma = float(0.5 * (means @ _LUMA) + 0.5 * (centre @ _LUMA))
        want_exposure = self.target / max(luma, 1e-6)
        grey = float(means.mean())
        want_gains = ((grey / means) ** self.awb_strength).astype(np.float32)
        want_gains /= want_gains[1]
        if self.last_ms is None:
            self.exposure, self.gains = want_exposure, want_gains
        else:
            dt = max(t_ms - self.last_ms, 0.0) / 1000.0
            self.exposure += (want_exposure - self.exposure) * (1.0 - math.exp(-dt / self.ae_tau_s))
            self.gains = self.gains + (want_gains - self.gains) * np.float32(1.0 - math.exp(-dt / self.awb_tau_s))
        self.last_ms = t_ms
        raw = radiance * (self.gains * np.float32(self.exposure))
        np.clip(raw, 0.0, 1.0, out=raw)
        offset = int(self.rng.integers(0, 65536))
        deviates = self.noise[offset : offset + raw.size].reshape(raw.shape)
        sigma = np.sqrt(raw * np.float32(self.shot_noise) + np.float32(self.read_noise**2))
        raw += sigma * deviates
        index = np.clip(raw * (_LUT_SIZE - 1), 0, _LUT_SIZE - 1).astype(np.int16)
        return np.asarray(_GAMMA_LUT[index], dtype=np.uint8)


_LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
_LUT_SIZE = 4096
# The display-referred encoding camera ISPs apply (sRGB's curve is close to a 2.2 gamma).
_GAMMA_LUT = np.round(255.0 * np.linspace(0.0, 1.0, _LUT_SIZE) ** (1 / 2.2)).astype(np.uint8)


def encode_jpeg(image: NDArray[np.uint8], quality: int) -> bytes:
    """RGB uint8 to JPEG bytes (4:2:0 chroma, as browsers' canvas encoders produce)."""
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return bytes(data.tobytes())
