"""Real recordings and spoof photos from ../shared/data, sent through the client protocol as captures of a real
attempt: none can answer the server's fresh challenge, so none may come back realface."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from tests.api.test_client_protocol import bearer, capture_files, new_session, start

V = "/face/v1.2-preview.1"
STILLS = [
    "spoof-stills/silent_face/image_F1.jpg",
    "spoof-stills/silent_face/image_F2.jpg",
    "spoof-stills/vietmoney/fake_001.jpg",
    "spoof-stills/hyperfas/fake_screen.png",
    # Genuine photos are attacks too once shown to the camera instead of a person: they cannot answer the flash.
    "spoof-stills/silent_face/image_T1.jpg",
    "spoof-stills/vietmoney/true_001.jpg",
]


def jpeg(image: np.ndarray) -> bytes:
    pil = Image.fromarray(image).convert("RGB")
    pil.thumbnail((480, 480))
    buffer = io.BytesIO()
    pil.save(buffer, format="JPEG", quality=88)
    return buffer.getvalue()


def video_frames(path: Path, count: int) -> list[np.ndarray]:
    cv2 = pytest.importorskip("cv2")
    video = cv2.VideoCapture(str(path))
    frames = []
    while len(frames) < count:
        ok, frame = video.read()
        if not ok:
            break
        frames.append(np.ascontiguousarray(frame[:, :, ::-1]))
    video.release()
    return frames


async def submit(client: httpx.AsyncClient, images: list[np.ndarray]) -> dict:
    session = await new_session(client, sendResultsToClient=True)
    attempt = (await start(client, session["authToken"])).json()
    total = attempt["challenge"]["leadInMs"] + sum(s["durationMs"] for s in attempt["challenge"]["steps"])
    count = int(total / 1000 * 12)
    rng = np.random.default_rng(3)
    frames = []
    for k in range(count):
        # A little noise per frame, as a camera would add, so repeated stills are not plain duplicates.
        base = images[k % len(images)].astype(np.int16)
        frames.append(jpeg(np.clip(base + rng.integers(-2, 3, base.shape), 0, 255).astype(np.uint8)))
    r = await client.post(
        f"{V}/detectLiveness/singleModal",
        files=capture_files(attempt["attemptId"], frames, step_ms=1000 / 12),
        headers=bearer(session["authToken"]),
    )
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("name", STILLS)
async def test_photos_are_never_realface(client: httpx.AsyncClient, shared_data: Path, name: str) -> None:
    path = shared_data / name
    if not path.exists():
        pytest.skip(f"{name} absent")
    image = np.asarray(Image.open(path).convert("RGB"))
    for turned in (image, np.rot90(image, 1), np.rot90(image, 3)):  # some lie on their side
        body = await submit(client, [np.ascontiguousarray(turned)])
        assert body["livenessDecision"] != "realface", (name, body)


@pytest.mark.parametrize("name", ["videos/tranvanluyt2203/fake.mp4", "videos/tranvanluyt2203/real.mp4"])
async def test_recorded_videos_are_never_realface(client: httpx.AsyncClient, shared_data: Path, name: str) -> None:
    frames = video_frames(shared_data / name, 80)
    if not frames:
        pytest.skip(f"{name} could not be read")
    body = await submit(client, frames)
    assert body["livenessDecision"] != "realface", (name, body)
