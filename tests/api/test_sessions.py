"""The session API over ASGI: lifecycle, paging, validation with Azure's error codes, auth, versions."""

from __future__ import annotations

import io
import json
import uuid

import httpx
import pytest
from PIL import Image

from openliveness.services import Services

V = "/face/v1.2-preview.1"
KINDS = ["detectLiveness", "detectLivenessWithVerify"]
BODY = {"livenessOperationMode": "Passive", "deviceCorrelationId": "device-1"}


def error_code(response: httpx.Response) -> str:
    code = response.json()["error"]["code"]
    assert response.headers["x-ms-error-code"] == code
    assert response.json()["error"]["message"]
    return code


@pytest.mark.parametrize("kind", KINDS)
async def test_session_lifecycle(client: httpx.AsyncClient, kind: str) -> None:
    created = await client.post(f"{V}/{kind}/singleModal/sessions", json={**BODY, "authTokenTimeToLiveInSeconds": 120})
    assert created.status_code == 200, created.text
    session_id = created.json()["sessionId"]
    assert uuid.UUID(session_id) and created.json()["authToken"].count(".") == 2
    assert created.headers["apim-request-id"]

    got = (await client.get(f"{V}/{kind}/singleModal/sessions/{session_id}")).json()
    assert got["id"] == session_id
    assert got["status"] == "NotStarted"
    assert got["sessionExpired"] is False
    assert got["authTokenTimeToLiveInSeconds"] == 120
    assert got["deviceCorrelationId"] == "device-1"
    assert got["createdDateTime"].endswith("+00:00") and got["sessionStartDateTime"] is None
    assert "result" not in got

    listed = (await client.get(f"{V}/{kind}/singleModal/sessions")).json()
    assert [item["id"] for item in listed] == [session_id]
    assert set(listed[0]) == {
        "id",
        "createdDateTime",
        "sessionStartDateTime",
        "sessionExpired",
        "deviceCorrelationId",
        "authTokenTimeToLiveInSeconds",
    }
    assert (await client.get(f"{V}/{kind}/singleModal/sessions/{session_id}/audit")).json() == []

    deleted = await client.delete(f"{V}/{kind}/singleModal/sessions/{session_id}")
    assert deleted.status_code == 200 and deleted.content == b""
    again = await client.get(f"{V}/{kind}/singleModal/sessions/{session_id}")
    assert again.status_code == 404 and error_code(again) == "SessionNotFound"
    assert (await client.delete(f"{V}/{kind}/singleModal/sessions/{session_id}")).status_code == 404


async def test_kinds_are_separate(client: httpx.AsyncClient) -> None:
    sid = (await client.post(f"{V}/detectLiveness/singleModal/sessions", json=BODY)).json()["sessionId"]
    other = await client.get(f"{V}/detectLivenessWithVerify/singleModal/sessions/{sid}")
    assert other.status_code == 404 and error_code(other) == "SessionNotFound"
    assert (await client.get(f"{V}/detectLivenessWithVerify/singleModal/sessions")).json() == []


async def test_list_paging_with_start_and_top(client: httpx.AsyncClient) -> None:
    for _ in range(5):
        assert (await client.post(f"{V}/detectLiveness/singleModal/sessions", json=BODY)).status_code == 200
    everything = [s["id"] for s in (await client.get(f"{V}/detectLiveness/singleModal/sessions")).json()]
    assert everything == sorted(everything) and len(everything) == 5
    first = (await client.get(f"{V}/detectLiveness/singleModal/sessions", params={"top": 2})).json()
    rest = (
        await client.get(f"{V}/detectLiveness/singleModal/sessions", params={"start": first[-1]["id"], "top": 10})
    ).json()
    assert [s["id"] for s in first + rest] == everything


async def test_both_api_versions_and_azure_spelling_of_paths(client: httpx.AsyncClient) -> None:
    r = await client.post("/face/v1.1-preview.1/detectLiveness/singleModal/sessions", json=BODY)
    assert r.status_code == 200
    # Azure's own walk-through uses lower-case paths with a trailing slash.
    listed = await client.get("/face/v1.1-preview.1/detectliveness/singlemodal/sessions/")
    assert listed.status_code == 200 and len(listed.json()) == 1


@pytest.mark.parametrize("version", ["v1.0", "v1.2", "v2.0-preview.1", "latest"])
async def test_unknown_api_version(client: httpx.AsyncClient, version: str) -> None:
    r = await client.post(f"/face/{version}/detectLiveness/singleModal/sessions", json=BODY)
    assert r.status_code == 404 and error_code(r) == "UnsupportedApiVersion"
    assert "v1.2-preview.1" in r.json()["error"]["message"]


