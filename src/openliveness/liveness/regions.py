"""Per-frame light measurements: mean linear RGB of landmark-anchored face regions and of the background."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from .types import CaptureFrame

__all__ = [
    "BACKGROUND",
    "BESIDE",
    "CANONICAL_LANDMARKS",
    "CENTRAL",
    "COLUMNS",
    "COLUMN_REGIONS",
    "EDGES",
    "FACE_REGIONS",
    "LATERAL",
    "SKIN",
    "RegionSeries",
    "measure_regions",
]

FloatArray = npt.NDArray[np.float64]

# The five RetinaFace points of an average frontal face, in inter-ocular distances from the eyes' midpoint
# (x to the image right, y down). Regions below are placed in this frame and mapped to each frame's landmarks
# by a similarity, so they follow the face as it moves.
CANONICAL_LANDMARKS: FloatArray = np.array(
    [[-0.5, 0.0], [0.5, 0.0], [0.0, 0.6], [-0.4, 1.05], [0.4, 1.05]], dtype=np.float64
)

# name -> (x, y, half size). The sides sit on the cheekbones' outer slope, which turns away from a screen in
# front of the face; forehead, nose and inner cheeks face it; the chin's underside turns down.
FACE_REGIONS: dict[str, tuple[float, float, float]] = {
    "forehead": (0.0, -0.5, 0.14),
    "nose": (0.0, 0.35, 0.1),
    "cheek_left": (-0.42, 0.55, 0.11),
    "cheek_right": (0.42, 0.55, 0.11),
    "side_left": (-0.85, 0.45, 0.09),
    "side_right": (0.85, 0.45, 0.09),
    "chin": (0.0, 1.4, 0.1),
    # Above and below the inner cheeks, in their column: a head recedes there (the forehead up and back, the jaw
    # down and back) while paper bent about a vertical axis does not change along a column (signals/flash_shape.py).
    "upper_left": (-0.42, -0.65, 0.14),
    "upper_right": (0.42, -0.65, 0.14),
    "jaw_left": (-0.42, 1.35, 0.14),
    "jaw_right": (0.42, 1.35, 0.14),
    # The face's outline, from the eyes' level to the mouth's, both sides: a head turns away from the screen to a
    # grazing angle there (or ends, and the far room shows); a sheet carrying the face goes on facing it.
    "edge_left_upper": (-1.3, 0.15, 0.15),
    "edge_left_lower": (-1.3, 0.85, 0.15),
    "edge_right_upper": (1.3, 0.15, 0.15),
    "edge_right_lower": (1.3, 0.85, 0.15),
    # Beside the head at eye level, beyond a head's width: the room far behind a real head, but the same sheet
    # or screen as the face when a print or a replay shows it with some margin.
    "beside_left": (-1.85, 0.1, 0.15),
    "beside_right": (1.85, 0.1, 0.15),
}
REGION_NAMES: tuple[str, ...] = (*FACE_REGIONS, "background")
SKIN = ("forehead", "nose", "cheek_left", "cheek_right")
CENTRAL = ("forehead", "nose", "cheek_left", "cheek_right")
LATERAL = ("side_left", "side_right")
# The inner cheeks' column, top to bottom: (upper, middle, lower) per side.
COLUMNS = (("upper_left", "cheek_left", "jaw_left"), ("upper_right", "cheek_right", "jaw_right"))
# The columns' regions in `RegionSeries.column_skin`'s order, and their ends (measured on their lit skin).
COLUMN_REGIONS = tuple(name for side in COLUMNS for name in side)
_COLUMN_ENDS = frozenset(name for upper, _, lower in COLUMNS for name in (upper, lower))
BESIDE = ("beside_left", "beside_right")
EDGES = (("edge_left_upper", "edge_left_lower"), ("edge_right_upper", "edge_right_lower"))
BACKGROUND = "background"

# sRGB-ish decoding: light adds in linear units, and the screen's contribution is additive light.
_LINEAR_LUT = ((np.arange(256, dtype=np.float64) / 255.0) ** 2.2).astype(np.float32)
_LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float64)
_BACKGROUND_FRACTION = 0.18
_CORNERS = 2  # the frame's top left and top right
# A pixel at or above this in some channel is taken as saturated (JPEG rings a little below 255).
_SATURATED = 250
# The columns' ends' lit skin: pixels under this share of the region's upper quartile (per channel) are left out.
_LIT_SKIN_SHARE = 0.5
_LIT_SKIN_RANK = 0.75
# Regions whose worst frames saturate more of their pixels than this are measured on their darker pixels only,
# with this margin of ranks kept clear of the saturated ones, and never on fewer than `_MIN_KEPT` of them.
_SATURATION_TOLERATED = 0.01
_RANK_MARGIN = 0.05
_MIN_KEPT = 0.1


@dataclass(frozen=True, slots=True)
class RegionSeries:
    """`linear[i, r, c]`: mean linear light of region r (order of `REGION_NAMES`) in channel c of frame i;
    NaN where the region was off the frame or the face untracked. `luma` and `clipped` describe the skin
    regions in display units (0..255) for the quality gates. `column_skin[i, k, c]`: the k-th region of
    `COLUMN_REGIONS`, with the columns' ends measured over their lit skin only (`_lit_skin_means`); `linear` where
    not given."""

    times_ms: FloatArray
    linear: FloatArray
    luma: FloatArray
    clipped: FloatArray
    column_skin: FloatArray | None = None

    def columns_lit(self) -> FloatArray:
        """`column_skin`, or the columns' plain means when it was not measured."""
        if self.column_skin is not None:
            return self.column_skin
        return self.regions(COLUMN_REGIONS)

    @property
    def clipped_share(self) -> float | None:
        """Median over the measured frames of `clipped`: the capture's share of clipped skin pixels (None when no
        frame was measured). The `clipped` gate and flash shape's doubt both read it."""
        clipped = self.clipped[np.isfinite(self.clipped)]
        return float(np.median(clipped)) if clipped.size else None

    def region(self, name: str) -> FloatArray:
        return self.linear[:, REGION_NAMES.index(name)]

    def regions(self, names: Sequence[str]) -> FloatArray:
        return self.linear[:, [REGION_NAMES.index(n) for n in names]]


