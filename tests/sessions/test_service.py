"""The service layer's rules: expiry, client tokens, attempts, results and audit entries, deletion."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from openliveness.cpu import CpuPool
from openliveness.domain import AuditEntryRecord, LivenessOperationMode, SessionImageRecord, SessionKind
from openliveness.errors import ConcurrentOperationConflict, SessionNotFound, Unauthorized
from openliveness.services import Services
from openliveness.sessions import SessionParameters, SessionService, TokenSigner
from openliveness.sessions.reference import ReferenceFaceReader
from openliveness.store import SqlStore
from openliveness.vision import FaceAnalyzer, ImageLimits
from tests.conftest import Clock, asgi_client

PARAMS = SessionParameters(operation_mode=LivenessOperationMode.PASSIVE, device_correlation_id="dev")


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 21, 12, 0, tzinfo=UTC))


@pytest.fixture
def service(store: SqlStore, clock: Clock, analyzer: FaceAnalyzer) -> SessionService:
    return SessionService(
        store,
        TokenSigner(b"k" * 40),
        analyze_reference=ReferenceFaceReader(analyzer, ImageLimits()),
        cpu=CpuPool(2),
        clock=clock,
    )


def entry(session_id: str, decision: str = "realface", image_id: str | None = None) -> AuditEntryRecord:
    return AuditEntryRecord(
        session_id=session_id,
        request_id=str(uuid.uuid4()),
        client_request_id=str(uuid.uuid4()),
        received_at=datetime.now(UTC),
        request={
            "url": "/face/v1.2-preview.1/detectLiveness/singleModal",
            "method": "POST",
            "contentLength": 1000,
            "contentType": "multipart/form-data",
            "userAgent": "test",
        },
        response={
            "body": {"livenessDecision": decision, "modelVersionUsed": "x"},
            "statusCode": 200,
            "latencyInMilliseconds": 100,
        },
        digest="00" * 32,
        session_image_id=image_id,
    )


async def test_session_expires_after_its_lifetime(service: SessionService, clock: Clock) -> None:
    created = await service.create(SessionKind.LIVENESS, PARAMS)
    view = await service.get(SessionKind.LIVENESS, created.session.id)
    assert not view.session_expired
    clock.now += timedelta(seconds=600)
    assert (await service.get(SessionKind.LIVENESS, created.session.id)).session_expired  # token over
    clock.now = created.session.created_at + timedelta(hours=48)
    with pytest.raises(SessionNotFound):
        await service.get(SessionKind.LIVENESS, created.session.id)
    with pytest.raises(SessionNotFound):
        await service.audit_entries(SessionKind.LIVENESS, created.session.id, start=None, top=10)
    assert await service.list_sessions(SessionKind.LIVENESS, start=None, top=10) == []


async def test_list_skips_expired_sessions_but_fills_the_page(service: SessionService, clock: Clock) -> None:
    old = [await service.create(SessionKind.LIVENESS, PARAMS) for _ in range(3)]
    clock.now += timedelta(hours=47)
    new = [await service.create(SessionKind.LIVENESS, PARAMS) for _ in range(3)]
    clock.now += timedelta(hours=2)
    listed = await service.list_sessions(SessionKind.LIVENESS, start=None, top=2)
    assert len(listed) == 2
    assert {v.session.id for v in listed} <= {c.session.id for c in new}
    assert not {v.session.id for v in listed} & {c.session.id for c in old}


async def test_client_token_rules(service: SessionService, clock: Clock) -> None:
    a = await service.create(SessionKind.LIVENESS, PARAMS)
    b = await service.create(SessionKind.LIVENESS_WITH_VERIFY, PARAMS)
    assert (await service.authenticate_client(a.auth_token, SessionKind.LIVENESS)).id == a.session.id
    with pytest.raises(Unauthorized):  # a token only works for its own kind of client call
        await service.authenticate_client(a.auth_token, SessionKind.LIVENESS_WITH_VERIFY)
    assert (await service.authenticate_client(b.auth_token, SessionKind.LIVENESS_WITH_VERIFY)).id == b.session.id
    await service.delete(SessionKind.LIVENESS, a.session.id)
    with pytest.raises(Unauthorized):  # DELETE revokes at once
        await service.authenticate_client(a.auth_token, SessionKind.LIVENESS)
    clock.now += timedelta(seconds=601)
    with pytest.raises(Unauthorized):
        await service.authenticate_client(b.auth_token, SessionKind.LIVENESS_WITH_VERIFY)


async def test_attempts_results_and_audit(service: SessionService, clock: Clock) -> None:
    created = await service.create(SessionKind.LIVENESS, PARAMS)
    session = created.session
    attempts = [await service.start_attempt(session, {"n": i}, valid_for=timedelta(seconds=30)) for i in range(3)]
    assert [a.number for a in attempts] == [1, 2, 3]
    with pytest.raises(Unauthorized, match="No attempts left"):
        await service.start_attempt(session, {}, valid_for=timedelta(seconds=30))
    view = await service.get(SessionKind.LIVENESS, session.id)
    assert view.session.status.value == "Started" and view.session.started_at == clock.now

    opened = await service.open_attempt(session, attempts[0].id)
    first = await service.record_result(session, opened, entry(session.id, "spoofface"))
    with pytest.raises(ConcurrentOperationConflict):  # a used attempt (challenge) cannot be answered again
        await service.open_attempt(session, attempts[0].id)
    with pytest.raises(ConcurrentOperationConflict):
        await service.record_result(session, opened, entry(session.id))
    second = await service.record_result(session, attempts[1], entry(session.id, "realface"))
    assert second.id > first.id

    view = await service.get(SessionKind.LIVENESS, session.id)
    assert view.session.status.value == "ResultAvailable"
    assert view.result is not None and view.result.id == second.id
    assert view.result.response["body"]["livenessDecision"] == "realface"
    entries = await service.audit_entries(SessionKind.LIVENESS, session.id, start=None, top=10)
    assert [e.id for e in entries] == [first.id, second.id]

    clock.now += timedelta(seconds=31)
    with pytest.raises(Unauthorized, match="deadline"):
        await service.open_attempt(session, attempts[2].id)


async def test_attempt_of_another_session_is_refused(service: SessionService) -> None:
    a = (await service.create(SessionKind.LIVENESS, PARAMS)).session
    b = (await service.create(SessionKind.LIVENESS, PARAMS)).session
    attempt = await service.start_attempt(a, {}, valid_for=timedelta(seconds=30))
    with pytest.raises(Unauthorized):
        await service.open_attempt(b, attempt.id)


async def test_concurrent_results_for_one_attempt(service: SessionService) -> None:
    session = (await service.create(SessionKind.LIVENESS, PARAMS)).session
    attempt = await service.start_attempt(session, {}, valid_for=timedelta(seconds=30))
    outcomes = await asyncio.gather(
        *(service.record_result(session, attempt, entry(session.id)) for _ in range(6)),
        return_exceptions=True,
    )
    assert sum(isinstance(o, AuditEntryRecord) for o in outcomes) == 1
    assert sum(isinstance(o, ConcurrentOperationConflict) for o in outcomes) == 5


async def test_verify_image_hash_goes_into_audit_entries(service: SessionService, face_jpeg: bytes) -> None:
    import hashlib
    from dataclasses import replace

    params = replace(PARAMS, return_verify_image_hash=True)
    session = (await service.create(SessionKind.LIVENESS_WITH_VERIFY, params, verify_image=face_jpeg)).session
    attempt = await service.start_attempt(session, {}, valid_for=timedelta(seconds=30))
    stored = await service.record_result(session, attempt, entry(session.id))
    assert stored.verify_image_hash == hashlib.sha256(face_jpeg).hexdigest()


async def test_result_audit_and_image_over_http(services: Services, api_key: str) -> None:
    """What the liveness calls will record is served back to the app server in Azure's shapes."""
    sessions = services.sessions
    session = (await sessions.create(SessionKind.LIVENESS, PARAMS)).session
    attempt = await sessions.start_attempt(session, {}, valid_for=timedelta(seconds=30))
    image = SessionImageRecord(str(uuid.uuid4()), session.id, b"\xff\xd8 jpeg bytes", "image/jpeg", sessions.now())
    stored = await sessions.record_result(session, attempt, entry(session.id, image_id=image.id), image)

    async with asgi_client(services, api_key) as client:
        base = "/face/v1.2-preview.1/detectLiveness/singleModal/sessions"
        got = (await client.get(f"{base}/{session.id}")).json()
        assert got["status"] == "ResultAvailable"
        assert got["sessionStartDateTime"] is not None
        assert got["result"]["id"] == stored.id
        assert got["result"]["response"]["body"]["livenessDecision"] == "realface"
        assert got["result"]["sessionImageId"] == image.id
        audit = (await client.get(f"{base}/{session.id}/audit", params={"start": stored.id - 1, "top": 1})).json()
        assert [a["id"] for a in audit] == [stored.id]
        assert (await client.get(f"{base}/{session.id}/audit", params={"start": stored.id})).json() == []
        downloaded = await client.get(f"/face/v1.2-preview.1/session/sessionImages/{image.id}")
        assert downloaded.status_code == 200 and downloaded.content == image.content
        assert downloaded.headers["content-type"] == "application/octet-stream"
        assert (await client.delete(f"{base}/{session.id}")).status_code == 200
        gone = await client.get(f"/face/v1.2-preview.1/session/sessionImages/{image.id}")
        assert gone.status_code == 404
