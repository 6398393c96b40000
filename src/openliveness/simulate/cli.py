"""`openliveness simulate`: render one simulated capture to a directory (frames, metadata.json, challenge.json)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["simulate_main"]


def simulate_main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="openliveness simulate", description=__doc__)
    parser.add_argument("--face", required=True, type=Path, help="a photo with one face")
    parser.add_argument(
        "--species", default="bona_fide", choices=["bona_fide", "print", "replay", "injection", "photo_still"]
    )
    parser.add_argument("--mode", default="Passive", choices=["Passive", "PassiveActive"])
    parser.add_argument("--variant", default=None, help="species variant (default: drawn at random)")
    parser.add_argument("--conditions", default="sampled", choices=["default", "dim", "bright", "sampled"])
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args(argv)

    from openliveness.domain import LivenessOperationMode
    from openliveness.vision import FaceAnalyzer, decode_image

    from .conditions import Conditions, conditions_to_json, sample_conditions
    from .head import build_head
    from .simulator import random_challenge, simulate_capture

    rng = np.random.default_rng(args.seed)
    image = decode_image(args.face.read_bytes())
    head = build_head(image, FaceAnalyzer.load())
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
