"""What each client method sends and how it reads the answer, on `httpx.MockTransport`, sync and async."""

from __future__ import annotations

import email
import email.policy
import json
from typing import Any

import httpx
import pytest

from openliveness.client import (
    CreateLivenessSessionContent,
    CreateLivenessSessionResult,
    CreateLivenessWithVerifySessionContent,
    FaceSessionClient,
    KeyCredential,
    LivenessOperationMode,
    LivenessSession,
    LivenessSessionAuditEntry,
    LivenessSessionItem,
    LivenessWithVerifySession,
    QualityForRecognition,
)

# Tests take helpers from conftest fixtures only: importing conftest by name is ambiguous across test folders.
Api = Any
Recorder = Any
ENDPOINT = "https://liveness.example.test"
KEY = "test-key-0123456789"
ROOT = f"{ENDPOINT}/face/v1.2-preview.1"
LIVE = f"{ROOT}/detectLiveness/singleModal/sessions"
VERIFY = f"{ROOT}/detectLivenessWithVerify/singleModal/sessions"


def multipart_parts(request: httpx.Request) -> dict[str, tuple[str | None, str | None, bytes]]:
    """Parse a multipart/form-data request into name -> (filename, content type, payload)."""
    raw = b"Content-Type: " + request.headers["content-type"].encode() + b"\r\n\r\n" + request.content
    message = email.message_from_bytes(raw, policy=email.policy.HTTP)
    parts = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_param("filename", header="content-disposition")
        parts[str(name)] = (
            None if filename is None else str(filename),
            part.get("content-type"),
            part.get_payload(decode=True),
        )
    return parts


async def test_create_liveness_session_sends_json(api: Api, recorder: Recorder) -> None:
    recorder.queue(httpx.Response(200, json={"sessionId": "s-1", "authToken": "tok"}))
    body = CreateLivenessSessionContent(
        liveness_operation_mode=LivenessOperationMode.PASSIVE,
        send_results_to_client=True,
        device_correlation_id="device-1",
    )
    result = await api("create_liveness_session", body)
    assert result == CreateLivenessSessionResult(session_id="s-1", auth_token="tok")
    request = recorder.last
    assert (request.method, str(request.url)) == ("POST", LIVE)
    assert request.headers["Ocp-Apim-Subscription-Key"] == KEY
    assert request.headers["content-type"] == "application/json"
    assert request.headers["accept"] == "application/json"
    assert request.headers["user-agent"].startswith("openliveness-python/")
    assert json.loads(request.content) == {
        "livenessOperationMode": "Passive",
        "sendResultsToClient": True,
        "deviceCorrelationId": "device-1",
    }


async def test_create_accepts_a_json_mapping(api: Api, recorder: Recorder) -> None:
    recorder.queue(httpx.Response(200, json={"sessionId": "s-1", "authToken": "tok"}))
    raw = {
        "livenessOperationMode": LivenessOperationMode.PASSIVE_ACTIVE,
        "deviceCorrelationIdSetInClient": True,
    }
    await api("create_liveness_session", raw)
    assert json.loads(recorder.last.content) == {
        "livenessOperationMode": "PassiveActive",
        "deviceCorrelationIdSetInClient": True,
    }


async def test_create_rejects_other_body_types(api: Api) -> None:
    with pytest.raises(TypeError):
        await api("create_liveness_session", ["Passive"])


@pytest.mark.parametrize("family", ["liveness", "verify"])
async def test_get_result(api: Api, recorder: Recorder, family: str, session_json: dict[str, Any]) -> None:
    recorder.queue(httpx.Response(200, json=session_json))
    method = "get_liveness_session_result" if family == "liveness" else "get_liveness_with_verify_session_result"
    session = await api(method, "s/../x?y")
    assert isinstance(session, LivenessSession if family == "liveness" else LivenessWithVerifySession)
    assert session.id == session_json["id"]
    request = recorder.last
    assert request.method == "GET"
    # The id is one quoted path segment: it can never reach another route.
    base = LIVE if family == "liveness" else VERIFY
    assert request.url.raw_path.decode() == httpx.URL(base).raw_path.decode() + "/s%2F..%2Fx%3Fy"


@pytest.mark.parametrize("family", ["liveness", "verify"])
async def test_list_sessions_with_paging(
    api: Api, recorder: Recorder, family: str, session_item_json: dict[str, Any]
) -> None:
    item = session_item_json
    recorder.queue(httpx.Response(200, json=[item, item]), httpx.Response(200, json=[]))
    method = "get_liveness_sessions" if family == "liveness" else "get_liveness_with_verify_sessions"
    items = await api(method, start="abc", top=2)
    assert [type(i) for i in items] == [LivenessSessionItem, LivenessSessionItem]
    assert dict(recorder.last.url.params) == {"start": "abc", "top": "2"}
    assert str(recorder.last.url.copy_with(query=None)) == (LIVE if family == "liveness" else VERIFY)
    assert await api(method) == []
    assert recorder.last.url.query == b""


@pytest.mark.parametrize("family", ["liveness", "verify"])
async def test_audit_entries(api: Api, recorder: Recorder, family: str, audit_entry: dict[str, Any]) -> None:
    recorder.queue(httpx.Response(200, json=[audit_entry]))
    method = (
        "get_liveness_session_audit_entries"
        if family == "liveness"
        else "get_liveness_with_verify_session_audit_entries"
    )
    entries = await api(method, "s-1", start=3, top=10)
    assert isinstance(entries[0], LivenessSessionAuditEntry) and entries[0].id == 4
    base = LIVE if family == "liveness" else VERIFY
    assert str(recorder.last.url) == f"{base}/s-1/audit?start=3&top=10"


