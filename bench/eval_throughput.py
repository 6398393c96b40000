"""Throughput of `openliveness eval`: 1,000 simulated bundles (generated once, not timed) through the engine.

    python bench/eval_throughput.py [--count 1000] [--dataset DIR] [--jobs N] [--report DIR]

Without --dataset the bundles go to a temp dir (deleted after); with it, existing bundles there are reused. The
target is under 5 minutes for 1,000 bundles on a 2-core machine. Faces: Grace Hopper, plus photos of
../shared/data/verification where present; conditions, modes and species vary per bundle.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "verification"
TARGET_S = 300.0


def faces() -> list[str]:
    from matplotlib import cbook

    out = [str(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))]
    for name in ("deepface/img1.jpg", "deepface/img10.jpg", "face_recognition/obama.jpg"):
        if (SHARED / name).is_file():
            out.append(str(SHARED / name))
    return out


def generate(dataset: Path, count: int, jobs: int) -> None:
    """Split the bundles over `jobs` simulator processes (each a sub-folder with its own seed)."""
    face_args = [a for f in faces() for a in ("--face", f)]
    share = [count // jobs + (1 if i < count % jobs else 0) for i in range(jobs)]
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "openliveness.cli",
                "simulate",
                "--dataset",
                str(dataset / f"part{i}"),
                "--count",
                str(n),
                "--seed",
                str(1000 + i),
                "--mode",
                "mixed",
                *face_args,
            ],
            stdout=subprocess.DEVNULL,
        )
        for i, n in enumerate(share)
        if n
    ]
    if any(p.wait() for p in procs):
        raise SystemExit("simulation failed")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--dataset", type=Path, help="keep the bundles here (reused when already there)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--report", type=Path, help="report folder (default: a temp dir)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        dataset = args.dataset or Path(tmp) / "dataset"
        have = len(list(dataset.rglob("label.json"))) if dataset.is_dir() else 0
        if have < args.count:
            start = time.perf_counter()
            generate(dataset, args.count, args.jobs)
            print(f"generated {args.count} bundles in {time.perf_counter() - start:.0f} s (not timed)", flush=True)
        else:
            print(f"reusing {have} bundles in {dataset}", flush=True)
        report = args.report or Path(tmp) / "report"
        start = time.perf_counter()
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "openliveness.cli",
                "eval",
                str(dataset),
                "--out",
                str(report),
                "--json",
                "--jobs",
                str(args.jobs),
            ],
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        )
        wall = time.perf_counter() - start
    summary = json.loads(done.stdout)
    n = summary["bundles"]
    print(
        f"eval of {n} bundles on {args.jobs} processes: {wall:.1f} s wall, {n / wall:.2f} bundles/s"
        f" (target: {args.count} in under {TARGET_S:.0f} s)"
    )
    print(
        f"APCER worst {summary['apcer_max']} ({summary['apcer_max_species']}), BPCER {summary['bpcer']['value']},"
        f" uncertain {summary['uncertain_share']}, unreadable {summary['unreadable_bundles']}"
    )
    return 0 if wall * args.count / max(n, 1) < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
