"""`openliveness simulate`: render one simulated capture to a directory (frames, metadata.json, challenge.json), or,
with `--dataset DIR --count N`, a dataset of N labelled capture bundles (varied faces, conditions and species)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["simulate_main"]

# Simulator species -> bundle label (a still photo is a print held still).
_BUNDLE_LABEL = {
    "bona_fide": "bona_fide",
    "print": "print",
    "replay": "replay",
    "injection": "injection",
    "photo_still": "print",
}
_SPECIES = ["bona_fide", "print", "replay", "injection", "photo_still"]


def _default_faces() -> list[Path]:
    from matplotlib import cbook

    return [Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))]


def _load_heads(faces: list[Path]) -> list[tuple[str, Any]]:
    from openliveness.vision import FaceAnalyzer

    from .head import build_head

    analyzer = FaceAnalyzer.load()
    heads = []
    for face in faces:
        try:
            heads.append((face.name, build_head(_read_photo(face), analyzer)))
        except ValueError as exc:
            print(f"skipping {face}: {exc}", file=sys.stderr)
    if not heads:
        raise SystemExit("no usable face among --face photos")
    return heads


def _read_photo(path: Path) -> npt.NDArray[np.uint8]:
    """The photo upright (EXIF orientation applied) in RGB, at most 640 px a side: the head model needs no more.
    Raises ValueError when it cannot be read as an image."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as photo:
            rgb = ImageOps.exif_transpose(photo).convert("RGB")
    except FileNotFoundError:
        raise ValueError("no such file") from None
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise ValueError(f"not a readable image ({exc})") from None
    rgb.thumbnail((640, 640))
    return np.asarray(rgb)


def _write_dataset(args: argparse.Namespace) -> int:
    from openliveness.domain import LivenessOperationMode
    from openliveness.evaluation import Bundle, FrameMeta, Label, write_bundle

    from .conditions import conditions_to_json, sample_conditions
    from .simulator import random_challenge, simulate_capture

    heads = _load_heads(args.face or _default_faces())
    species = args.species_mix.split(",") if args.species_mix else _SPECIES
    unknown = [s for s in species if s not in _SPECIES]
    if unknown:
        raise SystemExit(f"unknown species {unknown}; choose from {_SPECIES}")
    args.dataset.mkdir(parents=True, exist_ok=True)
    for index in range(args.count):
        rng = np.random.default_rng([args.seed, index])
        name, head = heads[index % len(heads)]
        kind = species[index % len(species)]
        mode = (
            LivenessOperationMode(args.mode)
            if args.mode != "mixed"
            else (LivenessOperationMode.PASSIVE if rng.random() < 0.5 else LivenessOperationMode.PASSIVE_ACTIVE)
        )
        challenge = random_challenge(rng, mode)
        conditions = sample_conditions(rng)
        capture = simulate_capture(head, challenge, kind, conditions=conditions, rng=rng)
        label = Label(
            label=_BUNDLE_LABEL[kind],
            source=f"simulator:{kind}/{capture.variant} face={name} seed={args.seed}:{index}",
            conditions=conditions_to_json(conditions),
        )
        frames = tuple(FrameMeta(float(f["timestampMs"]), f["stepIndex"]) for f in capture.metadata["frames"])
        bundle = Bundle(
            name=f"{index:05d}_{kind}", challenge=challenge, label=label, frames=frames, jpegs=tuple(capture.frames)
        )
        suffix = ".zip" if args.zip else ""
        write_bundle(bundle, args.dataset / f"{index:05d}_{kind}{suffix}")
    print(f"{args.count} bundles written to {args.dataset} ({len(heads)} faces, species {', '.join(species)})")
    return 0


def simulate_main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="openliveness simulate", description=__doc__)
    parser.add_argument(
        "--face",
        type=Path,
        action="append",
        help="a photo with one face (repeat for several; --dataset defaults to Grace Hopper)",
    )
    parser.add_argument("--species", default="bona_fide", choices=_SPECIES)
    parser.add_argument("--mode", default="Passive", choices=["Passive", "PassiveActive", "mixed"])
    parser.add_argument("--variant", default=None, help="species variant (default: drawn at random)")
    parser.add_argument("--conditions", default="sampled", choices=["default", "dim", "bright", "sampled"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="folder for one capture")
    parser.add_argument("--dataset", type=Path, help="write --count labelled bundles here (docs/evaluation.md)")
    parser.add_argument("--count", type=int, default=10, help="bundles to write with --dataset")
    parser.add_argument(
        "--species-mix", default=None, help="comma-separated species cycled over with --dataset (default: all)"
    )
    parser.add_argument("--zip", action="store_true", help="write each bundle as a .zip")
    args = parser.parse_args(argv)
    if args.dataset is not None:
        if args.count < 1:
            parser.error("--count must be at least 1")
        if args.variant is not None:
            parser.error("--variant is for one capture (--dataset draws each bundle's variant)")
        return _write_dataset(args)
    if args.variant is not None:
        from .simulator import Species, known_variants

        known = known_variants(Species(args.species))
        if args.variant not in known:
            parser.error(f"--variant {args.variant!r} is not one of {args.species}'s: {', '.join(known)}")
    if args.out is None or not args.face:
        parser.error("one capture needs --face and --out (or use --dataset DIR --count N)")
    if args.mode == "mixed":
        parser.error("--mode mixed is for --dataset")

    from openliveness.domain import LivenessOperationMode
    from openliveness.vision import FaceAnalyzer

    from .conditions import Conditions, conditions_to_json, sample_conditions
    from .head import build_head
    from .simulator import random_challenge, simulate_capture

    rng = np.random.default_rng(args.seed)
    try:
        head = build_head(_read_photo(args.face[0]), FaceAnalyzer.load())
    except ValueError as exc:
        raise SystemExit(f"openliveness simulate: {args.face[0]}: {exc}") from None
    challenge = random_challenge(rng, LivenessOperationMode(args.mode))
    presets = {"default": Conditions(), "dim": Conditions.dim(), "bright": Conditions.bright()}
    conditions = presets[args.conditions] if args.conditions in presets else sample_conditions(rng)
    capture = simulate_capture(head, challenge, args.species, conditions=conditions, rng=rng, variant=args.variant)

    args.out.mkdir(parents=True, exist_ok=True)
    for index, data in enumerate(capture.frames):
        (args.out / f"frame_{index:03d}.jpg").write_bytes(data)
    (args.out / "metadata.json").write_text(json.dumps(capture.metadata, indent=1))
    (args.out / "challenge.json").write_text(json.dumps(challenge.to_json(), indent=1))
    info = {"label": capture.label, "variant": capture.variant, "conditions": conditions_to_json(conditions)}
    (args.out / "simulation.json").write_text(json.dumps(info, indent=1))
    print(f"{capture.label} ({capture.variant}): {len(capture.frames)} frames written to {args.out}")
    return 0
