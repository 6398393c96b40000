"""Tune the liveness engine's thresholds on the TUNING faces only (in-process, no HTTP).

The tuning faces are `skimage.data.astronaut()` and three variants of it (mirrored; colour-shifted: darker, warmer
skin; the photo's surroundings, which become the room, darkened, so that the screen-lit face saturates) and, where
../shared/data is present, eight photos of people who are not among the report faces of
`bench/liveness_accuracy.py` (`SHARED_TUNING_PHOTOS`); never a report face. Every face is rendered in both modes.
Seeds are below 10_000_000 (the report uses 20_261_121 and up). Captures are rendered with `simulate_capture`, cached
on disk (`--cache`), and evaluated with `LivenessEngine` directly; the script prints, per species, the decisions, the
reasons of the non-expected decisions, and the distribution of each signal's statistic, which is what the
thresholds in `liveness/config.py` were set from.

    python bench/liveness_tune.py [--per-species 60] [--jobs 2] [--cache /tmp/liveness_tune]

Harder subsets (each with its own --cache): `--ambient 0.2,0.6` (dim rooms), `--face-size 0.2,0.32` (small
faces), `--faces astronaut,astronaut_mirrored` (some faces only; `astronaut_capped`, a dark cap painted over the
forehead, only when named), `--room-gain 0.06` (every face's room darkened
so that auto-exposure saturates the screen-lit face), `--species bona_fide --seed-base 2000003` (more seeds),
`--species print --variant curved_cutout` (prints cut along the head's outline: rendered only when asked for),
`--species print --variant wrapped_cutout` (the same cut-out wrapped around a bottle, radius 5 to 9 cm),
`--species print --variant diagonal_cutout` (wrapped with the bottle's axis 30 to 60 degrees off the face's vertical).
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from _faces import SHARED_VERIFICATION, load_photo

SPECIES = ("bona_fide", "print", "replay", "injection", "photo_still")
SEED_BASE = 1_000_003
# People absent from bench/liveness_accuracy.py's report faces (deepface img1/5/10 and img20 are two of them).
SHARED_TUNING_PHOTOS = (
    "deepface/img3.jpg",
    "deepface/img16.jpg",
    "deepface/img18.jpg",
    "deepface/img24.jpg",
    "deepface/img32.jpg",
    "deepface/img39.jpg",
    "deepface/img45.jpg",
    "deepface/img47.jpg",
)
_heads: list[Any] = []
_face_names: list[str] = []


def tuning_faces() -> list[tuple[str, np.ndarray, float]]:
    """(name, photo, room gain): the room gain scales the photo's surroundings, which become the capture's room.

    The astronaut and its variants always; where ../shared/data is present, also one photo each of eight people
    who are not among the report's faces (checked with the embedder: no report face within 0.6 of any of them),
    with long hair, beards, glasses and several skin tones."""
    from skimage import data

    face = data.astronaut()
    mirrored = np.ascontiguousarray(face[:, ::-1])
    shifted = np.clip(face.astype(np.float32) * np.array([0.8, 0.62, 0.5]), 0, 255).astype(np.uint8)
    faces = [
        ("astronaut", face, 1.0),
        ("astronaut_mirrored", mirrored, 1.0),
        ("astronaut_dark_warm", shifted, 1.0),
        # A dark room behind the head: auto-exposure meters the room and saturates the screen-lit face.
        ("astronaut_dark_room", face, 0.15),
    ]
    faces += [
        (name, load_photo(SHARED_VERIFICATION / name), 1.0)
        for name in SHARED_TUNING_PHOTOS
        if (SHARED_VERIFICATION / name).exists()
    ]
    return faces


def capped(photo: np.ndarray) -> np.ndarray:
    """The photo with a dark cloth cap painted over the forehead down to just above the brows (0.42 eye distances
    above the eyes, lower at the sides), the way a cap or a fringe covers the top of the face's regions."""
    from openliveness.vision import FaceAnalyzer

    found = FaceAnalyzer.load().detect(photo)
    if not found:
        raise SystemExit("no face in the photo to put a cap on")
    marks = found[0].landmarks.as_array()
    iod = float(np.hypot(*(marks[1] - marks[0])))
    cx, cy = marks[:2].mean(axis=0)
    yy, xx = np.mgrid[0 : photo.shape[0], 0 : photo.shape[1]]
    brim = cy - 0.42 * iod + 0.12 * iod * ((xx - cx) / (1.1 * iod)) ** 2
    cap = (yy < brim) & (np.abs(xx - cx) < 1.15 * iod) & (yy > cy - 2.2 * iod)
    cloth = np.array([28.0, 32.0, 58.0]) * (1 + 0.12 * np.random.default_rng(0).standard_normal((*photo.shape[:2], 1)))
    out = photo.copy()
    out[cap] = np.clip(cloth[cap], 0, 255).astype(np.uint8)
    return out


def _astronaut_capped() -> np.ndarray:
    from skimage import data

    return capped(data.astronaut())


# Rendered only when named in --faces: they would change which face each seed of the usual sets renders.
ON_REQUEST_FACES = {"astronaut_capped": _astronaut_capped}


