"""The store contract, run against SQLite and (when configured) PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from openliveness.domain import (
    ApiKeyRecord,
    AttemptRecord,
    AuditEntryRecord,
    FaceSessionStatus,
    LivenessOperationMode,
    ReferenceFace,
    SessionImageRecord,
    SessionKind,
    SessionRecord,
    StoredVerifyImage,
)
from openliveness.store import AttemptRejected, SqlStore, open_store

NOW = datetime(2026, 11, 21, 12, 0, 0, 123456, tzinfo=UTC)


def make_session(
    kind: SessionKind = SessionKind.LIVENESS, *, session_id: str | None = None, **changes
) -> SessionRecord:
    values = dict(
        id=session_id or str(uuid.uuid4()),
        kind=kind,
        created_at=NOW,
        token_expires_at=NOW + timedelta(minutes=10),
        expires_at=NOW + timedelta(hours=48),
        auth_token_ttl_seconds=600,
        operation_mode=LivenessOperationMode.PASSIVE_ACTIVE,
        send_results_to_client=True,
        device_correlation_id="device-1",
        device_correlation_id_set_in_client=False,
        enable_session_image=True,
        liveness_model="2023-12-20-preview.06",
        return_verify_image_hash=kind is SessionKind.LIVENESS_WITH_VERIFY,
        verify_confidence_threshold=0.7 if kind is SessionKind.LIVENESS_WITH_VERIFY else None,
    )
    values.update(changes)
    return SessionRecord(**values)


def make_attempt(session_id: str) -> AttemptRecord:
    return AttemptRecord(
        id=str(uuid.uuid4()),
        session_id=session_id,
        number=0,
        created_at=NOW,
        expires_at=NOW + timedelta(seconds=30),
        challenge={"colors": ["#ff0000", "#00ff00"], "durationsMs": [300, 250]},
    )


def make_entry(session_id: str, **changes) -> AuditEntryRecord:
    values = dict(
        session_id=session_id,
        request_id=str(uuid.uuid4()),
        client_request_id="client-1",
        received_at=NOW + timedelta(seconds=5),
        request={
            "url": "/face/v1.2-preview.1/detectLiveness/singleModal",
            "method": "POST",
            "contentType": "x",
        },
        response={"body": {"livenessDecision": "realface"}, "statusCode": 200, "latencyInMilliseconds": 120},
        digest="AB" * 32,
    )
    values.update(changes)
    return AuditEntryRecord(**values)


async def test_session_round_trip(store: SqlStore) -> None:
    session = make_session()
    await store.create_session(session, None)
    loaded = await store.get_session(session.id)
    assert loaded == session
    assert loaded.created_at.tzinfo is not None
    assert await store.get_session(str(uuid.uuid4())) is None


async def test_verify_image_and_reference_face(store: SqlStore) -> None:
    session = make_session(SessionKind.LIVENESS_WITH_VERIFY)
    face = ReferenceFace({"top": 1, "left": 2, "width": 30, "height": 40}, "high", b"\x00\x01" * 256)
    image = StoredVerifyImage(content=b"jpeg-bytes" * 200, sha256="ab" * 32, face=face)
    await store.create_session(session, image)
    loaded = await store.get_session(session.id)
    assert loaded is not None and loaded.has_verify_image
    assert loaded.verify_image_sha256 == "ab" * 32
    assert loaded.reference_face == face
    assert await store.get_verify_image(session.id) == image
    # A second reference image is refused: the first one stays.
    assert not await store.set_verify_image(session.id, StoredVerifyImage(b"other", "cd" * 32))
    assert (await store.get_verify_image(session.id)) == image


async def test_client_supplied_reference_image(store: SqlStore) -> None:
    session = make_session(SessionKind.LIVENESS_WITH_VERIFY)
    await store.create_session(session, None)
    assert (await store.get_session(session.id)).has_verify_image is False
    assert await store.set_verify_image(session.id, StoredVerifyImage(b"img" * 500, "ef" * 32))
    face = ReferenceFace({"top": 0, "left": 0, "width": 9, "height": 9}, "low", b"e" * 512)
    await store.update_reference_face(session.id, face)
    assert (await store.get_session(session.id)).reference_face == face


async def test_list_sessions_orders_pages_and_filters_by_kind(store: SqlStore) -> None:
    ids = sorted(str(uuid.uuid4()) for _ in range(5))
    for sid in ids:
        await store.create_session(make_session(session_id=sid), None)
    await store.create_session(make_session(SessionKind.LIVENESS_WITH_VERIFY), None)
    page1 = await store.list_sessions(SessionKind.LIVENESS, after=None, limit=3)
    page2 = await store.list_sessions(SessionKind.LIVENESS, after=page1[-1].id, limit=3)
    assert [s.id for s in page1 + page2] == ids
    assert len(await store.list_sessions(SessionKind.LIVENESS_WITH_VERIFY, after=None, limit=10)) == 1


async def test_attempts_are_counted_exactly_and_capped(store: SqlStore) -> None:
    session = make_session()
    await store.create_session(session, None)
    numbers = [(await store.start_attempt(make_attempt(session.id), max_attempts=3, now=NOW)).number for _ in range(3)]
    assert numbers == [1, 2, 3]
    with pytest.raises(AttemptRejected):
        await store.start_attempt(make_attempt(session.id), max_attempts=3, now=NOW)
    loaded = await store.get_session(session.id)
    assert loaded.attempts_used == 3
    assert loaded.status is FaceSessionStatus.STARTED
    assert loaded.started_at == NOW


async def test_concurrent_attempts_never_exceed_the_cap(store: SqlStore) -> None:
    session = make_session()
    await store.create_session(session, None)
    results = await asyncio.gather(
        *(store.start_attempt(make_attempt(session.id), max_attempts=3, now=NOW) for _ in range(12)),
        return_exceptions=True,
    )
    taken = [r for r in results if isinstance(r, AttemptRecord)]
    assert sorted(a.number for a in taken) == [1, 2, 3]
    assert all(isinstance(r, AttemptRejected) for r in results if not isinstance(r, AttemptRecord))
    assert (await store.get_session(session.id)).attempts_used == 3


async def test_no_attempt_after_token_expiry_or_for_missing_session(store: SqlStore) -> None:
    session = make_session()
    await store.create_session(session, None)
    with pytest.raises(AttemptRejected):
        await store.start_attempt(make_attempt(session.id), max_attempts=3, now=session.token_expires_at)
    with pytest.raises(AttemptRejected):
        await store.start_attempt(make_attempt(str(uuid.uuid4())), max_attempts=3, now=NOW)


async def test_complete_attempt_records_result_once(store: SqlStore) -> None:
    session = make_session()
    await store.create_session(session, None)
    attempt = await store.start_attempt(make_attempt(session.id), max_attempts=3, now=NOW)
    image = SessionImageRecord(str(uuid.uuid4()), session.id, b"\xff\xd8jpeg", "image/jpeg", NOW)
    stored = await store.complete_attempt(attempt.id, make_entry(session.id, session_image_id=image.id), image)
    assert stored is not None and stored.id > 0
    assert await store.complete_attempt(attempt.id, make_entry(session.id), None) is None
    loaded = await store.get_session(session.id)
    assert loaded.status is FaceSessionStatus.RESULT_AVAILABLE
    assert loaded.result_audit_id == stored.id
    assert await store.get_audit_entry(stored.id) == stored
    assert (await store.get_attempt(attempt.id)).used
    assert (await store.get_session_image(image.id)) == image


async def test_concurrent_completion_of_one_attempt_stores_one_entry(store: SqlStore) -> None:
    session = make_session()
    await store.create_session(session, None)
    attempt = await store.start_attempt(make_attempt(session.id), max_attempts=3, now=NOW)
    results = await asyncio.gather(
        *(store.complete_attempt(attempt.id, make_entry(session.id), None) for _ in range(8))
    )
    assert sum(r is not None for r in results) == 1
    assert len(await store.list_audit_entries(session.id, after=None, limit=100)) == 1


async def test_audit_ids_increase_and_page(store: SqlStore) -> None:
    session = make_session()
    await store.create_session(session, None)
    other = make_session()
    await store.create_session(other, None)
    ids = []
    for sid in (session.id, other.id, session.id, session.id):
        attempt = await store.start_attempt(make_attempt(sid), max_attempts=3, now=NOW)
        ids.append((await store.complete_attempt(attempt.id, make_entry(sid), None)).id)
    assert ids == sorted(ids) and len(set(ids)) == 4
    mine = await store.list_audit_entries(session.id, after=None, limit=100)
    assert [e.id for e in mine] == [ids[0], ids[2], ids[3]]
    assert [e.id for e in await store.list_audit_entries(session.id, after=ids[0], limit=1)] == [ids[2]]


async def test_delete_removes_everything_of_the_session(store: SqlStore) -> None:
    session = make_session(SessionKind.LIVENESS_WITH_VERIFY)
    await store.create_session(session, StoredVerifyImage(b"x" * 2000, "aa" * 32))
    attempt = await store.start_attempt(make_attempt(session.id), max_attempts=3, now=NOW)
    image = SessionImageRecord(str(uuid.uuid4()), session.id, b"img", "image/jpeg", NOW)
    entry = await store.complete_attempt(attempt.id, make_entry(session.id), image)
    keep = make_session()
    await store.create_session(keep, None)

    assert await store.delete_session(session.id)
    assert not await store.delete_session(session.id)
    assert await store.get_session(session.id) is None
    assert await store.get_verify_image(session.id) is None
    assert await store.get_attempt(attempt.id) is None
    assert await store.get_audit_entry(entry.id) is None
    assert await store.get_session_image(image.id) is None
    assert await store.get_session(keep.id) is not None


async def test_api_keys(store: SqlStore) -> None:
    first = ApiKeyRecord("k1", "one", "11" * 32, NOW)
    second = ApiKeyRecord("k2", "two", "22" * 32, NOW + timedelta(seconds=1))
    await store.add_api_key(first)
    await store.add_api_key(second)
    assert [k.id for k in await store.list_api_keys()] == ["k1", "k2"]
    assert await store.revoke_api_key("k1", NOW)
    assert not await store.revoke_api_key("k1", NOW)
    assert not await store.revoke_api_key("missing", NOW)
    assert (await store.get_api_key("k1")).revoked_at == NOW
    assert (await store.get_api_key("k2")).revoked_at is None


async def test_data_survives_reopening(database_url: str) -> None:
    first = await open_store(database_url)
    session = make_session()
    await first.create_session(session, None)
    await first.add_api_key(ApiKeyRecord("k", "n", "33" * 32, NOW))
    await first.close()
    second = await open_store(database_url)  # migrating again is a no-op
    try:
        assert await second.get_session(session.id) == session
        assert (await second.get_api_key("k")) is not None
    finally:
        await second.close()


async def test_database_errors_do_not_quote_parameters(store: SqlStore) -> None:
    # Error messages reach the logs: they must not carry statement parameters (images, hashes, device ids).
    from sqlalchemy.exc import IntegrityError

    session = make_session(device_correlation_id="secret-device-77")
    await store.create_session(session, None)
    with pytest.raises(IntegrityError) as failed:
        await store.create_session(session, None)
    assert "secret-device-77" not in str(failed.value)
