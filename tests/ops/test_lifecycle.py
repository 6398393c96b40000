"""Process lifecycle: SIGTERM lets in-flight detect calls finish; start-up waits for a database that comes up
late; misconfiguration ends with one clear line and exit code 2."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from openliveness.liveness import Challenge
from openliveness.simulate import HeadModel, Species, simulate_capture
from openliveness.simulate.client import upload_capture
from openliveness.store import DatabaseUnavailable, open_store
from tests.conftest import PG_URL, free_port
from tests.ops.procs import ServerProcess, base_env, create_key

V = "/face/v1.2-preview.1/detectLiveness/singleModal"
IN_FLIGHT = 4


def in_progress(url: str) -> float:
    text = httpx.get(url + "/metrics").text
    line = next(x for x in text.splitlines() if x.startswith("openliveness_http_requests_in_progress "))
    return float(line.split()[1]) - 1  # not counting this scrape


def test_sigterm_finishes_in_flight_detect_calls(tmp_path: Path, sim_head: HeadModel) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    key = create_key(database_url)
    server = ServerProcess(base_env(tmp_path / "data", database_url, cpu_workers=1), tmp_path / "server.log")
    with server:
        app = httpx.Client(base_url=server.url, headers={"Ocp-Apim-Subscription-Key": key}, timeout=60)
        prepared = []
        for i in range(IN_FLIGHT):
            body = {"livenessOperationMode": "Passive", "deviceCorrelationId": f"d{i}", "sendResultsToClient": True}
            token = app.post(f"{V}/sessions", json=body).json()["authToken"]
            attempt = httpx.post(f"{server.url}{V}/attempts", headers={"Authorization": f"Bearer {token}"}).json()
            capture = simulate_capture(sim_head, Challenge.from_json(attempt["challenge"]), Species.BONA_FIDE, rng=i)
            prepared.append((token, attempt["attemptId"], capture))

        def detect(item: tuple[str, str, object]) -> httpx.Response:
            token, attempt_id, capture = item
            with httpx.Client(base_url=server.url, timeout=60) as http:
                return upload_capture(http, token, "detectLiveness", attempt_id, capture)  # type: ignore[arg-type]

        async def scenario() -> tuple[float, list[httpx.Response]]:
            calls = [asyncio.create_task(asyncio.to_thread(detect, item)) for item in prepared]
            deadline = time.monotonic() + 20
            # One CPU worker: the calls queue behind each other, so all are still running at SIGTERM.
            while (running := in_progress(server.url)) < IN_FLIGHT and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            server.signal(signal.SIGTERM)
            return running, await asyncio.gather(*calls)

        running, responses = asyncio.run(scenario())
        assert running == IN_FLIGHT
        # uvicorn re-raises the signal once it has shut down cleanly, so the exit status reports SIGTERM.
        assert server.wait(60) in (0, -signal.SIGTERM), server.tail()
    assert [r.status_code for r in responses] == [200] * IN_FLIGHT, [r.text for r in responses]
    assert all(r.json()["livenessDecision"] in {"realface", "spoofface", "uncertain"} for r in responses)
    with pytest.raises(httpx.TransportError):
        httpx.get(server.url + "/healthz", timeout=2)


def run_cli(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openliveness.cli", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def plain_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENLIVENESS_")}
    env["OPENLIVENESS_DATA_DIR"] = str(tmp_path / "data")
    env["OPENLIVENESS_PORT"] = str(free_port())
    env.update(extra)
    return env


def test_postgres_without_a_shared_secret_is_refused(tmp_path: Path) -> None:
    env = plain_env(tmp_path, OPENLIVENESS_DATABASE_URL="postgresql://postgres@127.0.0.1:5432/test")
    done = run_cli("serve", env=env)
    assert done.returncode == 2
    assert "OPENLIVENESS_TOKEN_SECRET" in done.stderr and "PostgreSQL" in done.stderr


def test_several_workers_without_a_shared_secret_are_refused(tmp_path: Path) -> None:
    done = run_cli("serve", "--workers", "2", env=plain_env(tmp_path))
    assert done.returncode == 2 and "2 worker processes must share one token secret" in done.stderr


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://root@localhost/x", "invalid settings"),
        ("postgresql://postgres@127.0.0.1:1/test", "cannot reach the database at postgresql+asyncpg://"),
    ],
)
def test_bad_database_urls_end_with_one_clear_line(tmp_path: Path, url: str, message: str) -> None:
    env = plain_env(
        tmp_path,
        OPENLIVENESS_DATABASE_URL=url,
        OPENLIVENESS_TOKEN_SECRET="s" * 40,
        OPENLIVENESS_DATABASE_WAIT_SECONDS="1",
    )
    started = time.monotonic()
    done = run_cli("migrate", env=env)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) <= 3
    assert time.monotonic() - started < 30


async def _proxy_after(delay: float, listen_port: int, target: tuple[str, int]) -> asyncio.AbstractServer:
    """After `delay`, accept on `listen_port` and pipe every connection to `target` (a database 'coming up')."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def handle(client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection(*target)
        await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))

    await asyncio.sleep(delay)
    return await asyncio.start_server(handle, "127.0.0.1", listen_port)


@pytest.mark.postgres
async def test_start_up_waits_for_a_late_database() -> None:
    if not PG_URL:
        pytest.skip("PostgreSQL: set OPENLIVENESS_TEST_DATABASE_URL (CI does)")
    port = free_port()
    late_url = re.sub(r"@[^/]+/", f"@127.0.0.1:{port}/", PG_URL)
    with pytest.raises(DatabaseUnavailable):
        await open_store(late_url, migrate=False, wait_seconds=0.5)
    proxy_task = asyncio.create_task(_proxy_after(1.5, port, ("127.0.0.1", 5432)))
    started = time.monotonic()
    store = await open_store(late_url, migrate=False, wait_seconds=20)
    waited = time.monotonic() - started
    await store.ping()
    await store.close()
    (await proxy_task).close()
    assert 1.0 < waited < 10


def test_serve_multiple_workers_share_metrics(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    create_key(database_url)
    env = base_env(tmp_path / "data", database_url)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with ServerProcess(env, tmp_path / "server.log", workers=2) as server:
        for _ in range(20):
            httpx.get(server.url + "/healthz")
        totals = []
        for _ in range(4):  # whichever worker answers, it reports both workers' counts
            text = httpx.get(server.url + "/metrics").text
            line = next(
                x
                for x in text.splitlines()
                if x.startswith("openliveness_http_requests_total") and 'route="/healthz"' in x
            )
            totals.append(float(line.rsplit(" ", 1)[1]))
    assert min(totals) >= 20
