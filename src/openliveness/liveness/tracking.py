"""Face tracking over a capture: the detector on a few keyframes, landmarks carried to the frames in between by
each frame's measured shift (flash phase) or interpolated (motion phase)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from openliveness.vision import DetectedFace, FaceAnalyzer, FaceBox, FaceLandmarks, Point

from .config import TrackingConfig
from .regions import similarity
from .types import CaptureFrame, Challenge

__all__ = [
    "FaceTrack",
    "Keyframe",
    "align_keyframes",
    "choose_keyframes",
    "register_to_keyframes",
    "registered",
    "track_faces",
]

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
    precise: int | None = None,
    parts: Executor | None = None,
) -> FaceTrack:
    """Detect on keyframes (on `parts`' threads when given), then interpolate the landmarks of the main face by
    frame index (timestamps come from the client and are checked separately, so they do not steer the tracking).
    `precise`: a frame whose landmarks must be a full-resolution detector's (parallax's reference, where its tracked
    points start): the keyframes it is interpolated from are detected at full resolution. `registered` then moves
    the flash phase's frames between keyframes by their measured shifts (the engine calls it after starting
    parallax, which needs only the reference's landmarks)."""
    motion_start = _motion_start(challenge)
    chosen = choose_keyframes(frames, challenge, config)
    full = _bracketing(chosen, precise)

    def detect(index: int) -> Keyframe:
        if index in full:
            side = None
        elif frames[index].timestamp_ms >= motion_start:
            side = config.motion_detect_side
        else:
            side = config.flash_detect_side
        return _detect(analyzer, frames[index].image, index, side, config)

    keyframes = list(map(detect, chosen) if parts is None else parts.map(detect, chosen))
    n = len(frames)
    landmarks = np.full((n, 5, 2), np.nan, dtype=np.float64)
    detections = _detections(keyframes)
    if detections:
        landmarks[:] = _interpolated(detections, range(n))
    return FaceTrack(landmarks=landmarks, keyframes=tuple(keyframes))


def registered(
    track: FaceTrack,
    frames: Sequence[CaptureFrame],
    challenge: Challenge,
    config: TrackingConfig,
    *,
    parts: Executor | None = None,
) -> FaceTrack:
    """`track` with its flash-phase keyframes placed by `align_keyframes` (when `config.align_keyframes`), the
    frames between interpolated from them again, then moved by their measured shifts (a new track; the motion
    phase's landmarks are unchanged). The same track when `config.register_between_keyframes` is off. With
    `parts`, the later half of the frames is registered there while the caller does the first (OpenCV releases
    the GIL; each half writes its own rows)."""
    if not config.register_between_keyframes or not track.detected:
        return track
    motion_start = _motion_start(challenge)
    flash = [i for i, f in enumerate(frames) if f.timestamp_ms < motion_start]
    landmarks = track.landmarks.copy()
    if config.align_keyframes:
        _place_flash_keyframes(track, frames, flash, landmarks, config, parts)
    keys = [k.index for k in track.detected]
    if parts is None:
        register_to_keyframes(frames, landmarks, keys, flash, config)
    else:
        half = len(flash) // 2
        later = parts.submit(register_to_keyframes, frames, landmarks, keys, flash[half:], config)
        register_to_keyframes(frames, landmarks, keys, flash[:half], config)
        later.result()
    return FaceTrack(landmarks=landmarks, keyframes=track.keyframes)


