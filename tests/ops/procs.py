"""Real `openliveness serve` processes for the operations tests: started, waited for, signalled, restarted."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

import httpx

from openliveness.sessions import ApiKeyService
from openliveness.sessions.limits import LimitPolicy
from openliveness.store import open_store
from tests.conftest import TEST_SECRET, free_port

__all__ = ["ServerProcess", "base_env", "capture_files_for", "create_key"]

# Generous limits unless a test sets its own: load tests would otherwise meet them.
_NO_LIMITS = {f"OPENLIVENESS_LIMIT_{f.name.upper()}": "0" for f in fields(LimitPolicy)}


def base_env(data_dir: Path, database_url: str, **settings: object) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENLIVENESS_")}
    env.update(_NO_LIMITS)
    env.update(
        {
            "OPENLIVENESS_DATA_DIR": str(data_dir),
            "OPENLIVENESS_DATABASE_URL": database_url,
            "OPENLIVENESS_TOKEN_SECRET": TEST_SECRET,
            "OPENLIVENESS_DEMO_ENABLED": "false",
        }
    )
    env.update(
        {f"OPENLIVENESS_{k.upper()}": json.dumps(v) if isinstance(v, list) else str(v) for k, v in settings.items()}
    )
    return env


def create_key(database_url: str) -> str:
    async def go() -> str:
        store = await open_store(database_url)
        try:
            return (await ApiKeyService(store).create("ops")).key
        finally:
            await store.close()

    return asyncio.run(go())


class ServerProcess:
    """One `openliveness serve` on a fixed free port; `start()` returns once /readyz answers 200."""

    def __init__(self, env: dict[str, str], log: Path, *, workers: int = 1) -> None:
        self.env = env
        self.log = log
        self.workers = workers
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> ServerProcess:
        command = [sys.executable, "-m", "openliveness.cli", "serve", "--port", str(self.port)]
        command += ["--workers", str(self.workers), "--log-level", "warning"]
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(command, env=self.env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not become ready:\n{self.tail()}")

    def signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 60) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else ""

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def capture_files_for(attempt: dict[str, Any], frames: list[bytes]) -> list[tuple[str, tuple[Any, ...]]]:
    """A photo-held-still capture for an attempt (unique per attempt: the metadata names it)."""
    metadata = {
        "attemptId": attempt["attemptId"],
        "frames": [{"timestampMs": i * 80.0, "stepIndex": None} for i in range(len(frames))],
    }
    files: list[tuple[str, tuple[Any, ...]]] = [("metadata", (None, json.dumps(metadata), "application/json"))]
    return files + [("frame", (f"frame{i}.jpg", data, "image/jpeg")) for i, data in enumerate(frames)]