def similarity(src: FloatArray, dst: FloatArray) -> FloatArray:
    """Least-squares similarity (2x3) mapping `src` points onto `dst` points, without reflection.

    In the complex plane a similarity is ``z -> a z + b``, so this is linear least squares in closed form (the
    same optimum as Umeyama's SVD, at a tenth of the cost: it runs for every frame)."""
    s = src[:, 0] + 1j * src[:, 1]
    d = dst[:, 0] + 1j * dst[:, 1]
    s0, d0 = s - s.mean(), d - d.mean()
    power = float(np.vdot(s0, s0).real)
    a = complex(np.vdot(s0, d0)) / power if power > 0 else 1.0 + 0j
    b = d.mean() - a * s.mean()
    return np.array([[a.real, -a.imag, b.real], [a.imag, a.real, b.imag]], dtype=np.float64)


def measure_regions(
    frames: Sequence[CaptureFrame], landmarks: FloatArray, *, until_ms: float = float("inf")
) -> RegionSeries:
    """Measure every frame's regions where its (tracked) landmarks place them, up to `until_ms` (later frames
    stay NaN: PassiveActive's motion phase has no light to read, and a third of its frames)."""
    n = len(frames)
    linear = np.full((n, len(REGION_NAMES), 3), np.nan, dtype=np.float64)
    luma = np.full(n, np.nan, dtype=np.float64)
    clipped = np.full(n, np.nan, dtype=np.float64)
    names = list(FACE_REGIONS)
    centres = np.array([FACE_REGIONS[k][:2] for k in names], dtype=np.float64)
    halves = np.array([FACE_REGIONS[k][2] for k in names], dtype=np.float64)
    skin_idx = [names.index(k) for k in SKIN]
    edge_idx = {names.index(k) for side in EDGES for k in side}
    patches: list[list[npt.NDArray[np.uint8] | None]] = [[None] * len(names) for _ in range(n)]
    corners = np.full((n, _CORNERS, 3), np.nan, dtype=np.float64)
    saturated = np.zeros((n, len(names), 3), dtype=np.float64)
    for i, frame in enumerate(frames):
        image = frame.image
        h, w = image.shape[:2]
        pts = landmarks[i]
        if frame.timestamp_ms > until_ms or not np.all(np.isfinite(pts)):
            continue
        m = similarity(CANONICAL_LANDMARKS, pts)
        scale = float(np.hypot(m[0, 0], m[1, 0]))
        placed = centres @ m[:, :2].T + m[:, 2]
        half = (halves * scale)[:, None]
        # Bounds of every region at once (rounding in numpy, not per call: this loop runs ~600 times a capture).
        lo = np.rint(placed - half).astype(np.int64)
        hi = np.rint(placed + half).astype(np.int64) + 1
        skin_sum, skin_count, skin_clipped = np.zeros(3), 0, 0
        for r, (x0, y0, x1, y1) in enumerate(np.concatenate([lo, hi], axis=1).tolist()):
            x0, y0, x1, y1 = max(0, x0), max(0, y0), min(w, x1), min(h, y1)
            if x1 - x0 < 2 or y1 - y0 < 2:
                continue
            # The outline regions are large and only feed one ratio: every other pixel is plenty.
            stride = 2 if r in edge_idx else 1
            patch = image[y0:y1:stride, x0:x1:stride]
            count = patch.shape[0] * patch.shape[1]
            patches[i][r] = patch
            # OpenCV's table lookup and sum: a sixth of the time of numpy's fancy indexing.
            linear[i, r] = cv2.sumElems(cv2.LUT(patch, _LINEAR_LUT))[:3]
            linear[i, r] /= count
            if patch.max() >= _SATURATED:  # one cheap pass first: most regions never saturate
                saturated[i, r] = np.count_nonzero(patch >= _SATURATED, axis=(0, 1)) / count
            if r in skin_idx:
                brightest = patch.max(axis=2)
                skin_sum += cv2.sumElems(patch)[:3]
                skin_count += count
                skin_clipped += int(np.count_nonzero((brightest >= _SATURATED) | (brightest <= 5)))
        if skin_count:
            luma[i] = float(skin_sum @ _LUMA_WEIGHTS) / skin_count
            clipped[i] = skin_clipped / skin_count
        corners[i] = _background_corners(image, pts, scale)
    column_saturated = np.zeros((len(names), 3), dtype=bool)
    for r in range(len(names)):
        # Per channel, the worst measured frames but one in ten (auto-exposure overshoots for a frame or two at the
        # start); frames where the region was not measured (untracked, off the frame, after `until_ms`) do not
        # count.
        measured = np.array([p[r] is not None for p in patches], dtype=bool)
        if not measured.any():
            continue
        worst = np.quantile(saturated[measured, r], 0.9, axis=0)
        column_saturated[r] = worst > _SATURATION_TOLERATED
        for c in np.flatnonzero(worst > _SATURATION_TOLERATED):
            keep = max(1.0 - float(worst[c]) - _RANK_MARGIN, _MIN_KEPT)
            linear[:, r, c] = _unsaturated_means([p[r] for p in patches], int(c), keep)
    linear[:, -1] = _background(corners)
    # The cheeks keep their plain mean: skin in themselves, where dark pixels are the face's own shading.
    column_skin = linear[:, [names.index(name) for name in COLUMN_REGIONS]]
    for k, name in enumerate(COLUMN_REGIONS):
        if name in _COLUMN_ENDS:
            r = names.index(name)
            column_skin[:, k] = np.where(column_saturated[r], linear[:, r], _lit_skin_means([p[r] for p in patches]))
    times = np.array([f.timestamp_ms for f in frames], dtype=np.float64)
    return RegionSeries(times_ms=times, linear=linear, luma=luma, clipped=clipped, column_skin=column_skin)