async def test_optional_fields_and_case_insensitive_enum(client: httpx.AsyncClient, services: Services) -> None:
    body = {
        "livenessOperationMode": "passiveactive",
        "sendResultsToClient": True,
        "deviceCorrelationIdSetInClient": True,
        "enableSessionImage": True,
        "livenessSingleModalModel": "2023-12-20-preview.06",
        "authTokenTimeToLiveInSeconds": 86400,
        "returnVerifyImageHash": True,
        "verifyConfidenceThreshold": 0.42,
        "someFutureField": {"ignored": True},
    }
    r = await client.post(f"{V}/detectLivenessWithVerify/singleModal/sessions", json=body)
    assert r.status_code == 200, r.text
    stored = await services.store.get_session(r.json()["sessionId"])
    assert stored is not None
    assert stored.operation_mode.value == "PassiveActive"
    assert stored.send_results_to_client and stored.enable_session_image and stored.return_verify_image_hash
    assert stored.device_correlation_id is None and stored.device_correlation_id_set_in_client
    assert stored.verify_confidence_threshold == 0.42
    assert stored.auth_token_ttl_seconds == 86400


BAD_BODIES = [
    ({**BODY, "authTokenTimeToLiveInSeconds": 59}, "InvalidTokenLifetime"),
    ({**BODY, "authTokenTimeToLiveInSeconds": 86401}, "InvalidTokenLifetime"),
    ({**BODY, "authTokenTimeToLiveInSeconds": "600"}, "InvalidTokenLifetime"),
    ({**BODY, "authTokenTimeToLiveInSeconds": 600.5}, "InvalidTokenLifetime"),
    ({**BODY, "deviceCorrelationId": "d" * 65}, "InvalidDeviceCorrelationId"),
    ({**BODY, "deviceCorrelationId": ""}, "InvalidDeviceCorrelationId"),
    ({"livenessOperationMode": "Passive"}, "InvalidDeviceCorrelationId"),
    ({**BODY, "deviceCorrelationIdSetInClient": True}, "InvalidDeviceCorrelationId"),
    ({**BODY, "deviceCorrelationId": 12}, "InvalidDeviceCorrelationId"),
    ({"deviceCorrelationId": "d"}, "InvalidLivenessOperationMode"),
    ({**BODY, "livenessOperationMode": "Active"}, "InvalidLivenessOperationMode"),
    ({**BODY, "livenessOperationMode": 1}, "InvalidLivenessOperationMode"),
    ({**BODY, "sendResultsToClient": "yes"}, "InvalidRequestBody"),
    ({**BODY, "enableSessionImage": 1}, "InvalidRequestBody"),
    ({**BODY, "livenessSingleModalModel": "no-such-model"}, "InvalidRequestBody"),
]


@pytest.mark.parametrize(("body", "code"), BAD_BODIES)
async def test_bad_bodies_get_azure_codes(client: httpx.AsyncClient, body: dict, code: str) -> None:
    r = await client.post(f"{V}/detectLiveness/singleModal/sessions", json=body)
    assert r.status_code == 400, r.text
    assert error_code(r) == code


@pytest.mark.parametrize("threshold", [-0.1, 1.5, "0.5"])
async def test_bad_verify_threshold(client: httpx.AsyncClient, threshold: object) -> None:
    r = await client.post(
        f"{V}/detectLivenessWithVerify/singleModal/sessions",
        json={**BODY, "verifyConfidenceThreshold": threshold},
    )
    assert r.status_code == 400 and error_code(r) == "InvalidRequestBody"


@pytest.mark.parametrize(
    "raw",
    [b"{bad", b"", b"[]", b'"text"', b"null", b"\xff\xfe", b"[" * 100000],
    ids=["truncated", "empty", "array", "string", "null", "not-utf8", "deep-nesting"],
)
async def test_malformed_json(client: httpx.AsyncClient, raw: bytes) -> None:
    r = await client.post(
        f"{V}/detectLiveness/singleModal/sessions", content=raw, headers={"content-type": "application/json"}
    )
    assert r.status_code == 400 and error_code(r) == "BadArgument"


@pytest.mark.parametrize("params", [{"top": 0}, {"top": 1001}, {"top": "x"}, {"start": "s" * 65}])
async def test_bad_list_parameters(client: httpx.AsyncClient, params: dict) -> None:
    r = await client.get(f"{V}/detectLiveness/singleModal/sessions", params=params)
    assert r.status_code == 400 and error_code(r) == "BadArgument"


