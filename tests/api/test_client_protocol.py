"""The client protocol over ASGI: attempts, guidance, the detect call, and every way to abuse them."""

from __future__ import annotations

import asyncio
import io
import json

import httpx
import pytest
from PIL import Image

from openliveness.services import Services

V = "/face/v1.2-preview.1"
BODY = {"livenessOperationMode": "Passive", "deviceCorrelationId": "device-1"}


def framed(face_jpeg: bytes, size: tuple[int, int] = (480, 360)) -> Image.Image:
    """The photo scaled into a frame of `size` without distorting it (grey bars at the sides)."""
    photo = Image.open(io.BytesIO(face_jpeg)).convert("RGB")
    photo.thumbnail(size)
    canvas = Image.new("RGB", size, (90, 90, 90))
    canvas.paste(photo, ((size[0] - photo.width) // 2, (size[1] - photo.height) // 2))
    return canvas


def small_jpeg(face_jpeg: bytes, size: tuple[int, int] = (480, 360)) -> bytes:
    image = framed(face_jpeg, size)
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def capture_files(attempt_id: str, frames: list[bytes], *, step_ms: float = 80.0) -> list[tuple[str, tuple]]:
    metadata = {
        "attemptId": attempt_id,
        "frames": [{"timestampMs": i * step_ms, "stepIndex": None} for i in range(len(frames))],
    }
    files: list[tuple[str, tuple]] = [("metadata", (None, json.dumps(metadata), "application/json"))]
    files += [("frame", (f"frame{i}.jpg", data, "image/jpeg")) for i, data in enumerate(frames)]
    return files


async def new_session(client: httpx.AsyncClient, kind: str = "detectLiveness", **extra: object) -> dict:
    r = await client.post(f"{V}/{kind}/singleModal/sessions", json={**BODY, **extra})
    assert r.status_code == 200, r.text
    return r.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def start(client: httpx.AsyncClient, token: str, kind: str = "detectLiveness", **body: object) -> httpx.Response:
    return await client.post(f"{V}/{kind}/singleModal/attempts", json=body or None, headers=bearer(token))


@pytest.fixture
def frames(face_jpeg: bytes) -> list[bytes]:
    # A photo held still: distinct JPEG bytes per frame so the capture is not trivially duplicated.
    base = framed(face_jpeg)
    out = []
    for i in range(40):
        buffer = io.BytesIO()
        base.rotate(0.05 * i).save(buffer, format="JPEG", quality=85)
        out.append(buffer.getvalue())
    return out


async def test_attempt_gives_a_fresh_challenge(client: httpx.AsyncClient) -> None:
    session = await new_session(client)
    first = await start(client, session["authToken"])
    second = await start(client, session["authToken"])
    assert first.status_code == 200, first.text
    one, two = first.json(), second.json()
    assert one["attemptNumber"] == 1 and one["attemptsRemaining"] == 2 and two["attemptNumber"] == 2
    assert one["attemptId"] != two["attemptId"]
    assert one["challenge"]["steps"] != two["challenge"]["steps"]
    assert one["challenge"]["motion"] is None
    got = (await client.get(f"{V}/detectLiveness/singleModal/sessions/{session['sessionId']}")).json()
    assert got["status"] == "Started" and got["sessionStartDateTime"] is not None


async def test_passive_active_gets_a_motion_prompt(client: httpx.AsyncClient) -> None:
    session = await new_session(client, livenessOperationMode="PassiveActive")
    challenge = (await start(client, session["authToken"])).json()["challenge"]
    assert challenge["motion"]["prompt"] in {"turn_left", "turn_right", "move_closer"}


async def test_fourth_attempt_is_refused(client: httpx.AsyncClient) -> None:
    token = (await new_session(client))["authToken"]
    assert [(await start(client, token)).status_code for _ in range(3)] == [200, 200, 200]
    fourth = await start(client, token)
    assert fourth.status_code == 401 and "No attempts left" in fourth.json()["error"]["message"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic abc"}])
async def test_client_calls_need_a_valid_token(client: httpx.AsyncClient, headers: dict) -> None:
    r = await client.post(f"{V}/detectLiveness/singleModal/attempts", headers=headers)
    assert r.status_code == 401 and r.json()["error"]["code"] == "Unauthorized"


async def test_token_of_the_other_kind_and_deleted_session(client: httpx.AsyncClient) -> None:
    plain = await new_session(client)
    assert (await start(client, plain["authToken"], "detectLivenessWithVerify")).status_code == 401
    await client.delete(f"{V}/detectLiveness/singleModal/sessions/{plain['sessionId']}")
    assert (await start(client, plain["authToken"])).status_code == 401


async def test_device_id_set_in_client(client: httpx.AsyncClient, services: Services) -> None:
    session = await new_session(client, deviceCorrelationIdSetInClient=True, deviceCorrelationId=None)
    missing = await start(client, session["authToken"])
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "InvalidDeviceCorrelationId"
    assert (await start(client, session["authToken"], deviceCorrelationId="phone-7")).status_code == 200
    stored = await services.store.get_session(session["sessionId"])
    assert stored is not None and stored.device_correlation_id == "phone-7"


async def test_guidance(client: httpx.AsyncClient, face_jpeg: bytes) -> None:
    token = (await new_session(client))["authToken"]
    r = await client.post(
        f"{V}/detectLiveness/singleModal/guidance",
        content=small_jpeg(face_jpeg, (320, 240)),
        headers={**bearer(token), "content-type": "image/jpeg"},
    )
    assert r.status_code == 200, r.text
    assert r.json()["faceRectangle"]["width"] > 20 and r.json()["hint"] in {"ok", "center", "move_closer", "hold_still"}
    dark = io.BytesIO()
    Image.new("RGB", (320, 240), (5, 5, 5)).save(dark, format="JPEG")
    r = await client.post(f"{V}/detectLiveness/singleModal/guidance", content=dark.getvalue(), headers=bearer(token))
    assert r.json()["hint"] == "too_dark" and r.json()["faceRectangle"] is None
    r = await client.post(
        f"{V}/detectLiveness/singleModal/guidance", content=b"not an image" * 20, headers=bearer(token)
    )
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidImage"


async def test_detect_records_an_audit_entry(client: httpx.AsyncClient, frames: list[bytes]) -> None:
    session = await new_session(client, enableSessionImage=True)
    attempt = (await start(client, session["authToken"])).json()
    r = await client.post(
        f"{V}/detectLiveness/singleModal",
        files=capture_files(attempt["attemptId"], frames),
        headers={**bearer(session["authToken"]), "client-request-id": "my-client-id", "user-agent": "proto-test"},
    )
    assert r.status_code == 204, r.text  # sendResultsToClient is false
    got = (await client.get(f"{V}/detectLiveness/singleModal/sessions/{session['sessionId']}")).json()
    assert got["status"] == "ResultAvailable"
    entry = got["result"]
    assert entry["clientRequestId"] == "my-client-id" and entry["requestId"] == r.headers["apim-request-id"]
    assert entry["request"]["url"] == f"{V}/detectLiveness/singleModal" and entry["request"]["method"] == "POST"
    assert entry["request"]["userAgent"] == "proto-test" and entry["request"]["contentLength"] > 0
    body = entry["response"]["body"]
    assert body["livenessDecision"] in {"realface", "spoofface", "uncertain"}
    assert body["livenessDecision"] != "realface"  # a still photo cannot answer the flash
    assert body["modelVersionUsed"] and isinstance(body["signals"], dict) and isinstance(body["reasons"], list)
    assert entry["response"]["statusCode"] == 204 and entry["response"]["latencyInMilliseconds"] >= 0
    assert len(entry["digest"]) == 64
    if "target" in body:
        image = await client.get(f"{V}/session/sessionImages/{entry['sessionImageId']}")
        assert image.status_code == 200 and image.content in frames


async def test_send_results_to_client_hides_signals(client: httpx.AsyncClient, frames: list[bytes]) -> None:
    session = await new_session(client, sendResultsToClient=True)
    attempt = (await start(client, session["authToken"])).json()
    r = await client.post(
        f"{V}/detectLiveness/singleModal",
        files=capture_files(attempt["attemptId"], frames),
        headers=bearer(session["authToken"]),
    )
    assert r.status_code == 200, r.text
    assert r.json()["livenessDecision"] in {"spoofface", "uncertain"}
    assert "signals" not in r.json() and "reasons" not in r.json()


async def test_a_challenge_is_answered_once(client: httpx.AsyncClient, frames: list[bytes]) -> None:
    session = await new_session(client)
    token = session["authToken"]
    attempt = (await start(client, token)).json()
    first = await client.post(
        f"{V}/detectLiveness/singleModal", files=capture_files(attempt["attemptId"], frames), headers=bearer(token)
    )
    assert first.status_code == 204
    again = await client.post(
        f"{V}/detectLiveness/singleModal", files=capture_files(attempt["attemptId"], frames[1:]), headers=bearer(token)
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "ConcurrentOperationConflict"


async def test_replayed_payload_is_refused(client: httpx.AsyncClient, frames: list[bytes]) -> None:
    a = await new_session(client)
    attempt = (await start(client, a["authToken"])).json()
    files = capture_files(attempt["attemptId"], frames)
    assert (
        await client.post(f"{V}/detectLiveness/singleModal", files=files, headers=bearer(a["authToken"]))
    ).status_code == 204
    # The same bytes into another session: its token does not own that attempt.
    b = await new_session(client)
    await start(client, b["authToken"])
    r = await client.post(f"{V}/detectLiveness/singleModal", files=files, headers=bearer(b["authToken"]))
    assert r.status_code == 401
    # Into another attempt of the same session: the frames are the same payload whatever attempt it names.
    other = (await start(client, a["authToken"])).json()
    replay = capture_files(other["attemptId"], frames)
    r = await client.post(f"{V}/detectLiveness/singleModal", files=replay, headers=bearer(a["authToken"]))
    assert r.status_code in (204, 409)
    if r.status_code == 204:  # a new digest (the attempt id differs): the engine must still refuse it
        got = (await client.get(f"{V}/detectLiveness/singleModal/sessions/{a['sessionId']}")).json()
        assert got["result"]["response"]["body"]["livenessDecision"] != "realface"


async def test_concurrent_detect_calls_on_one_attempt(client: httpx.AsyncClient, frames: list[bytes]) -> None:
    session = await new_session(client)
    token = session["authToken"]
    attempt = (await start(client, token)).json()
    calls = [
        client.post(
            f"{V}/detectLiveness/singleModal",
            files=capture_files(attempt["attemptId"], frames[i:]),
            headers=bearer(token),
        )
        for i in range(4)
    ]
    statuses = sorted(r.status_code for r in await asyncio.gather(*calls))
    assert statuses == [204, 409, 409, 409]
    audit = (await client.get(f"{V}/detectLiveness/singleModal/sessions/{session['sessionId']}/audit")).json()
    assert len(audit) == 1


async def test_bad_captures_are_refused_and_leave_the_session_consistent(
    client: httpx.AsyncClient, frames: list[bytes]
) -> None:
    session = await new_session(client)
    token = session["authToken"]
    attempt_id = (await start(client, token)).json()["attemptId"]
    url = f"{V}/detectLiveness/singleModal"
    multipart = "multipart/form-data; boundary=x"
    # Refused before the attempt is touched: malformed or inconsistent requests, and foreign attempts.
    mismatch = capture_files(attempt_id, frames[:3])[:-1]  # metadata says 3, two frames sent
    r = await client.post(url, files=mismatch, headers=bearer(token))
    assert r.status_code == 400 and r.json()["error"]["code"] == "BadArgument"
    r = await client.post(url, files=capture_files(attempt_id, frames * 3), headers=bearer(token))
    assert r.status_code == 400  # more frames than the challenge allows
    r = await client.post(url, content=b"--x\r\nbroken", headers={**bearer(token), "content-type": multipart})
    assert r.status_code == 400
    r = await client.post(url, json={"attemptId": attempt_id}, headers=bearer(token))
    assert r.status_code == 400
    big = await client.post(url, content=b"x" * (9 * 1024 * 1024), headers={**bearer(token), "content-type": multipart})
    assert big.status_code == 413
    wrong = capture_files("00000000-0000-0000-0000-000000000000", frames)
    assert (await client.post(url, files=wrong, headers=bearer(token))).status_code == 401
    # A frame that is not an image is found while decoding, after the attempt was claimed: it is used up.
    not_image = capture_files(attempt_id, [*frames[:5], b"this is not an image at all" * 10])
    r = await client.post(url, files=not_image, headers=bearer(token))
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidImage"
    assert "Frame 5" in r.json()["error"]["message"]
    r = await client.post(url, files=capture_files(attempt_id, frames), headers=bearer(token))
    assert r.status_code == 409
    # The session is consistent: one attempt used, no result, and the next attempt works.
    got = (await client.get(f"{V}/detectLiveness/singleModal/sessions/{session['sessionId']}")).json()
    assert got["status"] == "Started" and "result" not in got
    next_attempt = (await start(client, token)).json()
    assert next_attempt["attemptNumber"] == 2
    ok = await client.post(url, files=capture_files(next_attempt["attemptId"], frames), headers=bearer(token))
    assert ok.status_code == 204
    audit = (await client.get(f"{V}/detectLiveness/singleModal/sessions/{session['sessionId']}/audit")).json()
    assert len(audit) == 1


async def test_coarse_jpeg_frames_are_refused_before_the_attempt_is_used(
    client: httpx.AsyncClient, frames: list[bytes], face_jpeg: bytes
) -> None:
    token = (await new_session(client))["authToken"]
    attempt = (await start(client, token)).json()
    assert attempt["challenge"]["capture"]["jpegQuality"] == 0.92
    url = f"{V}/detectLiveness/singleModal"
    buffer = io.BytesIO()
    framed(face_jpeg).save(buffer, format="JPEG", quality=60)
    coarse = capture_files(attempt["attemptId"], [*frames[:5], buffer.getvalue(), *frames[5:]])
    r = await client.post(url, files=coarse, headers=bearer(token))
    assert r.status_code == 400 and r.json()["error"]["code"] == "InvalidImage"
    message = r.json()["error"]["message"]
    assert "Frame 5" in message and "quality about 60" in message and "jpegQuality" in message
    # Only headers were read: the attempt is still open for the same capture encoded as asked.
    ok = await client.post(url, files=capture_files(attempt["attemptId"], frames), headers=bearer(token))
    assert ok.status_code == 204


async def test_verify_image_rules(client: httpx.AsyncClient, frames: list[bytes], face_jpeg: bytes) -> None:
    plain = await new_session(client)
    attempt = (await start(client, plain["authToken"])).json()
    files = [*capture_files(attempt["attemptId"], frames), ("VerifyImage", ("ref.jpg", face_jpeg, "image/jpeg"))]
    r = await client.post(f"{V}/detectLiveness/singleModal", files=files, headers=bearer(plain["authToken"]))
    assert r.status_code == 400 and "VerifyImage" in r.json()["error"]["message"]

    with_ref = await client.post(
        f"{V}/detectLivenessWithVerify/singleModal/sessions",
        files={
            "Parameters": (None, json.dumps({**BODY, "sendResultsToClient": True})),
            "VerifyImage": ("ref.jpg", face_jpeg),
        },
    )
    token = with_ref.json()["authToken"]
    attempt = (await start(client, token, "detectLivenessWithVerify")).json()
    files = [*capture_files(attempt["attemptId"], frames), ("VerifyImage", ("other.jpg", face_jpeg, "image/jpeg"))]
    r = await client.post(f"{V}/detectLivenessWithVerify/singleModal", files=files, headers=bearer(token))
    assert r.status_code == 400  # the client may not replace the app server's reference
    r = await client.post(
        f"{V}/detectLivenessWithVerify/singleModal",
        files=capture_files(attempt["attemptId"], frames),
        headers=bearer(token),
    )
    assert r.status_code == 200, r.text
    verify = r.json()["verifyResult"]
    assert verify["isIdentical"] is True and verify["matchConfidence"] > 0.9  # same person as the reference

    without_ref = await new_session(client, "detectLivenessWithVerify", sendResultsToClient=True)
    token = without_ref["authToken"]
    attempt = (await start(client, token, "detectLivenessWithVerify")).json()
    r = await client.post(
        f"{V}/detectLivenessWithVerify/singleModal",
        files=capture_files(attempt["attemptId"], frames),
        headers=bearer(token),
    )
    assert r.status_code == 400  # no reference anywhere
    files = [*capture_files(attempt["attemptId"], frames), ("VerifyImage", ("ref.jpg", face_jpeg, "image/jpeg"))]
    r = await client.post(f"{V}/detectLivenessWithVerify/singleModal", files=files, headers=bearer(token))
    assert r.status_code == 200 and r.json()["verifyResult"]["isIdentical"] is True


async def test_concurrent_detect_calls_on_one_session(client: httpx.AsyncClient, frames: list[bytes]) -> None:
    """Three attempts, two racing uploads each, plus a fourth attempt refused: exactly three are processed."""
    session = await new_session(client)
    token = session["authToken"]
    attempt_ids = [(await start(client, token)).json()["attemptId"] for _ in range(3)]
    assert (await start(client, token)).status_code == 401
    calls = [
        client.post(
            f"{V}/detectLiveness/singleModal",
            files=capture_files(attempt_id, frames[k:]),
            headers=bearer(token),
        )
        for attempt_id in attempt_ids
        for k in range(2)
    ]
    statuses = sorted(r.status_code for r in await asyncio.gather(*calls))
    assert statuses == [204, 204, 204, 409, 409, 409]
    audit = (await client.get(f"{V}/detectLiveness/singleModal/sessions/{session['sessionId']}/audit")).json()
    assert len(audit) == 3 and len({entry["digest"] for entry in audit}) == 3
    stored = (await client.get(f"{V}/detectLiveness/singleModal/sessions/{session['sessionId']}")).json()
    assert stored["result"]["id"] == max(entry["id"] for entry in audit)
