"""The `openliveness` command: key management and migrations against a real data directory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENLIVENESS_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "openliveness.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    created = run(tmp_path, "keys", "create", "--name", "billing")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.count("\n") == 0 and key.startswith("olk_")  # the key alone, on its own line
    key_id = key.split("_")[1]

    listed = run(tmp_path, "keys", "list")
    assert listed.returncode == 0
    assert f"{key_id}\tbilling\t" in listed.stdout and "active" in listed.stdout
    assert key.split("_", 2)[2] not in listed.stdout  # never the secret

    assert run(tmp_path, "keys", "revoke", key_id).returncode == 0
    assert "revoked" in run(tmp_path, "keys", "list").stdout
    again = run(tmp_path, "keys", "revoke", key_id)
    assert again.returncode == 1 and "no active key" in again.stderr


def test_migrate_and_help(tmp_path: Path) -> None:
    migrated = run(tmp_path, "migrate")
    assert migrated.returncode == 0 and (tmp_path / "openliveness.db").exists()
    assert run(tmp_path, "migrate").returncode == 0  # idempotent
    usage = run(tmp_path, "serve", "--help")
    assert usage.returncode == 0 and "--port" in usage.stdout


def test_bad_database_url_is_a_clear_error(tmp_path: Path) -> None:
    env_result = subprocess.run(
        [sys.executable, "-m", "openliveness.cli", "keys", "list"],
        env={
            **os.environ,
            "OPENLIVENESS_DATA_DIR": str(tmp_path),
            "OPENLIVENESS_DATABASE_URL": "nosuchdb://x",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert env_result.returncode == 2
    assert "database" in env_result.stderr.lower() and "Traceback" not in env_result.stderr


def test_simulate_writes_a_capture(tmp_path: Path, face_jpeg: bytes) -> None:
    face = tmp_path / "face.jpg"
    face.write_bytes(face_jpeg)
    out = tmp_path / "capture"
    done = run(tmp_path, "simulate", "--face", str(face), "--species", "print", "--seed", "3", "--out", str(out))
    assert done.returncode == 0, done.stderr
    import json

    metadata = json.loads((out / "metadata.json").read_text())
    frames = sorted(out.glob("frame_*.jpg"))
    assert len(frames) == len(metadata["frames"]) > 10
    assert (out / "challenge.json").exists()


def test_simulate_names_a_face_photo_it_cannot_use(tmp_path: Path) -> None:
    """A clear message naming the file, not a traceback: a file that is not an image, a missing one, a photo
    without a face."""
    import numpy as np
    from PIL import Image

    text = tmp_path / "notes.jpg"
    text.write_text("not an image")
    blank = tmp_path / "blank.png"
    Image.fromarray(np.full((200, 200, 3), 128, np.uint8)).save(blank)
    for face, message in ((text, "not a readable image"), (tmp_path / "gone.jpg", "no such file"), (blank, "no face")):
        done = run(tmp_path, "simulate", "--face", str(face), "--out", str(tmp_path / "capture"))
        assert done.returncode == 1, done
        assert str(face) in done.stderr and message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "capture").exists()


def test_purge_removes_expired_sessions(tmp_path: Path) -> None:
    import asyncio
    from datetime import UTC, datetime, timedelta

    from openliveness.store import open_store
    from tests.store.test_contract import make_session

    url = f"sqlite+aiosqlite:///{tmp_path / 'openliveness.db'}"
    now = datetime.now(UTC)
    expired = make_session(created_at=now - timedelta(days=3), expires_at=now - timedelta(days=1))
    live = make_session(created_at=now, expires_at=now + timedelta(days=1))

    async def seed_and_count() -> int:
        store = await open_store(url)
        try:
            if await store.get_session(live.id) is None:
                await store.create_session(expired, None)
                await store.create_session(live, None)
            return sum([await store.get_session(s.id) is not None for s in (expired, live)])
        finally:
            await store.close()

    assert asyncio.run(seed_and_count()) == 2
    done = run(tmp_path, "purge")
    assert done.returncode == 0, done.stderr
    assert "removed 1 expired sessions" in done.stdout
    assert asyncio.run(seed_and_count()) == 1
