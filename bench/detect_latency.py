"""Server time of one detect call for the default capture size (480x360 frames, ~12 fps), one call at a time.

Starts `openliveness serve`, runs simulated bona fide captures through the client protocol over HTTP, and prints
the median and p95 of the server's own time (the audit entry's latencyInMilliseconds: parsing, decoding, engine,
verification, storage) and of the client's round trip, for Passive and PassiveActive.

    python bench/detect_latency.py [--runs 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import httpx
import numpy as np
from skimage import data

from _server import create_key, running_server


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def main() -> None:
    from openliveness.simulate import build_head, run_simulated_check
    from openliveness.vision import FaceAnalyzer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="captures per mode")
    parser.add_argument("--port", type=int, default=18768)
    args = parser.parse_args()
    head = build_head(np.ascontiguousarray(data.astronaut()), FaceAnalyzer.load())

    with tempfile.TemporaryDirectory() as tmp:
        key = create_key(Path(tmp))
        with running_server(Path(tmp), args.port) as url, httpx.Client(base_url=url, timeout=120) as http:
            run_simulated_check(http, key, head, "bona_fide", rng=0)  # warm-up
            results: dict[str, tuple[list[float], list[float], list[int]]] = {}
            for mode in ("Passive", "PassiveActive"):
                server, round_trip, frames = [], [], []
                for seed in range(args.runs):
                    check = run_simulated_check(http, key, head, "bona_fide", mode=mode, rng=seed)
                    server.append(float(check.server_ms))
                    round_trip.append(check.round_trip_ms)
                    frames.append(check.frames)
                print(f"{mode}: {args.runs} calls done", file=sys.stderr, flush=True)
                results[mode] = (server, round_trip, frames)

    print(f"detect call latency, one call at a time, {args.runs} simulated bona fide captures per mode:")
    for mode, (server, round_trip, frames) in results.items():
        print(
            f"  {mode:13s} frames {statistics.median(frames):3.0f}   server: median {statistics.median(server):5.0f} ms"
            f"  p95 {percentile(server, 0.95):5.0f} ms   round trip: median {statistics.median(round_trip):5.0f} ms"
            f"  p95 {percentile(round_trip, 0.95):5.0f} ms"
        )


if __name__ == "__main__":
    main()
