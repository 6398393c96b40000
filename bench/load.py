"""Sustained detect calls per second, and their latency, with 1, 2 and 4 worker processes, on SQLite and PostgreSQL.

For each configuration a real `openliveness serve --workers N` is started. Each run prepares a batch of attempts
(sessions created, challenges fetched, simulated bona fide captures rendered in a process pool: none of this is
timed), then fires the batch's detect calls from `--clients` concurrent connections and times them: calls per
second over the batch, and p50 / p99 of each call's round trip. Medians over `--runs` runs are printed.

    python bench/load.py [--workers 1 2 4] [--runs 5] [--batch 24] [--clients 8]
                         [--backends sqlite postgresql] [--pg-url postgresql://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from _server import create_key, running_server

V = "/face/v1.2-preview.1/detectLiveness/singleModal"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"

_head: Any = None


def _init_renderer() -> None:
    from skimage import data

    from openliveness.simulate import build_head
    from openliveness.vision import FaceAnalyzer

    global _head
    _head = build_head(np.ascontiguousarray(data.astronaut()), FaceAnalyzer.load())


def _render(challenge: dict[str, Any], seed: int) -> tuple[dict[str, Any], list[bytes]]:
    from openliveness.liveness import Challenge
    from openliveness.simulate import Species, simulate_capture

    capture = simulate_capture(_head, Challenge.from_json(challenge), Species.BONA_FIDE, rng=seed)
    return capture.metadata, list(capture.frames)


def prepare(url: str, key: str, pool: ProcessPoolExecutor, count: int, seed: int) -> list[tuple[str, list[Any]]]:
    """`count` attempts with their captures rendered: (token, multipart files)."""
    import json

    started = []
    with httpx.Client(base_url=url, timeout=60) as http:
        for i in range(count):
            body = {"livenessOperationMode": "Passive", "deviceCorrelationId": f"load-{seed}-{i}"}
            created = http.post(f"{V}/sessions", json=body, headers={"Ocp-Apim-Subscription-Key": key})
            created.raise_for_status()
            token = created.json()["authToken"]
            attempt = http.post(f"{V}/attempts", headers={"Authorization": f"Bearer {token}"})
            attempt.raise_for_status()
            started.append((token, attempt.json()))
    rendered = pool.map(_render, [a["challenge"] for _, a in started], [seed * 1000 + i for i in range(count)])
    batch = []
    for (token, attempt), (metadata, frames) in zip(started, rendered, strict=True):
        files: list[Any] = [("metadata", (None, json.dumps({"attemptId": attempt["attemptId"], **metadata})))]
        files += [("frame", (f"frame{i}.jpg", data, "image/jpeg")) for i, data in enumerate(frames)]
        batch.append((token, files))
    return batch


async def fire(url: str, batch: list[tuple[str, list[Any]]], clients: int) -> tuple[float, list[float], int]:
    """Send every detect call, `clients` at a time; (calls per second, latencies in ms, failures)."""
    queue: asyncio.Queue[tuple[str, list[Any]]] = asyncio.Queue()
    for item in batch:
        queue.put_nowait(item)
    latencies: list[float] = []
    failures = 0

    async def client() -> None:
        nonlocal failures
        async with httpx.AsyncClient(base_url=url, timeout=120) as http:
            while not queue.empty():
                token, files = queue.get_nowait()
                started = time.perf_counter()
                response = await http.post(V, files=files, headers={"Authorization": f"Bearer {token}"})
                latencies.append((time.perf_counter() - started) * 1000)
                failures += response.status_code not in (200, 204)

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return len(batch) / (time.perf_counter() - started), latencies, failures


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def run_configuration(
    database_url: str | None, workers: int, args: argparse.Namespace, pool: ProcessPoolExecutor
) -> dict[str, float]:
    rates, p50s, p99s, failures = [], [], [], 0
    with tempfile.TemporaryDirectory() as tmp:
        if database_url:
            _reset_postgres(database_url)
        key = create_key(Path(tmp), database_url)
        with running_server(Path(tmp), args.port, workers=workers, database_url=database_url) as url:
            fire_warmup = prepare(url, key, pool, 2 * workers, seed=999)
            asyncio.run(fire(url, fire_warmup, args.clients))  # every worker loads and warms its models
            for run in range(args.runs):
                batch = prepare(url, key, pool, args.batch, seed=run)
                rate, latencies, failed = asyncio.run(fire(url, batch, args.clients))
                rates.append(rate)
                p50s.append(percentile(latencies, 0.5))
                p99s.append(percentile(latencies, 0.99))
                failures += failed
                print(
                    f"    run {run + 1}: {rate:.1f} detect/s, p50 {p50s[-1]:.0f} ms, p99 {p99s[-1]:.0f} ms"
                    + (f", {failed} FAILED (figures invalid)" if failed else ""),
                    file=sys.stderr,
                    flush=True,
                )
    return {
        "rate": statistics.median(rates),
        "p50": statistics.median(p50s),
        "p99": statistics.median(p99s),
        "failures": failures,
    }


def _reset_postgres(url: str) -> None:
    from sqlalchemy import text

    from openliveness.store import create_engine

    async def go() -> None:
        engine = create_engine(url.replace("postgresql://", "postgresql+asyncpg://", 1))
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()

    asyncio.run(go())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--runs", type=int, default=5)
    # An attempt must be answered within its challenge plus 30 s: the batch is rendered in that time.
    parser.add_argument("--batch", type=int, default=24, help="detect calls per run")
    parser.add_argument("--clients", type=int, default=8, help="concurrent connections")
    parser.add_argument("--port", type=int, default=18790)
    parser.add_argument("--backends", nargs="+", choices=["sqlite", "postgresql"], default=["sqlite", "postgresql"])
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="PostgreSQL database (its schema is reset!)")
    args = parser.parse_args()
    named = {"sqlite": ("SQLite", None), "postgresql": ("PostgreSQL", args.pg_url)}
    backends: list[tuple[str, str | None]] = [named[b] for b in args.backends]
    print(f"machine: {os.cpu_count()} cores; {args.runs} runs x {args.batch} detect calls, {args.clients} clients")
    rows = []
    with ProcessPoolExecutor(max_workers=2, initializer=_init_renderer) as pool:
        for name, url in backends:
            for workers in args.workers:
                print(f"  {name}, {workers} worker(s) ...", file=sys.stderr, flush=True)
                result = run_configuration(url, workers, args, pool)
                rows.append((name, workers, result))
    print(f"{'backend':<11} {'workers':>7} {'detect/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'failed':>7}")
    for name, workers, r in rows:
        print(f"{name:<11} {workers:>7} {r['rate']:>9.1f} {r['p50']:>8.0f} {r['p99']:>8.0f} {int(r['failures']):>7}")


if __name__ == "__main__":
    main()