def _lit_skin_means(patches: Sequence[npt.NDArray[np.uint8] | None]) -> FloatArray:
    """Per frame and channel, the mean linear light of the region's pixels at least `_LIT_SKIN_SHARE` of its upper
    quartile there: the lit skin, without the cloth, hair, brows or beard that a column's end often reaches.

    Flash shape reads the screen's light relative to the room's, which is the surface's geometry only where the
    reflection is diffuse. On dark cloth or hair any light that does not scale with the albedo (a sheen of the
    screen, the camera's flare) outweighs the diffuse share, and a region part-covered reads that as more of the
    screen's light: a cap over the forehead flattened the reading along the face (session 23). The cut is relative
    to the frame's own level, so the same pixels are kept under any uniform light (`_unsaturated_means`)."""
    out = np.full((len(patches), 3), np.nan, dtype=np.float64)
    offsets = np.arange(3, dtype=np.intp) * 256
    for i, patch in enumerate(patches):
        if patch is None:
            continue
        # One histogram per channel, in one call: the values shifted by 256 per channel.
        counts = np.bincount((patch.reshape(-1, 3) + offsets).ravel(), minlength=768).reshape(3, 256)
        cumulative = np.cumsum(counts, axis=1)
        upper_quartile = np.argmax(cumulative >= _LIT_SKIN_RANK * cumulative[:, -1:], axis=1)
        kept = _LINEAR_LUT[None, :] >= _LIT_SKIN_SHARE * _LINEAR_LUT[upper_quartile][:, None]
        weights = counts * kept
        out[i] = (weights @ _LINEAR_LUT) / np.maximum(weights.sum(axis=1), 1)
    return out