def register_to_keyframes(
    frames: Sequence[CaptureFrame],
    landmarks: FloatArray,
    keyframes: Sequence[int],
    indices: Sequence[int],
    config: TrackingConfig,
) -> None:
    """Move each frame of `indices` that is not a keyframe to where its measured shifts from the keyframes on
    either side put it (phase correlation of the face's grey patch), in place.

    A hand holding a phone shakes at several hertz, faster than keyframes a few hundred milliseconds apart can
    follow: interpolated landmarks then miss the face by a pixel or two, and the small regions on the face's
    outline mix in hair or the room, which reads as flash shape noise. Phase correlation normalises the spectrum,
    so a colour step's change of the face's brightness does not move the estimate. The two keyframes' estimates
    of the frame's centre are weighted as the interpolation weights them (which also averages the detector's own
    error on the two); the interpolation's change of shape (scale, rotation) is kept. The patch is compared at
    full resolution (the sub-pixel estimate loses precision in proportion to any downscaling), at most
    `register_max_side` pixels a side. A correlation peak under `register_min_peak` (no clear match: on the
    tuning captures an odd frame reads about 0 where matches read 0.8 to 1.1, and its shift is tens of pixels
    off) or a shift beyond `register_max_shift` eye distances is a miss: that keyframe's estimate is dropped,
    and with both dropped the interpolation is kept."""
    keys = np.array(sorted(keyframes), dtype=np.int64)
    if len(keys) == 0:
        return
    references: dict[int, _KeyPatch | None] = {}

    def centre_from(k: int, i: int) -> FloatArray | None:
        if k not in references:
            references[k] = _key_patch(frames[k].image, landmarks[k], config)
        ref = references[k]
        if ref is None:
            return None
        moved = _grey_patch(frames[i].image, ref.box)
        if moved is None:
            return None
        # OpenCV windows its inputs in place: the cached keyframe patch is passed as a copy.
        (dx, dy), peak = cv2.phaseCorrelate(ref.patch.copy(), moved, ref.window)
        if peak < config.register_min_peak or float(np.hypot(dx, dy)) > ref.max_shift_px:
            return None
        shifted: FloatArray = ref.centre + np.array([dx, dy])
        return shifted

    key_set = set(keys.tolist())
    for i in indices:
        if i in key_set:
            continue
        after = int(np.searchsorted(keys, i))
        sides = [int(k) for k in keys[max(0, after - 1) : after + 1]]
        estimates = [(c, 1.0 / abs(i - k)) for k in sides if (c := centre_from(k, i)) is not None]
        if not estimates:
            continue
        centre = sum(w * c for c, w in estimates) / sum(w for _, w in estimates)
        landmarks[i] += centre - landmarks[i].mean(axis=0)


def align_keyframes(
    frames: Sequence[CaptureFrame],
    detections: Mapping[int, FloatArray],
    config: TrackingConfig,
    *,
    parts: Executor | None = None,
) -> dict[int, FloatArray]:
    """One set of landmarks carried to every keyframe of `detections` (frame index -> the detector's five points)
    that aligns with the first: {index: landmarks}, empty when fewer than two do.

    The detector places each keyframe's points independently, a pixel or so off, and every frame registered
    between keyframes inherits its keyframe's error; so the regions slide over the skin's texture between the
    white lead-in and the colour steps, and that reads as flash shape noise (on a textured face, more than the
    light's own). Each keyframe is aligned to the first by OpenCV's ECC (an affine map: the face's small turns
    and distance changes; ECC's correlation ignores the colour steps' change of gain and offset) on the face's
    grey square, started from the similarity between their detections; the detections, mapped into the first
    keyframe, are averaged (the detector's errors average out), and the average is mapped back to each. On the
    simulator the keyframes so placed scattered about the rendered head's true points by 0.5 to 0.75 px, the
    detections by about 1 px (docs/liveness-engine.md, Pipeline). With `parts`, half of the keyframes are aligned
    there (OpenCV releases the GIL)."""
    keys = sorted(detections)
    if len(keys) < 2:
        return {}
    template = _AlignTemplate.build(frames[keys[0]].image, detections[keys[0]], config)
    if template is None:
        return {}

    def warps_of(indices: Sequence[int]) -> list[tuple[int, FloatArray | None]]:
        return [(k, template.warp_to(frames[k].image, detections[k], config)) for k in indices]

    rest = keys[1:]
    half = len(rest) // 2
    later = None if parts is None else parts.submit(warps_of, rest[half:])
    found = warps_of(rest if later is None else rest[:half]) + ([] if later is None else later.result())
    warps = {keys[0]: np.eye(3)} | {k: w for k, w in found if w is not None}
    seen_from_first = {k: _mapped(_inverse(w), detections[k]) for k, w in warps.items()}
    middle = np.median(np.stack(list(seen_from_first.values())), axis=0)
    limit = config.align_max_disagreement * template.iod
    agreeing = [k for k, p in seen_from_first.items() if np.hypot(*(p - middle).T).max() <= limit]
    if len(agreeing) < 2:
        return {}
    average = np.mean(np.stack([seen_from_first[k] for k in agreeing]), axis=0)
    return {k: _mapped(warps[k], average) for k in agreeing}


