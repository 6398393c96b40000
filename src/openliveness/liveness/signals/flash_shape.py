"""Flash shape: how the screen's light spreads over the face; a 3D face is lit more in the middle than at the
sides, and than above and below (it curves both ways), a flat print or screen almost evenly, and bent paper only
across its axis."""

from __future__ import annotations

import warnings

import numpy as np
import numpy.typing as npt

from ..config import FlashConfig
from ..regions import CENTRAL, COLUMNS, EDGES, LATERAL, RegionSeries
from ..types import Challenge
from .base import SignalResult, Verdict, ramp

__all__ = ["flash_shape", "shape_samples"]

FloatArray = npt.NDArray[np.float64]


def shape_samples(
    challenge: Challenge, series: RegionSeries, offset_ms: float, config: FlashConfig
) -> list[tuple[float, float, float, float, float]]:
    """One (horizontal curvature, vertical curvature, level, edge, mixed) per colour step and unlit channel.

    In a channel the step leaves dark, white-lit minus step-lit light is exactly the screen's share, and the
    ratio of the two cancels the skin's albedo (and the print's ink). The step's lit channels are lit the same
    in both, so their ratio is the exposure change, which is taken out. What is left per region is
    log(1 + q), q = screen irradiance / ambient irradiance; q's relative centre-minus-sides difference follows
    the surface's curvature; a plane, even tilted, gives a linear gradient that the symmetric difference cancels.
    `edge` is q at the face's outline on its less lit side (NaN when off the frame). The vertical curvature is
    the same centre-minus-ends difference down the inner cheeks' columns (regions.COLUMNS): the cheek against the
    forehead above it and the jaw below it (NaN when off the frame). `mixed` is the curvature's diagonal term from
    the columns' ends: (upper left + lower right - upper right - lower left) / 4, zero for a surface curved along
    the face's axes (a head, a sheet bent about a vertical or horizontal axis), and a linear gradient cancels in it."""
    times = series.times_ms
    guard = config.transition_guard_ms
    white_mask = _lead_in(challenge, times, offset_ms, config)
    if white_mask.sum() < 2:
        return []
    names = (*CENTRAL, *LATERAL, "chin")
    nc, nl, nr = len(CENTRAL), len(LATERAL), len(names)
    edges = [name for side in EDGES for name in side]
    ne = nr + len(edges)
    # The columns on their lit skin only (regions.py): cloth or hair over an end must not read as geometry.
    values = np.concatenate([series.regions((*names, *edges)), series.columns_lit()], axis=1)
    with warnings.catch_warnings():
        # A region missing from every frame of a phase gives NaN (checked below), not a warning.
        warnings.simplefilter("ignore", RuntimeWarning)
        white = np.nanmean(values[white_mask], axis=0)
    if not np.all(np.isfinite(white[:nr])) or np.any(white[:nr] <= 0):
        return []
    samples: list[tuple[float, float, float, float, float]] = []
    start = float(challenge.lead_in_ms)
    for step in challenge.steps:
        end = start + step.duration_ms
        mask = (times - offset_ms - config.exposure_ms >= start + guard * 0.5) & (
            times - offset_ms <= end - guard * 0.5
        )
        start = end
        if mask.sum() < 1:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            lit = np.nanmean(values[mask], axis=0)
            log_ratio = np.log(white) - np.log(lit)
        if not np.all(np.isfinite(lit[:nr])) or np.any(lit[:nr] <= 0):
            continue
        on = [c for c in range(3) if step.color[c] >= 128]
        off = [c for c in range(3) if step.color[c] < 128]
        if not on or not off:
            continue
        exposure = log_ratio[:, on].mean(axis=1)  # per region
        for c in off:
            # Back from log(1 + q) to q, the screen-to-ambient irradiance ratio: its relative falloff from the
            # centre to the sides is the geometry alone, whatever the screen's strength against the room.
            q = np.expm1(log_ratio[:, c] - exposure)
            centre = float(q[:nc].mean())
            sides = float(q[nc : nc + nl].mean())
            q_edges = q[nr:ne].reshape(len(EDGES), -1).mean(axis=1)
            edge = float(np.min(q_edges)) if np.all(np.isfinite(q_edges)) else float("nan")
            cols = q[ne:].reshape(len(COLUMNS), 3)
            upper, middle, lower = cols.mean(axis=0)
            mixed = 0.25 * float(cols[0, 0] + cols[1, 2] - cols[1, 0] - cols[0, 2])
            samples.append((centre - sides, float(middle - 0.5 * (upper + lower)), centre, edge, mixed))
    return samples


