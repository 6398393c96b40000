"""Create-with-verify with real photographs: face rectangle and quality back, the embedding kept, bad images refused."""

from __future__ import annotations

import io
import json
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image

from openliveness.services import Services
from openliveness.vision import embedding_from_bytes

URL = "/face/v1.2-preview.1/detectLivenessWithVerify/singleModal/sessions"
PARAMS = json.dumps({"livenessOperationMode": "Passive", "deviceCorrelationId": "device-1"})


async def create(client: httpx.AsyncClient, image: bytes, filename: str = "face.jpg") -> httpx.Response:
    return await client.post(URL, files={"Parameters": (None, PARAMS), "VerifyImage": (filename, image)})


async def test_reference_face_is_reported_and_stored(
    client: httpx.AsyncClient, services: Services, face_jpeg: bytes
) -> None:
    r = await create(client, face_jpeg)
    assert r.status_code == 200, r.text
    verify_image = r.json()["verifyImage"]
    box = verify_image["faceRectangle"]
    # The astronaut's face lies in the upper middle of the 512x512 photo.
    assert 100 < box["left"] < 300 and 20 < box["top"] < 200 and 60 < box["width"] < 250
    assert verify_image["qualityForRecognition"] in {"low", "medium", "high"}
    stored = await services.store.get_session(r.json()["sessionId"])
    assert stored is not None and stored.reference_face is not None
    assert embedding_from_bytes(stored.reference_face.embedding).shape == (128,)


def _encode(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **params)
    return buffer.getvalue()


def _variants(face_jpeg: bytes) -> dict[str, bytes]:
    rgb = Image.open(io.BytesIO(face_jpeg)).convert("RGB")
    grey16 = Image.fromarray(np.asarray(rgb.convert("L"), dtype=np.uint16) * 257)
    frames = [rgb, rgb.transpose(Image.Transpose.FLIP_LEFT_RIGHT)]
    return {
        "cmyk.jpg": _encode(rgb.convert("CMYK"), "JPEG"),
        "16bit.png": _encode(grey16, "PNG"),
        "animated.gif": _encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100),
        "face.bmp": _encode(rgb, "BMP"),
        "face.webp": _encode(rgb, "WEBP"),
        "palette.png": _encode(rgb.convert("P"), "PNG"),
    }


@pytest.mark.parametrize("name", ["cmyk.jpg", "16bit.png", "animated.gif", "face.bmp", "face.webp", "palette.png"])
async def test_every_format_of_one_face_is_accepted(client: httpx.AsyncClient, face_jpeg: bytes, name: str) -> None:
    r = await create(client, _variants(face_jpeg)[name], name)
    assert r.status_code == 200, r.text
    assert r.json()["verifyImage"]["faceRectangle"]["width"] > 50


async def test_image_without_a_face(client: httpx.AsyncClient) -> None:
    gradient = np.tile(np.linspace(0, 255, 400, dtype=np.uint8), (300, 1))
    r = await create(client, _encode(Image.fromarray(gradient).convert("RGB"), "JPEG"))
    assert r.status_code == 400
    assert r.json()["error"] == {"code": "InvalidImage", "message": "No face detected in the image."}


async def test_group_photo_is_refused(client: httpx.AsyncClient, shared_data: Path) -> None:
    r = await create(client, (shared_data / "verification/insightface/t1.jpg").read_bytes())
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "InvalidImage"
    assert "Multiple faces" in r.json()["error"]["message"]


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.9])
async def test_truncated_and_corrupted_files(client: httpx.AsyncClient, face_jpeg: bytes, cut: float) -> None:
    truncated = face_jpeg[: int(len(face_jpeg) * cut)]
    corrupted = bytearray(face_jpeg)
    corrupted[200:1200] = bytes(1000)
    for data in (truncated, bytes(corrupted)):
        r = await create(client, data)
        assert r.status_code in (200, 400), r.text
        if r.status_code == 400:
            assert r.json()["error"]["code"] in {"InvalidImage", "InvalidImageSize"}