@pytest.mark.parametrize("params", [{"top": 0}, {"top": 1001}, {"start": "abc"}, {"start": -1}, {"start": 2**64}])
async def test_bad_audit_parameters(client: httpx.AsyncClient, params: dict) -> None:
    sid = (await client.post(f"{V}/detectLiveness/singleModal/sessions", json=BODY)).json()["sessionId"]
    r = await client.get(f"{V}/detectLiveness/singleModal/sessions/{sid}/audit", params=params)
    assert r.status_code == 400 and error_code(r) == "BadArgument"


@pytest.mark.parametrize("headers", [{}, {"Ocp-Apim-Subscription-Key": "wrong"}, {"Ocp-Apim-Subscription-Key": ""}])
async def test_missing_or_wrong_key(client: httpx.AsyncClient, headers: dict) -> None:
    client.headers.pop("Ocp-Apim-Subscription-Key")
    r = await client.post(f"{V}/detectLiveness/singleModal/sessions", json=BODY, headers=headers)
    assert r.status_code == 401 and error_code(r) == "Unauthorized"


async def test_wrong_secret_for_a_real_key_id_and_revocation(client: httpx.AsyncClient, services: Services) -> None:
    new = await services.keys.create("rotating")
    forged = new.key[:-4] + ("AAAA" if not new.key.endswith("AAAA") else "BBBB")
    r = await client.get(f"{V}/detectLiveness/singleModal/sessions", headers={"Ocp-Apim-Subscription-Key": forged})
    assert r.status_code == 401
    good = {"Ocp-Apim-Subscription-Key": new.key}
    assert (await client.get(f"{V}/detectLiveness/singleModal/sessions", headers=good)).status_code == 200
    assert await services.keys.revoke(new.record.id)
    assert (await client.get(f"{V}/detectLiveness/singleModal/sessions", headers=good)).status_code == 401
    # The other active key is unaffected by the rotation.
    assert (await client.get(f"{V}/detectLiveness/singleModal/sessions")).status_code == 200


async def test_a_session_token_is_not_an_api_key(client: httpx.AsyncClient) -> None:
    token = (await client.post(f"{V}/detectLiveness/singleModal/sessions", json=BODY)).json()["authToken"]
    for headers in ({"Ocp-Apim-Subscription-Key": token}, {"Authorization": f"Bearer {token}"}):
        client.headers.pop("Ocp-Apim-Subscription-Key", None)
        r = await client.get(f"{V}/detectLiveness/singleModal/sessions", headers=headers)
        assert r.status_code == 401