@dataclass(frozen=True, slots=True)
class _AlignTemplate:
    """The first keyframe's grey square around its landmarks, downscaled to at most `register_max_side`, and
    `to_frame`, the map (3x3) from the square's pixels to the frame's."""

    patch: npt.NDArray[np.float32]
    to_frame: FloatArray
    landmarks: FloatArray
    iod: float

    @property
    def scale(self) -> float:
        """The square's downscaling (1: full resolution)."""
        return 1.0 / float(self.to_frame[0, 0])

    @classmethod
    def build(cls, image: npt.NDArray[np.uint8], points: FloatArray, config: TrackingConfig) -> _AlignTemplate | None:
        iod = float(np.hypot(*(points[1] - points[0])))
        size = round(2.0 * config.register_half_size * iod)
        x0, y0, _ = box = _centred_square(points, size)
        patch = _grey_patch(image, box)
        if patch is None:
            return None
        side = min(size, config.register_max_side)
        patch = np.asarray(cv2.resize(patch, (side, side), interpolation=cv2.INTER_AREA), dtype=np.float32)
        to_frame = _translation(x0, y0) @ np.diag([size / side, size / side, 1.0])
        return cls(patch, to_frame, np.asarray(points, dtype=np.float64), iod)

    def warp_to(self, image: npt.NDArray[np.uint8], points: FloatArray, config: TrackingConfig) -> FloatArray | None:
        """The affine map (3x3) from the first keyframe's frame to this one's; None when ECC does not converge or
        correlates under `align_min_correlation`."""
        # The square's pixels -> this frame's, as the two detections place them.
        guess = _homogeneous(similarity(self.landmarks, points)) @ self.to_frame
        side = self.patch.shape[0]
        corners = np.array([[0, 0, 1], [side, 0, 1], [0, side, 1], [side, side, 1]], dtype=np.float64) @ guess[:2].T
        margin = 0.3 * self.iod
        height, width = image.shape[:2]
        x0, y0 = (max(0, int(v - margin)) for v in corners[:, :2].min(axis=0))
        x1, y1 = int(min(width, corners[:, 0].max() + margin)), int(min(height, corners[:, 1].max() + margin))
        if x1 - x0 < 16 or y1 - y0 < 16:
            return None
        scale = self.scale  # this frame's crop is downscaled as the square was
        to_crop = np.diag([scale, scale, 1.0]) @ _translation(-x0, -y0)
        crop = cv2.cvtColor(image[y0:y1, x0:x1], cv2.COLOR_RGB2GRAY)
        if scale != 1.0:
            size = (max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale)))
            crop = cv2.resize(crop, size, interpolation=cv2.INTER_AREA)
        start = np.asarray((to_crop @ guess)[:2], dtype=np.float32)
        criteria = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 30, 1e-3)
        try:
            correlation, warp = cv2.findTransformECC(
                self.patch, np.asarray(crop, dtype=np.float32), start, cv2.MOTION_AFFINE, criteria, None
            )
        except cv2.error:  # no convergence
            return None
        if correlation < config.align_min_correlation:
            return None
        square_to_frame = _inverse(to_crop) @ _homogeneous(np.asarray(warp, dtype=np.float64))
        return np.asarray(square_to_frame @ _inverse(self.to_frame), dtype=np.float64)


def _place_flash_keyframes(
    track: FaceTrack,
    frames: Sequence[CaptureFrame],
    flash: Sequence[int],
    landmarks: FloatArray,
    config: TrackingConfig,
    parts: Executor | None,
) -> None:
    """`landmarks`' flash frames interpolated again (in place) from the keyframes as `align_keyframes` places
    the flash phase's (the others keep their detections)."""
    in_flash = set(flash)
    detections = _detections(track.keyframes)
    aligned = align_keyframes(frames, {i: p for i, p in detections.items() if i in in_flash}, config, parts=parts)
    if not aligned:
        return
    landmarks[list(flash)] = _interpolated(detections | aligned, flash)


def _detections(keyframes: Iterable[Keyframe]) -> dict[int, FloatArray]:
    """The detector's five points of each keyframe that found a face, by frame index."""
    return {k.index: k.face.landmarks.as_array() for k in keyframes if k.face is not None}


