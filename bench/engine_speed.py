"""Time the liveness engine on simulated captures (default size, Passive and PassiveActive): median and p95."""

from __future__ import annotations

import statistics
import time

import numpy as np


def main() -> None:
    from skimage import data

    from openliveness.domain import LivenessOperationMode
    from openliveness.liveness import LivenessEngine
    from openliveness.simulate import Species, build_head, random_challenge, sample_conditions, simulate_capture
    from openliveness.vision import FaceAnalyzer

    analyzer = FaceAnalyzer.load()
    engine = LivenessEngine(analyzer)
    head = build_head(data.astronaut(), analyzer)
    rng = np.random.default_rng(0)
    for mode in LivenessOperationMode:
        times, frames = [], []
        for _ in range(15):
            challenge = random_challenge(rng, mode)
            capture = simulate_capture(
                head, challenge, Species.BONA_FIDE, conditions=sample_conditions(rng), rng=rng
            ).to_capture()
            start = time.perf_counter()
            engine.evaluate(challenge, capture)
            times.append((time.perf_counter() - start) * 1000)
            frames.append(len(capture.frames))
        times.sort()
        print(
            f"{mode.value:14s} frames {statistics.median(frames):.0f}  engine median {statistics.median(times):.0f} ms"
            f"  p95 {times[int(0.95 * (len(times) - 1))]:.0f} ms"
        )


if __name__ == "__main__":
    main()
