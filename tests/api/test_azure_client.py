"""Conformance: Microsoft's own client, `azure-ai-vision-face` 1.0.0b2, unmodified, against our server over HTTP."""

from __future__ import annotations

import pytest
from azure.ai.vision.face import FaceSessionClient
from azure.ai.vision.face.aio import FaceSessionClient as AsyncFaceSessionClient
from azure.ai.vision.face.models import (
    CreateLivenessSessionContent,
    CreateLivenessWithVerifySessionContent,
    FaceSessionStatus,
    LivenessOperationMode,
)
from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError

from tests.conftest import LiveServer

VERSIONS = ["v1.1-preview.1", "v1.2-preview.1"]


def content(**extra: object) -> CreateLivenessSessionContent:
    fields: dict[str, object] = {
        "liveness_operation_mode": LivenessOperationMode.PASSIVE,
        "device_correlation_id": "azure-sdk-device",
        "send_results_to_client": False,
        "auth_token_time_to_live_in_seconds": 300,
    }
    return CreateLivenessSessionContent(**{**fields, **extra})


@pytest.mark.parametrize("version", VERSIONS)
def test_sync_liveness_session_lifecycle(live_server: LiveServer, version: str) -> None:
    with FaceSessionClient(live_server.url, AzureKeyCredential(live_server.api_key), api_version=version) as client:
        created = client.create_liveness_session(content())
        assert created.session_id and created.auth_token

        result = client.get_liveness_session_result(created.session_id)
        assert result.id == created.session_id
        assert result.status == FaceSessionStatus.NOT_STARTED
        assert result.session_expired is False
        assert result.device_correlation_id == "azure-sdk-device"
        assert result.auth_token_time_to_live_in_seconds == 300
        assert result.created_date_time.tzinfo is not None
        assert result.result is None

        listed = client.get_liveness_sessions(top=1000)
        assert created.session_id in [s.id for s in listed]
        assert client.get_liveness_session_audit_entries(created.session_id) == []

        client.delete_liveness_session(created.session_id)
        with pytest.raises(ResourceNotFoundError) as caught:
            client.get_liveness_session_result(created.session_id)
        assert caught.value.error is not None and caught.value.error.code == "SessionNotFound"


@pytest.mark.parametrize("version", VERSIONS)
def test_sync_with_verify_lifecycle_and_image(live_server: LiveServer, version: str, face_jpeg: bytes) -> None:
    with FaceSessionClient(live_server.url, AzureKeyCredential(live_server.api_key), api_version=version) as client:
        body = CreateLivenessWithVerifySessionContent(
            liveness_operation_mode=LivenessOperationMode.PASSIVE_ACTIVE,
            device_correlation_id="azure-sdk-device",
            return_verify_image_hash=True,
            verify_confidence_threshold=0.5,
        )
        with_image = client.create_liveness_with_verify_session(body, verify_image=face_jpeg)
        without_image = client.create_liveness_with_verify_session(body, verify_image=None)
        for created in (with_image, without_image):
            assert created.session_id and created.auth_token
            result = client.get_liveness_with_verify_session_result(created.session_id)
            assert result.status == FaceSessionStatus.NOT_STARTED
        assert without_image.verify_image is None
        assert with_image.verify_image is not None
        assert with_image.verify_image.face_rectangle.width > 50
        assert with_image.verify_image.quality_for_recognition in {"low", "medium", "high"}

        ids = [s.id for s in client.get_liveness_with_verify_sessions()]
        assert {with_image.session_id, without_image.session_id} <= set(ids)
        assert client.get_liveness_with_verify_session_audit_entries(with_image.session_id) == []
        client.delete_liveness_with_verify_session(with_image.session_id)
        client.delete_liveness_with_verify_session(without_image.session_id)
        with pytest.raises(HttpResponseError) as caught:
            client.get_liveness_with_verify_session_result(with_image.session_id)
        assert caught.value.status_code == 404 and caught.value.error.code == "SessionNotFound"


def test_sync_typed_errors(live_server: LiveServer) -> None:
    with FaceSessionClient(live_server.url, AzureKeyCredential(live_server.api_key)) as client:
        with pytest.raises(HttpResponseError) as caught:
            client.get_liveness_session_result("00000000-0000-0000-0000-000000000000")
        assert caught.value.error.code == "SessionNotFound"
        with pytest.raises(HttpResponseError) as caught:
            client.create_liveness_session(content(auth_token_time_to_live_in_seconds=59))
        assert caught.value.status_code == 400 and caught.value.error.code == "InvalidTokenLifetime"
        with pytest.raises(HttpResponseError) as caught:
            client.get_liveness_sessions(top=0)
        assert caught.value.error.code == "BadArgument"
    with FaceSessionClient(live_server.url, AzureKeyCredential("olk_wrong_key")) as client:
        with pytest.raises(ClientAuthenticationError) as auth:
            client.get_liveness_sessions()
        assert auth.value.status_code == 401


async def test_async_client_lifecycle(live_server: LiveServer, face_jpeg: bytes) -> None:
    async with AsyncFaceSessionClient(live_server.url, AzureKeyCredential(live_server.api_key)) as client:
        created = await client.create_liveness_session(content())
        result = await client.get_liveness_session_result(created.session_id)
        assert result.status == FaceSessionStatus.NOT_STARTED
        assert created.session_id in [s.id for s in await client.get_liveness_sessions()]
        assert await client.get_liveness_session_audit_entries(created.session_id) == []
        await client.delete_liveness_session(created.session_id)

        body = CreateLivenessWithVerifySessionContent(
            liveness_operation_mode=LivenessOperationMode.PASSIVE, device_correlation_id="async-device"
        )
        verified = await client.create_liveness_with_verify_session(body, verify_image=face_jpeg)
        got = await client.get_liveness_with_verify_session_result(verified.session_id)
        assert got.id == verified.session_id
        assert await client.get_liveness_with_verify_session_audit_entries(verified.session_id) == []
        await client.delete_liveness_with_verify_session(verified.session_id)
        with pytest.raises(ResourceNotFoundError) as caught:
            await client.get_liveness_with_verify_session_result(verified.session_id)
        assert caught.value.error.code == "SessionNotFound"


def test_session_image_download_and_unknown_image(live_server: LiveServer) -> None:
    with FaceSessionClient(live_server.url, AzureKeyCredential(live_server.api_key)) as client:
        with pytest.raises(HttpResponseError) as caught:
            client.get_session_image("00000000-0000-0000-0000-000000000000")
        assert caught.value.status_code == 404
