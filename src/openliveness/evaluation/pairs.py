"""Verification pairs: read PAIRS.csv (`file_x, file_y, decision`), embed each photo once, score each pair."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from openliveness.vision import FaceAnalyzer, ImageLimits, decode_image, verify
from openliveness.vision.types import Embedding

from .metrics import VerifyMetrics, verify_metrics

__all__ = ["PHOTO_LIMITS", "Pair", "PairResult", "read_pairs", "score_pairs", "verify_pair_metrics"]

# Camera originals (one benchmark photo is 3061x4600, 7 MB) need wider limits than the API's.
PHOTO_LIMITS = ImageLimits(min_bytes=1, max_bytes=64 * 1024 * 1024, max_side=10_000, max_pixels=60_000_000)
MAX_PAIRS = 1_000_000


@dataclass(frozen=True, slots=True)
class Pair:
    x: Path
    y: Path
    same: bool


@dataclass(frozen=True, slots=True)
class PairResult:
    """`distance`/`confidence` are None when a photo had no usable face (`error` says which and why)."""

    pair: Pair
    distance: float | None
    confidence: float | None
    error: str = ""


def _resolve(folder: Path, name: str) -> Path:
    path = Path(name)
    path = path if path.is_absolute() else folder / path
    if path.exists():
        return path
    fallback = folder / Path(name).name
    return fallback if fallback.exists() else path


def read_pairs(csv_path: Path) -> list[Pair]:
    """Paths are absolute or relative to the CSV's folder; one not found there is looked up by base name there."""
    folder = csv_path.resolve().parent
    pairs = []
    with csv_path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        columns = {c.strip() for c in reader.fieldnames or []}
        if not {"file_x", "file_y", "decision"} <= columns:
            raise ValueError(f"{csv_path}: needs the columns file_x, file_y, decision (found {sorted(columns)})")
        for line, row in enumerate(reader, start=2):
            row = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
            if row["decision"] not in ("Yes", "No"):
                raise ValueError(f"{csv_path}:{line}: decision must be Yes or No, not {row['decision']!r}")
            x, y = _resolve(folder, row["file_x"]), _resolve(folder, row["file_y"])
            pairs.append(Pair(x, y, row["decision"] == "Yes"))
            if len(pairs) > MAX_PAIRS:
                raise ValueError(f"{csv_path}: more than {MAX_PAIRS} pairs")
    return pairs


def score_pairs(pairs: list[Pair], analyzer: FaceAnalyzer) -> list[PairResult]:
    """Embed each photo once (its largest face) and score every pair."""
    cache: dict[Path, Embedding | str] = {}

    def embed(path: Path) -> Embedding | str:
        if path not in cache:
            try:
                probe = analyzer.analyze_probe(decode_image(path.read_bytes(), PHOTO_LIMITS))
                cache[path] = probe.embedding if probe is not None else f"{path.name}: no face found"
            except Exception as exc:  # unreadable or undecodable photo: reported per pair, not fatal
                cache[path] = f"{path.name}: {exc}"
        return cache[path]

    out = []
    for pair in pairs:
        a, b = embed(pair.x), embed(pair.y)
        if isinstance(a, str) or isinstance(b, str):
            out.append(PairResult(pair, None, None, "; ".join(e for e in (a, b) if isinstance(e, str))))
            continue
        score = verify(a, b)
        out.append(PairResult(pair, score.distance, score.match_confidence))
    return out


def verify_pair_metrics(results: list[PairResult], threshold: float) -> VerifyMetrics:
    """Metrics over the scored pairs (pairs with an error are left out and counted in the report)."""
    scored = [r for r in results if r.confidence is not None and r.distance is not None]
    gc = np.array([r.confidence for r in scored if r.pair.same], dtype=np.float64)
    ic = np.array([r.confidence for r in scored if not r.pair.same], dtype=np.float64)
    gd = np.array([-(r.distance or 0.0) for r in scored if r.pair.same], dtype=np.float64)
    idist = np.array([-(r.distance or 0.0) for r in scored if not r.pair.same], dtype=np.float64)
    return verify_metrics(gc, ic, threshold, eer_scores=(gd, idist))