def _lead_in(challenge: Challenge, times: FloatArray, offset_ms: float, config: FlashConfig) -> npt.NDArray[np.bool_]:
    """The frames lit by the settled white lead-in, clear of the first colour step's transition."""
    end = challenge.lead_in_ms + offset_ms
    return (times >= config.lead_in_settle_ms) & (times + config.transition_guard_ms <= end)


def column_end_light(challenge: Challenge, series: RegionSeries, offset_ms: float, config: FlashConfig) -> float | None:
    """How bright the columns' ends are against their cheeks under the white lead-in: the smallest of the four ratios
    of luma (linear). Skin reads about as bright there as on the cheek; a cap, a hat, a fringe or a beard over an
    end reads far darker. None when an end or a cheek is unmeasured."""
    mask = _lead_in(challenge, series.times_ms, offset_ms, config)
    if not mask.any():
        return None
    weights = np.array([0.2126, 0.7152, 0.0722])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        ratios = []
        for upper, middle, lower in COLUMNS:
            white = np.nanmean(series.regions((upper, middle, lower))[mask], axis=0) @ weights
            if not np.all(np.isfinite(white)) or white[1] <= 0:
                return None
            ratios += [white[0] / white[1], white[2] / white[1]]
    return float(min(ratios))


def flash_shape(challenge: Challenge, series: RegionSeries, offset_ms: float, config: FlashConfig) -> SignalResult:
    samples = shape_samples(challenge, series, offset_ms, config)
    if len(samples) < 3:
        return SignalResult("flash_shape", Verdict.INCONCLUSIVE, 0.0, ("flash_shape_too_few_samples",))
    arr = np.array(samples)
    level = float(np.log1p(max(float(np.median(arr[:, 2])), 0.0)))
    measures = {
        "level": level,
        "curvature": float(np.median(arr[:, 0])),
        "samples": float(len(samples)),
    }
    ends = column_end_light(challenge, series, offset_ms, config)
    if ends is not None:
        measures["column_end_light"] = ends
    if level < config.min_response:
        return SignalResult("flash_shape", Verdict.INCONCLUSIVE, 0.0, ("flash_shape_unmeasurable",), measures)
    # Relative curvature: the geometry's falloff, independent of how bright the screen is against the room.
    centre = np.maximum(arr[:, 2], np.expm1(config.min_response))
    per_sample = arr[:, 0] / centre
    relative = float(np.median(per_sample))
    measures["relative_curvature"] = relative
    # The statistic's standard error from the spread of the per-sample ratios (robust: 1.4826 x median absolute
    # deviation over sqrt(n)). On the tuning set the bona fide captures left in the weak band have small errors
    # (0.003 to 0.03): their low curvature is measured, not noise. It only decides whether a flat reading is
    # beyond doubt (below).
    curvature_se = measures["curvature_se"] = _standard_error(per_sample)
    # Saturated skin is measured on its darker pixels only (regions.py), which are the less lit ones where the light
    # varies within a region: the readings lean toward flat (session 12: re-rendered without saturation, heads that
    # read 0.05 or less read about 0.2 and more). A reading of a sheet there is not evidence of one. (The quality gate's
    # measure: the share of skin pixels clipped at either end.)
    clipped = series.clipped_share
    saturated = clipped is not None and clipped > config.shape_refusal_max_clipped
    # Cloth or hair over a column's end (a cap, a fringe, a beard) is not the head's surface: its readings along and
    # at the forehead are not evidence of a sheet.
    occluded = ends is not None and ends < config.shape_min_end_light
    along_face = _median_over_centre(arr[:, 1], centre)
    if along_face is not None:
        measures["vertical_curvature"], measures["vertical_se"] = along_face
    score = ramp(relative, config.shape_fail, config.shape_pass)
    mixed = _median_over_centre(arr[:, 4], centre)
    # What of the mixed term is measured rather than noise: its size less `shape_mixed_margin` standard errors (the
    # per-sample ratios' spread, as for `curvature_se`). A bent sheet's reading is steady (slanted cut-outs: 10 to 50
    # standard errors); a head's large readings come from noisy captures (bright rooms: 2 to 4).
    mixed_measured: float | None = None
    if mixed is not None:
        measures["mixed_curvature"], measures["mixed_se"] = mixed
        mixed_measured = max(abs(mixed[0]) - config.shape_mixed_margin * mixed[1], 0.0)
    outline = _median_over_centre(arr[:, 3], centre)
    if outline is not None:
        # The face's outline lit like its centre: a sheet carrying the face, not a head turning away from the
        # screen. Only refuses (a print cut along the face's outline shows the room there, as a head does).
        measures["edge_ratio"] = outline[0]
        if outline[0] >= config.shape_edge_fail:
            # Both readings of a sheet, when the curvature is flat too: fusion lets this one refuse even after
            # a turn's parallax passed (a glitch in a print's point tracking must not override two readings).
            reasons = (
                ("flash_shape_sheet", "flash_shape_flat") if relative < config.shape_fail else ("flash_shape_sheet",)
            )
            return SignalResult("flash_shape", Verdict.FAIL, min(score, 0.2), reasons, measures)
    if relative >= config.shape_pass:
        # Curved across, then also along the face: paper bends about one axis only (it cannot stretch), so a
        # sheet curved like a head across (around a bottle) stays flat along its axis, where only the screen's
        # falloff is left; a head recedes there too (forehead, jaw).
        # Bent about a slanted axis, the sheet is curved along the face too, but its curvature then has a diagonal
        # part (the mixed term), which a left-right symmetric head lacks. Whatever the axis, a sheet's curvature
        # across times along equals its mixed term squared (zero Gaussian curvature; the estimators' scales make
        # that ratio about 1, measured on slanted cut-outs), so it is that difference that must reach the share.
        # Whatever the share, the reading along must also stand above a sheet's own (the screen's falloff).
        if along_face is None or mixed_measured is None:
            return SignalResult("flash_shape", Verdict.INCONCLUSIVE, score, ("flash_shape_unmeasurable",), measures)
        vertical, vertical_se = along_face
        along = vertical / relative - (mixed_measured / relative) ** 2
        measures["along_share"] = along
        if mixed_measured >= config.shape_mixed_share * relative:
            return SignalResult("flash_shape", Verdict.FAIL, min(score, 0.2), ("flash_shape_cylinder",), measures)
        if along < config.shape_vertical_share or vertical < config.shape_vertical_floor:
            # Low along the face, but measured to worse than the share it is held to (a dark cap or fringe at the
            # columns' top in a bright room): not a measured sheet.
            noisy = vertical_se >= config.shape_vertical_share * relative
            return _refusal("flash_shape_cylinder", score, measures, saturated, noisy, occluded)
        if along < config.shape_vertical_pass_share:
            # Above a sheet's share but under a head's: neither refused nor accepted (fusion: after a turn too).
            reasons = ("flash_shape_cylinder", "flash_shape_weak")
            return SignalResult("flash_shape", Verdict.INCONCLUSIVE, score, reasons, measures)
        if vertical < config.shape_vertical_pass_floor:
            # A head's share along, but little along in itself: a head, or a sheet curved gently across (which then
            # reads its screen's falloff along as a share). Neither; unlike the share's band, advisory after a
            # decisive turn (fusion): no tuning cut-out that turned decisively read here (docs/liveness-engine.md).
            return SignalResult("flash_shape", Verdict.INCONCLUSIVE, score, ("flash_shape_weak_along",), measures)
        return SignalResult("flash_shape", Verdict.PASS, score, (), measures)
    if relative < config.shape_fail:
        # Flat, but a pass lies within `shape_flat_margin` standard errors: not a measured sheet (session 15).
        noisy = relative + config.shape_flat_margin * curvature_se >= config.shape_pass
        return _refusal("flash_shape_flat", score, measures, saturated, noisy, occluded)
    return SignalResult("flash_shape", Verdict.INCONCLUSIVE, score, ("flash_shape_weak",), measures)


