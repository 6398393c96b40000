"""Session API throughput: creates/s and gets/s with p50/p99 latency under concurrent keep-alive connections.

Starts a real `openliveness serve` (SQLite in a temp data dir, bundled models), then drives it over HTTP/1.1
from this process with a small asyncio load generator (raw sockets, so the client costs little CPU on this
2-core machine). Prints the median of several runs.

    python bench/session_api.py [--connections 32] [--seconds 5] [--runs 3] [--workers 1] [--database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _server import create_key, running_server

CREATE_PATH = "/face/v1.2-preview.1/detectLiveness/singleModal/sessions"


def body(device: str) -> bytes:
    return json.dumps({"livenessOperationMode": "Passive", "deviceCorrelationId": device}).encode()


def request_bytes(method: str, path: str, key: str, body: bytes = b"") -> bytes:
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nOcp-Apim-Subscription-Key: {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    return status, await reader.readexactly(length)


async def connection(
    port: int, requests: list[bytes], stop_at: float, latencies: list[float], bodies: list[bytes] | None
) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    errors = 0
    i = 0
    try:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            writer.write(requests[i % len(requests)])
            status, body = await read_response(reader)
            latencies.append(time.perf_counter() - started)
            if status != 200:
                errors += 1
            elif bodies is not None and len(bodies) < 2000:
                bodies.append(body)
            i += 1
    finally:
        writer.close()
    return errors


async def load(
    port: int, requests: list[bytes], connections: int, seconds: float, bodies: list[bytes] | None = None
) -> tuple[float, float, float, int]:
    latencies: list[float] = []
    stop_at = time.perf_counter() + seconds
    started = time.perf_counter()
    errors = await asyncio.gather(
        *(
            connection(port, requests[i::connections] or requests, stop_at, latencies, bodies)
            for i in range(connections)
        )
    )
    elapsed = time.perf_counter() - started
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[int(len(latencies) * 0.99)] * 1000
    return len(latencies) / elapsed, p50, p99, sum(errors)


def main() -> None:
    # The load generator's own garbage-collection pauses would count as server latency.
    gc.disable()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp data dir")
    parser.add_argument(
        "--with-limits",
        action="store_true",
        help="keep the anti-hammer limits on (each create then also counts its device: 10,000 device ids are used)",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        key = create_key(data_dir, args.database_url)
        with running_server(
            data_dir, args.port, workers=args.workers, database_url=args.database_url, limits=args.with_limits
        ):
            devices = [f"bench-device-{i}" for i in range(10_000 if args.with_limits else 1)]
            create = [request_bytes("POST", CREATE_PATH, key, body(d)) for d in devices]
            asyncio.run(load(args.port, create, args.connections, 1.0))  # warm-up
            results: dict[str, list[tuple[float, float, float, int]]] = {"create": [], "get": []}
            for run in range(args.runs):
                bodies: list[bytes] = []
                results["create"].append(asyncio.run(load(args.port, create, args.connections, args.seconds, bodies)))
                ids = [json.loads(b)["sessionId"] for b in bodies]
                gets = [request_bytes("GET", f"{CREATE_PATH}/{sid}", key) for sid in ids]
                results["get"].append(asyncio.run(load(args.port, gets, args.connections, args.seconds)))
                print(
                    f"run {run + 1}/{args.runs}: create {results['create'][-1][0]:.0f}/s, "
                    f"get {results['get'][-1][0]:.0f}/s",
                    file=sys.stderr,
                    flush=True,
                )

    backend = "PostgreSQL" if args.database_url else "SQLite"
    limits = "limits on" if args.with_limits else "limits off"
    print(
        f"session API, {backend}, {limits}, {args.workers} worker(s), {args.connections} connections, "
        f"{args.runs} runs x {args.seconds:.0f} s, medians:"
    )
    for name, runs in results.items():
        rate = statistics.median(r[0] for r in runs)
        p50 = statistics.median(r[1] for r in runs)
        p99 = statistics.median(r[2] for r in runs)
        errors = sum(r[3] for r in runs)
        print(f"  {name:6s} {rate:8.0f} req/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   non-200: {errors}")


if __name__ == "__main__":
    main()