@pytest.mark.parametrize("family", ["liveness", "verify"])
async def test_delete(api: Api, recorder: Recorder, family: str) -> None:
    recorder.queue(httpx.Response(204))
    method = "delete_liveness_session" if family == "liveness" else "delete_liveness_with_verify_session"
    assert await api(method, "s-1") is None
    assert (recorder.last.method, str(recorder.last.url)) == (
        "DELETE",
        f"{LIVE if family == 'liveness' else VERIFY}/s-1",
    )


async def test_create_verify_session_without_image_is_json(api: Api, recorder: Recorder) -> None:
    recorder.queue(httpx.Response(200, json={"sessionId": "v-1", "authToken": "tok"}))
    body = CreateLivenessWithVerifySessionContent(
        liveness_operation_mode="Passive", device_correlation_id="d", verify_confidence_threshold=0.5
    )
    result = await api("create_liveness_with_verify_session", body)
    assert result.verify_image is None
    assert recorder.last.headers["content-type"] == "application/json"
    assert json.loads(recorder.last.content)["verifyConfidenceThreshold"] == 0.5


async def test_create_verify_session_with_image_is_multipart(api: Api, recorder: Recorder) -> None:
    recorder.queue(
        httpx.Response(
            200,
            json={
                "sessionId": "v-1",
                "authToken": "tok",
                "verifyImage": {
                    "faceRectangle": {"top": 1, "left": 2, "width": 3, "height": 4},
                    "qualityForRecognition": "medium",
                },
            },
        )
    )
    image = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8
    body = CreateLivenessWithVerifySessionContent(
        liveness_operation_mode="PassiveActive", device_correlation_id="d", return_verify_image_hash=True
    )
    result = await api("create_liveness_with_verify_session", body, verify_image=image)
    assert result.verify_image is not None
    assert result.verify_image.quality_for_recognition is QualityForRecognition.MEDIUM
    assert result.verify_image.face_rectangle.height == 4
    request = recorder.last
    assert (request.method, str(request.url)) == ("POST", VERIFY)
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    parts = multipart_parts(request)
    assert set(parts) == {"Parameters", "VerifyImage"}
    filename, _, payload = parts["Parameters"]
    assert filename is None
    assert json.loads(payload) == {
        "livenessOperationMode": "PassiveActive",
        "deviceCorrelationId": "d",
        "returnVerifyImageHash": True,
    }
    filename, content_type, payload = parts["VerifyImage"]
    assert (filename, content_type, payload) == ("verify-image", "application/octet-stream", image)


async def test_get_session_image_returns_bytes(api: Api, recorder: Recorder) -> None:
    recorder.queue(httpx.Response(200, content=b"\x89PNG...", headers={"content-type": "application/octet-stream"}))
    assert await api("get_session_image", "img+/=") == b"\x89PNG..."
    assert recorder.last.url.raw_path.endswith(b"/face/v1.2-preview.1/session/sessionImages/img%2B%2F%3D")
    assert recorder.last.headers["accept"] == "application/octet-stream"


@pytest.mark.parametrize("session_id", ["", None])
async def test_empty_ids_are_refused_before_sending(api: Api, recorder: Recorder, session_id: Any) -> None:
    with pytest.raises(ValueError):
        await api("get_liveness_session_result", session_id)
    assert recorder.requests == []


async def test_per_call_timeout_reaches_the_transport(api: Api, recorder: Recorder) -> None:
    recorder.queue(httpx.Response(204), httpx.Response(204))
    await api("delete_liveness_session", "s", timeout=1.5)
    assert recorder.last.extensions["timeout"] == {"connect": 1.5, "read": 1.5, "write": 1.5, "pool": 1.5}
    await api("delete_liveness_session", "s")
    assert recorder.last.extensions["timeout"]["read"] == 30.0


async def test_request_id_header_is_sent(api: Api, recorder: Recorder) -> None:
    recorder.queue(httpx.Response(204), httpx.Response(204))
    await api("delete_liveness_session", "s")
    await api("delete_liveness_session", "s")
    first, second = (r.headers["x-ms-client-request-id"] for r in recorder.requests)
    assert first and second and first != second


def test_api_version_and_endpoint_shape_the_path() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    with FaceSessionClient(
        ENDPOINT + "/prefix/", KEY, api_version="v1.1-preview.1", transport=httpx.MockTransport(handler)
    ) as client:
        client.delete_liveness_session("s")
        assert client.base_url == f"{ENDPOINT}/prefix/face/v1.1-preview.1"
    assert str(seen[0].url) == f"{ENDPOINT}/prefix/face/v1.1-preview.1/detectLiveness/singleModal/sessions/s"


def test_key_credential_is_read_on_every_request() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["Ocp-Apim-Subscription-Key"])
        return httpx.Response(204)

    credential = KeyCredential("old")
    with FaceSessionClient(ENDPOINT, credential, transport=httpx.MockTransport(handler)) as client:
        client.delete_liveness_session("s")
        credential.update("new")
        client.delete_liveness_session("s")
        assert KEY not in repr(client) and "new" not in repr(credential)
    assert seen == ["old", "new"]


@pytest.mark.parametrize(
    ("endpoint", "credential", "error"),
    [("liveness.example.test", KEY, ValueError), (ENDPOINT, 42, TypeError), (ENDPOINT, "", ValueError)],
)
def test_constructor_validates(endpoint: str, credential: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        FaceSessionClient(endpoint, credential)
