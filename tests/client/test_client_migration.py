"""Migration shown: one scenario written with azure-ai-vision-face and with openliveness.client, same results.

Both run against the live server over real HTTP; each client then reads the other's sessions field by field.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("fastapi", reason="the server extra is not installed")
pytest.importorskip("azure.ai.vision.face", reason="azure-ai-vision-face is a test dependency")

from openliveness.services import build_services


def azure_scenario(endpoint: str, key: str, device: str, image: bytes) -> dict[str, Any]:
    """The app server's calls, written against Azure's SDK."""
    from azure.ai.vision.face import FaceSessionClient
    from azure.ai.vision.face.models import (
        CreateLivenessSessionContent,
        CreateLivenessWithVerifySessionContent,
        LivenessOperationMode,
    )
    from azure.core.credentials import AzureKeyCredential

    with FaceSessionClient(endpoint, AzureKeyCredential(key)) as client:
        created = client.create_liveness_session(
            CreateLivenessSessionContent(
                liveness_operation_mode=LivenessOperationMode.PASSIVE,
                device_correlation_id=device,
                auth_token_time_to_live_in_seconds=300,
            )
        )
        verify_created = client.create_liveness_with_verify_session(
            CreateLivenessWithVerifySessionContent(
                liveness_operation_mode=LivenessOperationMode.PASSIVE, device_correlation_id=device
            ),
            verify_image=image,
        )
        return {
            "created": created,
            "session": client.get_liveness_session_result(created.session_id),
            "listed": client.get_liveness_sessions(),
            "audit": client.get_liveness_session_audit_entries(created.session_id),
            "verify_created": verify_created,
            "verify_session": client.get_liveness_with_verify_session_result(verify_created.session_id),
            "verify_listed": client.get_liveness_with_verify_sessions(),
            "verify_audit": client.get_liveness_with_verify_session_audit_entries(verify_created.session_id),
        }


def openliveness_scenario(endpoint: str, key: str, device: str, image: bytes) -> dict[str, Any]:
    """The same calls after migrating: only the imports and the credential changed."""
    from openliveness.client import (
        CreateLivenessSessionContent,
        CreateLivenessWithVerifySessionContent,
        FaceSessionClient,
        KeyCredential,
        LivenessOperationMode,
    )

    with FaceSessionClient(endpoint, KeyCredential(key)) as client:
        created = client.create_liveness_session(
            CreateLivenessSessionContent(
                liveness_operation_mode=LivenessOperationMode.PASSIVE,
                device_correlation_id=device,
                auth_token_time_to_live_in_seconds=300,
            )
        )
        verify_created = client.create_liveness_with_verify_session(
            CreateLivenessWithVerifySessionContent(
                liveness_operation_mode=LivenessOperationMode.PASSIVE, device_correlation_id=device
            ),
            verify_image=image,
        )
        return {
            "created": created,
            "session": client.get_liveness_session_result(created.session_id),
            "listed": client.get_liveness_sessions(),
            "audit": client.get_liveness_session_audit_entries(created.session_id),
            "verify_created": verify_created,
            "verify_session": client.get_liveness_with_verify_session_result(verify_created.session_id),
            "verify_listed": client.get_liveness_with_verify_sessions(),
            "verify_audit": client.get_liveness_with_verify_session_audit_entries(verify_created.session_id),
        }


def value(x: Any) -> Any:
    return getattr(x, "value", x)


def test_same_scenario_same_results(
    live_server: Any,
    face_jpeg: bytes,
    record_result: Callable[..., Any],
    assert_same_as_azure: Callable[[Any, Any], None],
) -> None:
    from azure.ai.vision.face import FaceSessionClient as AzureClient
    from azure.core.credentials import AzureKeyCredential
    from azure.core.exceptions import ResourceNotFoundError

    from openliveness.client import FaceSessionClient, SessionNotFoundError

    device = f"migration-{uuid.uuid4()}"
    theirs = azure_scenario(live_server.url, live_server.api_key, device, face_jpeg)
    ours = openliveness_scenario(live_server.url, live_server.api_key, device, face_jpeg)

    # What the two runs can share (ids and timestamps differ: they are two sessions).
    for run in (theirs, ours):
        assert run["created"].session_id and run["created"].auth_token
        assert run["created"].session_id in [i.id for i in run["listed"]]
        assert run["verify_created"].session_id in [i.id for i in run["verify_listed"]]
        assert run["audit"] == [] and run["verify_audit"] == []
    for key in ("session", "verify_session"):
        a, b = theirs[key], ours[key]
        assert value(a.status) == value(b.status) == "NotStarted"
        assert (a.device_correlation_id, a.session_expired, a.result) == (
            b.device_correlation_id,
            b.session_expired,
            None,
        )
        assert a.auth_token_time_to_live_in_seconds == b.auth_token_time_to_live_in_seconds
        assert a.created_date_time.tzinfo is not None and b.created_date_time.tzinfo is not None
    assert (theirs["verify_created"].verify_image is None) == (ours["verify_created"].verify_image is None)
    if ours["verify_created"].verify_image is not None:
        assert_same_as_azure(ours["verify_created"].verify_image, theirs["verify_created"].verify_image)

    # Give every session a result, then let each client read all of them: field by field the same.
    async def record_all() -> None:
        services = await build_services(live_server.settings)
        try:
            for run in (theirs, ours):
                await record_result(services, run["created"].session_id, image=face_jpeg)
                await record_result(services, run["verify_created"].session_id, verify=True)
        finally:
            await services.close()

    asyncio.run(record_all())
    with (
        AzureClient(live_server.url, AzureKeyCredential(live_server.api_key)) as azure,
        FaceSessionClient(live_server.url, live_server.api_key) as client,
    ):
        for run in (theirs, ours):
            sid, vid = run["created"].session_id, run["verify_created"].session_id
            session = client.get_liveness_session_result(sid)
            assert_same_as_azure(session, azure.get_liveness_session_result(sid))
            assert_same_as_azure(
                client.get_liveness_with_verify_session_result(vid),
                azure.get_liveness_with_verify_session_result(vid),
            )
            entries = client.get_liveness_session_audit_entries(sid)
            assert_same_as_azure(entries, azure.get_liveness_session_audit_entries(sid))
            assert_same_as_azure(
                client.get_liveness_with_verify_session_audit_entries(vid),
                azure.get_liveness_with_verify_session_audit_entries(vid),
            )
            image_id = entries[0].session_image_id
            assert image_id is not None
            assert client.get_session_image(image_id) == b"".join(azure.get_session_image(image_id)) == face_jpeg
            # What Azure's SDK cannot show: OpenLiveness's per-signal scores and reasons.
            assert session.result is not None and session.result.response.body.signals

        assert_same_as_azure(client.get_liveness_sessions(), azure.get_liveness_sessions())
        assert_same_as_azure(client.get_liveness_with_verify_sessions(), azure.get_liveness_with_verify_sessions())

        # Each library deletes its own sessions; both then see them gone.
        azure.delete_liveness_session(theirs["created"].session_id)
        azure.delete_liveness_with_verify_session(theirs["verify_created"].session_id)
        client.delete_liveness_session(ours["created"].session_id)
        client.delete_liveness_with_verify_session(ours["verify_created"].session_id)
        for run in (theirs, ours):
            with pytest.raises(ResourceNotFoundError):
                azure.get_liveness_with_verify_session_result(run["verify_created"].session_id)
            with pytest.raises(SessionNotFoundError):
                client.get_liveness_with_verify_session_result(run["verify_created"].session_id)
            with pytest.raises(ResourceNotFoundError):
                azure.get_liveness_session_result(run["created"].session_id)
            with pytest.raises(SessionNotFoundError):
                client.get_liveness_session_result(run["created"].session_id)


@pytest.mark.parametrize("kind", ["liveness", "verify"])
def test_azure_sdk_deletes_sessions_our_client_created(live_server: Any, kind: str) -> None:
    """Azure's SDK accepts only 200 from DELETE (a 204 makes it raise): the server must answer 200."""
    from azure.ai.vision.face import FaceSessionClient as AzureClient
    from azure.core.credentials import AzureKeyCredential

    from openliveness.client import (
        CreateLivenessSessionContent,
        CreateLivenessWithVerifySessionContent,
        FaceSessionClient,
        SessionNotFoundError,
    )

    with (
        AzureClient(live_server.url, AzureKeyCredential(live_server.api_key)) as azure,
        FaceSessionClient(live_server.url, live_server.api_key) as client,
    ):
        if kind == "liveness":
            sid = client.create_liveness_session(
                CreateLivenessSessionContent(liveness_operation_mode="Passive", device_correlation_id="d")
            ).session_id
            azure.delete_liveness_session(sid)
            with pytest.raises(SessionNotFoundError):
                client.get_liveness_session_result(sid)
        else:
            sid = client.create_liveness_with_verify_session(
                CreateLivenessWithVerifySessionContent(liveness_operation_mode="Passive", device_correlation_id="d")
            ).session_id
            azure.delete_liveness_with_verify_session(sid)
            with pytest.raises(SessionNotFoundError):
                client.get_liveness_with_verify_session_result(sid)