def _refusal(
    reason: str, score: float, measures: dict[str, float], saturated: bool, noisy: bool, occluded: bool
) -> SignalResult:
    """A reading of a sheet refuses (spoofface) only when it is beyond doubt; on saturated skin, within its noise, or
    with a column's end covered, it makes the capture uncertain instead, under the same reason (fusion then still
    blocks it after a turn)."""
    doubts = (
        (("flash_shape_saturated",) if saturated else ())
        + (("flash_shape_noisy",) if noisy else ())
        + (("flash_shape_occluded",) if occluded else ())
    )
    if doubts:
        return SignalResult("flash_shape", Verdict.INCONCLUSIVE, min(score, 0.2), (reason, *doubts), measures)
    return SignalResult("flash_shape", Verdict.FAIL, min(score, 0.2), (reason,), measures)


def _median_over_centre(values: FloatArray, centre: FloatArray) -> tuple[float, float] | None:
    """Median of `values / centre` over the samples where `values` was measured (its regions on the frame), and
    its standard error; None under 3 such samples."""
    ratios = np.asarray((values / centre)[np.isfinite(values)], dtype=np.float64)
    return (float(np.median(ratios)), _standard_error(ratios)) if len(ratios) >= 3 else None


def _standard_error(ratios: FloatArray) -> float:
    """The median's standard error from the per-sample spread (robust: 1.4826 x median absolute deviation over
    sqrt(n))."""
    return float(1.4826 * np.median(np.abs(ratios - np.median(ratios))) / np.sqrt(len(ratios)))
