"""Benchmark helper: a real `openliveness serve` in a temp data dir, and an API key for it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path

from openliveness.sessions.limits import LimitPolicy

# Benchmarks measure throughput from one address with few device ids: the anti-hammer limits would refuse them.
_NO_LIMITS = {f"OPENLIVENESS_LIMIT_{f.name.upper()}": "0" for f in fields(LimitPolicy)}


def _env(data_dir: Path, database_url: str | None, *, limits: bool = False) -> dict[str, str]:
    env = {**os.environ, "OPENLIVENESS_DATA_DIR": str(data_dir), "OPENLIVENESS_TOKEN_SECRET": "b" * 48}
    if not limits:
        env.update(_NO_LIMITS)
    if database_url:
        env["OPENLIVENESS_DATABASE_URL"] = database_url
    return env


def create_key(data_dir: Path, database_url: str | None = None) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "openliveness.cli", "keys", "create", "--name", "bench"],
        env=_env(data_dir, database_url),
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


@contextmanager
def running_server(
    data_dir: Path, port: int, *, workers: int = 1, database_url: str | None = None, limits: bool = False
) -> Iterator[str]:
    """Start the server (anti-hammer limits off unless `limits`), wait until /readyz answers, yield its URL, stop it.
    The server's stderr goes to `server.log` in `data_dir` (a pipe nobody reads fills up and stalls the server)."""
    log_path = data_dir / "server.log"
    log = log_path.open("wb")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "openliveness.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        env=_env(data_dir, database_url, limits=limits),
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/readyz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    err = log_path.read_text(errors="replace")
                    raise SystemExit(f"server did not become ready: {err}") from None
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
        said = log_path.read_text(errors="replace").strip()
        if said:
            print("server's stderr (last lines):", *said.splitlines()[-20:], sep="\n", file=sys.stderr)