async def test_health_and_openapi(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ready"}
    spec = (await client.get("/openapi.json")).json()
    assert "/face/{apiVersion}/detectLivenessWithVerify/singleModal/sessions" in spec["paths"]
    create = spec["paths"]["/face/{apiVersion}/detectLivenessWithVerify/singleModal/sessions"]["post"]
    assert set(create["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    assert "CreateLivenessWithVerifySessionContent" in spec["components"]["schemas"]
    assert (await client.get("/docs")).status_code == 200


async def test_unknown_route_and_method(client: httpx.AsyncClient) -> None:
    r = await client.get(f"{V}/nothing/here")
    assert r.status_code == 404 and error_code(r) == "NotFound"
    r = await client.put(f"{V}/detectLiveness/singleModal/sessions")
    assert r.status_code == 405 and error_code(r) == "MethodNotAllowed"


async def test_body_limit(client: httpx.AsyncClient, services: Services) -> None:
    too_big = b"{" + b" " * (services.settings.max_request_bytes + 10) + b"}"
    r = await client.post(
        f"{V}/detectLiveness/singleModal/sessions",
        content=too_big,
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413 and error_code(r) == "PayloadTooLarge"

    async def chunks():  # no Content-Length: the limit must hold while streaming too
        for _ in range(20):
            yield b" " * (1024 * 1024)

    r = await client.post(
        f"{V}/detectLiveness/singleModal/sessions",
        content=chunks(),
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 413


def _png(width: int, height: int) -> bytes:
    # A 1-bit image keeps building the bomb cheap; it decodes to width*height pixels all the same.
    buffer = io.BytesIO()
    Image.new("1", (width, height)).save(buffer, format="PNG")
    return buffer.getvalue()


async def test_create_with_verify_multipart(client: httpx.AsyncClient, face_jpeg: bytes, services: Services) -> None:
    files = {
        "Parameters": (None, json.dumps({**BODY, "returnVerifyImageHash": True}), "application/json"),
        "VerifyImage": ("face.jpg", face_jpeg, "image/jpeg"),
    }
    r = await client.post(f"{V}/detectLivenessWithVerify/singleModal/sessions", files=files)
    assert r.status_code == 200, r.text
    stored = await services.store.get_verify_image(r.json()["sessionId"])
    assert stored is not None and stored.content == face_jpeg


@pytest.mark.parametrize(
    ("image", "code"),
    [
        (b"", "InvalidImageSize"),
        (b"\xff\xd8\xff" + b"\x00" * 500, "InvalidImageSize"),
        (b"\xff" * (7 * 1024 * 1024), "InvalidImageSize"),
        (b"GIF89a" + b"\x00" * 5000, "InvalidImage"),
        (b"%PDF-1.4" + b"\x00" * 5000, "InvalidImage"),
    ],
    ids=["empty", "under-1KB", "7MB", "broken-gif", "pdf"],
)
async def test_bad_verify_images(client: httpx.AsyncClient, image: bytes, code: str) -> None:
    files = {"Parameters": (None, json.dumps(BODY)), "VerifyImage": ("x.jpg", image, "image/jpeg")}
    r = await client.post(f"{V}/detectLivenessWithVerify/singleModal/sessions", files=files)
    assert r.status_code == 400, r.text
    assert error_code(r) == code


async def test_truncated_jpeg_is_invalid(client: httpx.AsyncClient, face_jpeg: bytes) -> None:
    files = {
        "Parameters": (None, json.dumps(BODY)),
        "VerifyImage": ("x.jpg", face_jpeg[: len(face_jpeg) // 2]),
    }
    r = await client.post(f"{V}/detectLivenessWithVerify/singleModal/sessions", files=files)
    assert r.status_code == 400 and error_code(r) == "InvalidImage"


async def test_decompression_bomb_is_invalid(client: httpx.AsyncClient) -> None:
    files = {"Parameters": (None, json.dumps(BODY)), "VerifyImage": ("big.png", _png(20000, 20000))}
    r = await client.post(f"{V}/detectLivenessWithVerify/singleModal/sessions", files=files)
    assert r.status_code == 400 and error_code(r) == "InvalidImage"


@pytest.mark.parametrize(
    ("files", "code"),
    [
        ({"VerifyImage": ("x.jpg", b"x" * 2000)}, "BadArgument"),
        ({"Parameters": (None, json.dumps(BODY))}, "BadArgument"),
        ({"Parameters": (None, "{nope"), "VerifyImage": ("x.jpg", b"x" * 2000)}, "BadArgument"),
        (
            {
                "Parameters": (None, json.dumps({**BODY, "authTokenTimeToLiveInSeconds": 5})),
                "VerifyImage": ("x", b"x"),
            },
            "InvalidTokenLifetime",
        ),
        ({"Parameters": (None, json.dumps(BODY)), "VerifyImage": (None, "not a file")}, "BadArgument"),
    ],
)
async def test_bad_multipart(client: httpx.AsyncClient, files: dict, code: str) -> None:
    r = await client.post(f"{V}/detectLivenessWithVerify/singleModal/sessions", files=files)
    assert r.status_code == 400, r.text
    assert error_code(r) == code


async def test_broken_multipart_framing(client: httpx.AsyncClient) -> None:
    r = await client.post(
        f"{V}/detectLivenessWithVerify/singleModal/sessions",
        content=b'--xyz\r\nContent-Disposition: form-data; name="Parameters"\r\n\r\n{}',
        headers={"content-type": "multipart/form-data; boundary=xyz"},
    )
    assert r.status_code == 400


async def test_plain_liveness_session_takes_no_multipart(client: httpx.AsyncClient, face_jpeg: bytes) -> None:
    files = {"Parameters": (None, json.dumps(BODY)), "VerifyImage": ("x.jpg", face_jpeg)}
    r = await client.post(f"{V}/detectLiveness/singleModal/sessions", files=files)
    assert r.status_code == 400 and error_code(r) == "BadArgument"


async def test_unknown_session_image(client: httpx.AsyncClient) -> None:
    r = await client.get(f"{V}/session/sessionImages/{uuid.uuid4()}")
    assert r.status_code == 404 and error_code(r) == "SessionImageNotFound"
    r = await client.get(f"/face/v1.1-preview.1/session/sessionImages/{uuid.uuid4()}")
    assert r.status_code == 404 and error_code(r) == "UnsupportedApiVersion"