def _interpolated(keyframes: Mapping[int, FloatArray], at: Sequence[int]) -> FloatArray:
    """The keyframes' landmarks (frame index -> five points) interpolated by frame index to the frames `at`,
    ``(len(at), 5, 2)``; np.interp holds the end values beyond the first and last keyframes."""
    xs = np.array(sorted(keyframes), dtype=np.float64)
    stacked = np.stack([keyframes[int(i)] for i in xs])
    grid = np.asarray(at, dtype=np.float64)
    out = np.empty((len(grid), 5, 2), dtype=np.float64)
    for p in range(5):
        for c in range(2):
            out[:, p, c] = np.interp(grid, xs, stacked[:, p, c])
    return out


def _homogeneous(affine: FloatArray) -> FloatArray:
    """A 2x3 affine map as a 3x3 matrix, so that maps compose by products."""
    return np.vstack([affine, [0.0, 0.0, 1.0]])


def _inverse(matrix: FloatArray) -> FloatArray:
    return np.asarray(np.linalg.inv(matrix), dtype=np.float64)


def _translation(dx: float, dy: float) -> FloatArray:
    return np.array([[1.0, 0.0, dx], [0.0, 1.0, dy], [0.0, 0.0, 1.0]])


def _mapped(matrix: FloatArray, points: FloatArray) -> FloatArray:
    return np.asarray(points @ matrix[:2, :2].T + matrix[:2, 2], dtype=np.float64)


@dataclass(frozen=True, slots=True)
class _KeyPatch:
    """What every frame registered to one keyframe is compared with: the keyframe's grey patch (`box`: left, top,
    size), its Hanning window, the keyframe's landmark centre, and the largest shift taken as a match."""

    box: tuple[int, int, int]
    patch: npt.NDArray[np.float32]
    window: npt.NDArray[np.float32]
    centre: FloatArray
    max_shift_px: float


def _bracketing(keyframes: Sequence[int], index: int | None) -> set[int]:
    """The keyframes a frame's landmarks are interpolated from: itself when it is one, else the nearest on either
    side (one at the ends, where interpolation holds the end value)."""
    if index is None or not keyframes:
        return set()
    if index in keyframes:
        return {index}
    after = int(np.searchsorted(keyframes, index))
    return {keyframes[k] for k in (after - 1, after) if 0 <= k < len(keyframes)}


def _motion_start(challenge: Challenge) -> float:
    """Where the motion phase starts on the challenge clock (never, in Passive)."""
    return challenge.flash_end_ms if challenge.motion is not None else float("inf")


def _key_patch(image: npt.NDArray[np.uint8], points: FloatArray, config: TrackingConfig) -> _KeyPatch | None:
    """A keyframe's square patch around its landmarks; None off the frame."""
    iod = float(np.hypot(*(points[1] - points[0])))
    size = min(round(2.0 * config.register_half_size * iod), config.register_max_side)
    while cv2.getOptimalDFTSize(size) != size:  # a size the FFT takes fast (small primes only)
        size -= 1
    box = _centred_square(points, size)
    patch = _grey_patch(image, box)
    if patch is None:
        return None
    window = np.asarray(cv2.createHanningWindow((size, size), cv2.CV_32F), dtype=np.float32)
    centre = np.asarray(points.mean(axis=0), dtype=np.float64)
    return _KeyPatch(box, patch, window, centre, config.register_max_shift * iod)


def _centred_square(points: FloatArray, size: int) -> tuple[int, int, int]:
    """The square (left, top, size) of side `size` centred on the landmarks' mean."""
    x0, y0 = (round(float(v)) - size // 2 for v in points.mean(axis=0))
    return x0, y0, size


def _grey_patch(image: npt.NDArray[np.uint8], box: tuple[int, int, int]) -> npt.NDArray[np.float32] | None:
    """The square `box` (left, top, size) of `image` in grey; None when it leaves the frame or is too small."""
    x0, y0, size = box
    h, w = image.shape[:2]
    if size < 16 or x0 < 0 or y0 < 0 or x0 + size > w or y0 + size > h:
        return None
    grey = cv2.cvtColor(image[y0 : y0 + size, x0 : x0 + size], cv2.COLOR_RGB2GRAY)
    return np.asarray(grey, dtype=np.float32)


def _detect(
    analyzer: FaceAnalyzer, image: npt.NDArray[np.uint8], index: int, side: int | None, config: TrackingConfig
) -> Keyframe:
    height, width = image.shape[:2]
    scale = 1.0
    if side is not None and max(height, width) > side:
        scale = side / max(height, width)
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        # Area averaging: antialiased like Pillow's bilinear (landmarks within 0.2 px of it, median), at half the cost.
        image = np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
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