def _unsaturated_means(patches: Sequence[npt.NDArray[np.uint8] | None], channel: int, keep: float) -> FloatArray:
    """Mean linear light in `channel` of each frame's darker `keep` share of the region's pixels, ranked by
    that channel's value.

    A saturated channel caps the region's mean exactly where the light is strongest, which bends every ratio
    the signals take (white-lit over step-lit, face over background). A channel's ranking of the pixels is the
    same under any light that scales the region uniformly, whatever the light's colour (each pixel's value in a
    channel is its albedo there times the light in that channel), so the darker share is the same pixels in every
    frame, and none of them saturates when `keep` stays below the worst frame's unsaturated share. (Ranking by
    overall brightness is not: under a blue step it ranks the pixels by their blue albedo, under a red one by
    their red, and the steps' chroma is then measured on different pixels.)"""
    out = np.full(len(patches), np.nan, dtype=np.float64)
    for i, patch in enumerate(patches):
        if patch is None:
            continue
        values = patch[..., channel].ravel()
        count = max(1, int(keep * len(values)))
        darker = np.partition(values, count - 1)[:count]
        out[i] = float(_LINEAR_LUT[darker].mean())
    return out


def _background_corners(image: npt.NDArray[np.uint8], pts: FloatArray, iod: float) -> FloatArray:
    """Each top corner's mean linear RGB (left, right), NaN for a corner the head (hair and shoulders
    included) may reach in this frame."""
    h, w = image.shape[:2]
    cw, ch = max(2, round(w * _BACKGROUND_FRACTION)), max(2, round(h * _BACKGROUND_FRACTION))
    cx = float(pts[:2, 0].mean())
    head_x0, head_x1 = cx - 1.6 * iod, cx + 1.6 * iod
    head_y0 = float(pts[:2, 1].mean()) - 1.8 * iod
    out = np.full((_CORNERS, 3), np.nan, dtype=np.float64)
    for k, x0 in enumerate((0, w - cw)):
        x1 = x0 + cw
        if x1 > head_x0 and x0 < head_x1 and ch > head_y0:
            continue
        out[k] = cv2.mean(cv2.LUT(image[0:ch:2, x0:x1:2], _LINEAR_LUT))[:3]
    return out


def _background(corners: FloatArray) -> FloatArray:
    """The background's light per frame, from the same corners in every frame: those clear of the head in every
    frame that measured one, else the one clear in the most frames (NaN where it was not). A head moving near a
    corner would otherwise switch the average between one corner and two from frame to frame, a step in the
    background's colour that can follow the schedule by chance (session 19: two report captures' backgrounds
    "responded" like their faces that way and were refused as attacks)."""
    clear = np.all(np.isfinite(corners), axis=2)  # (frames, corners)
    measured = clear.any(axis=1)
    if not measured.any():
        return np.full((len(corners), 3), np.nan)
    always = clear[measured].all(axis=0)
    chosen = always if always.any() else np.arange(_CORNERS) == int(np.argmax(clear.sum(axis=0)))
    out = corners[:, chosen].mean(axis=1)
    out[~clear[:, chosen].all(axis=1)] = np.nan
    return np.asarray(out, dtype=np.float64)