def selected_faces(
    faces: tuple[str, ...] = (), room_gain_override: float | None = None
) -> list[tuple[str, np.ndarray, float]]:
    """The tuning faces named in `faces` (all when empty; the on-request ones only by name), with their room gain
    replaced when one is given."""
    chosen = [f for f in tuning_faces() if not faces or f[0] in faces]
    chosen += [(name, render(), 1.0) for name, render in ON_REQUEST_FACES.items() if name in faces]
    if not chosen:
        raise SystemExit(f"no tuning face among {faces}; choose from {[f[0] for f in tuning_faces()]}")
    if room_gain_override is None:
        return chosen
    return [(f"{name}@room{room_gain_override:g}", image, room_gain_override) for name, image, _ in chosen]


def _init(faces: tuple[str, ...] = (), room_gain_override: float | None = None) -> None:
    from openliveness.simulate import build_head, darken_room
    from openliveness.vision import FaceAnalyzer

    analyzer = FaceAnalyzer.load()
    for name, image, room_gain in selected_faces(faces, room_gain_override):
        _face_names.append(name)
        head = build_head(image, analyzer)
        _heads.append(darken_room(head, room_gain) if room_gain != 1.0 else head)


def _render(job: tuple[int, str, int, str, dict[str, Any]]) -> str:
    from openliveness.domain import LivenessOperationMode
    from openliveness.simulate import ConditionRanges, random_challenge, sample_conditions, simulate_capture

    index, species, seed, path, options = job
    if Path(path).exists():
        return path
    rng = np.random.default_rng(seed)
    conditions = sample_conditions(rng, ConditionRanges(**options.get("ranges", {})))
    # Every face in both modes: faces cycle fastest, modes alternate per round of faces.
    mode = LivenessOperationMode.PASSIVE_ACTIVE if (index // len(_heads)) % 2 else LivenessOperationMode.PASSIVE
    challenge = random_challenge(rng, mode)
    head = _heads[index % len(_heads)]
    face = _face_names[index % len(_heads)]
    variant = options.get("variant") if species != "bona_fide" else None
    capture = simulate_capture(head, challenge, species, conditions=conditions, rng=rng, variant=variant)
    record = {
        "species": species,
        "index": index,
        "seed": seed,
        "mode": mode.value,
        "face": face,
        "conditions": conditions,
        "challenge": challenge,
        "capture": capture,
    }
    tmp = path + ".tmp"
    with open(tmp, "wb") as fh:
        pickle.dump(record, fh)
    Path(tmp).rename(path)
    return path


def _evaluate(path: str) -> dict[str, Any]:
    from openliveness.liveness import LivenessEngine
    from openliveness.vision import FaceAnalyzer

    global _engine
    try:
        engine = _engine
    except NameError:
        engine = _engine = LivenessEngine(FaceAnalyzer.load())
    with open(path, "rb") as fh:
        record = pickle.load(fh)
    capture = record["capture"].to_capture()
    start = time.perf_counter()
    result, signals = engine.evaluate_detailed(record["challenge"], capture)
    ms = (time.perf_counter() - start) * 1000
    cond = record["conditions"]
    return {
        "species": record["species"],
        "variant": record["capture"].variant,
        "mode": record["mode"],
        "ambient": cond.ambient,
        "face_size": cond.face_size,
        "face": record["face"],
        "path": path,
        "decision": result.decision.value,
        "reasons": result.reasons,
        "measures": {name: dict(sig.measures) for name, sig in signals.items()},
        "verdicts": {name: sig.verdict.value for name, sig in signals.items()},
        "ms": ms,
        "server": record.get("server"),  # the server's decision, for captures bench/liveness_accuracy.py kept
    }


def _bucket(ambient: float, face_size: float) -> str:
    """The same buckets as bench/liveness_accuracy.py."""
    light = "dim" if ambient < 0.6 else "bright" if ambient > 2.0 else "normal"
    size = "small" if face_size < 0.3 else "large" if face_size > 0.42 else "medium"
    return f"{light}/{size}"


def _quantiles(values: list[float]) -> str:
    if not values:
        return "-"
    v = np.sort(np.asarray(values, dtype=np.float64))
    q = np.quantile(v, [0.0, 0.05, 0.5, 0.95, 1.0])
    return "min {:.3f}  p5 {:.3f}  med {:.3f}  p95 {:.3f}  max {:.3f}  (n={})".format(*q, len(v))


STATS = (
    ("flash_timing", "r2"),
    ("flash_timing", "response"),
    ("flash_shape", "relative_curvature"),
    ("flash_shape", "curvature_se"),
    ("flash_shape", "edge_ratio"),
    ("flash_reflection", "slope"),
    ("flash_reflection", "unexplained"),
    ("flash_reflection", "share"),
    ("parallax", "deviation"),
    ("quality", "clipped"),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-species", type=int, default=60)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--cache", default="/tmp/liveness_tune")
    parser.add_argument("--species", default=",".join(SPECIES))
    parser.add_argument("--dump", help="write every capture's decision and measures to this JSON file")
    parser.add_argument("--variant", help="render only this attack variant (e.g. curved); use its own --cache")
    parser.add_argument("--ambient", help="LO,HI ambient range instead of the default (e.g. 0.2,0.6: dim rooms)")
    parser.add_argument("--face-size", help="LO,HI face size range (e.g. 0.22,0.3: small faces)")
    parser.add_argument("--seed-base", type=int, default=SEED_BASE, help="another tuning seed set (< 10_000_000)")
    parser.add_argument("--faces", default="", help="only these tuning faces (comma-separated names)")
    parser.add_argument("--room-gain", type=float, help="darken every face's room by this gain (e.g. 0.06)")
    args = parser.parse_args()
    options: dict[str, Any] = {"ranges": {}}
    if args.variant:
        options["variant"] = args.variant
    for name, value in (("ambient", args.ambient), ("face_size", args.face_size)):
        if value:
            options["ranges"][name] = tuple(float(v) for v in value.split(","))
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    species_list = args.species.split(",")
    jobs = []
    for k, species in enumerate(SPECIES):
        if species not in species_list:
            continue
        for i in range(args.per_species):
            seed = args.seed_base + 1009 * i + 101 * k
            assert seed < 10_000_000
            jobs.append((i, species, seed, str(cache / f"{species}_{i:04d}_{seed}_v2.pkl"), options))
    faces = tuple(f for f in args.faces.split(",") if f)
    known = [f[0] for f in tuning_faces()] + list(ON_REQUEST_FACES)
    unknown = sorted(set(faces) - set(known))
    if unknown:
        # Checked here: raised in the pool's initializer, it would surface as a BrokenProcessPool.
        raise SystemExit(f"unknown tuning faces {unknown}; choose from {known}")
    started = time.monotonic()
    todo = [j for j in jobs if not Path(j[3]).exists()]
    if todo:
        with ProcessPoolExecutor(args.jobs, initializer=_init, initargs=(faces, args.room_gain)) as pool:
            for done, _ in enumerate(pool.map(_render, todo, chunksize=2), 1):
                if done % 25 == 0:
                    print(f"rendered {done}/{len(todo)}", file=sys.stderr, flush=True)
    print(f"rendered in {time.monotonic() - started:.0f} s", file=sys.stderr)
    with ProcessPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(_evaluate, [j[3] for j in jobs], chunksize=4))

    if args.dump:
        Path(args.dump).write_text(json.dumps(rows, default=float))
    names = sorted({r["face"] for r in rows})
    print(f"tuning faces: {', '.join(names)}; {len(rows)} captures, seeds < 10_000_000")
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        by[row["species"]].append(row)
    for species in SPECIES:
        group = by.get(species, [])
        if not group:
            continue
        decisions = Counter(r["decision"] for r in group)
        print(f"\n== {species}: n={len(group)}  " + "  ".join(f"{k} {v}" for k, v in sorted(decisions.items())))
        wrong = Counter()
        for r in group:
            bad = r["decision"] != "realface" if species == "bona_fide" else r["decision"] == "realface"
            if bad or (species == "bona_fide" and r["decision"] != "realface"):
                wrong.update(r["reasons"] or ("(accepted)",))
        if wrong:
            print("   reasons of the wrong decisions: " + ", ".join(f"{k} {v}" for k, v in wrong.most_common()))
        variants = sorted({r["variant"] for r in group})
        for signal, stat in STATS:
            for variant in variants if species != "bona_fide" else [None]:
                values = [
                    r["measures"].get(signal, {}).get(stat) for r in group if variant is None or r["variant"] == variant
                ]
                values = [v for v in values if v is not None and np.isfinite(v)]
                if values:
                    label = f"{signal}.{stat}" + (f" [{variant}]" if variant else "")
                    print(f"   {label:48s} {_quantiles(values)}")
    bona = by.get("bona_fide", [])
    if bona:
        print("\nbona fide by condition (realface / n; reasons of the others):")
        buckets: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in bona:
            buckets[f"{_bucket(r['ambient'], r['face_size'])} {r['mode']}"].append(r)
        for key in sorted(buckets):
            group = buckets[key]
            ok = sum(r["decision"] == "realface" for r in group)
            reasons = Counter(x for r in group if r["decision"] != "realface" for x in r["reasons"])
            listed = ", ".join(f"{k} {v}" for k, v in reasons.most_common())
            print(f"   {key:28s} {ok:3d} / {len(group):3d}   {listed}")
    if rows:
        print("\nby face (bona fide realface / n; attacks accepted / n):")
        for face in sorted({r["face"] for r in rows}):
            group = [r for r in rows if r["face"] == face]
            bona_ok = [r["decision"] == "realface" for r in group if r["species"] == "bona_fide"]
            attacks = [r["decision"] == "realface" for r in group if r["species"] != "bona_fide"]
            print(f"   {face:24s} {sum(bona_ok):3d} / {len(bona_ok):3d}   {sum(attacks):3d} / {len(attacks):3d}")
    ms = sorted(r["ms"] for r in rows)
    print(f"\nengine time per capture: median {np.median(ms):.0f} ms, p95 {np.quantile(ms, 0.95):.0f} ms")


if __name__ == "__main__":
    main()
