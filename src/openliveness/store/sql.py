"""The one store implementation: SQLAlchemy 2 Core over asyncio, for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import BigInteger, Integer, bindparam, case, delete, event, func, insert, literal, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

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
from openliveness.store.batching import WriteBatcher, WriteJob
from openliveness.store.protocol import AttemptRejected, CounterIncrement
from openliveness.store.tables import (
    UtcDateTime,
    api_keys,
    attempts,
    audit_entries,
    rate_counters,
    session_images,
    sessions,
    verify_images,
)

__all__ = ["SqlStore", "create_engine"]

T = TypeVar("T")


def create_engine(url: str) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and foreign keys on every connection. Statement
    parameters (images, key hashes) are kept out of error messages, and so out of the logs."""
    if url.startswith("postgresql+asyncpg"):
        try:
            import asyncpg  # noqa: F401
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ImportError("PostgreSQL needs: pip install 'openliveness[postgres]'") from exc
        return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True, hide_parameters=True)
    # No reset-on-return: with BEGIN issued by us (below), a returned connection never holds a transaction,
    # and skipping the ROLLBACK saves a round trip to the driver's thread per checkout. Two connections (the
    # group-committing writer and a reader) measured fastest: each more adds a driver thread fighting for
    # the GIL (bench/session_api.py: reads 871/s with 2, 784/s with 1, ~690/s with 3 or 8).
    engine = create_async_engine(url, pool_size=2, max_overflow=0, pool_reset_on_return=None, hide_parameters=True)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
            # Autocommit at the driver: we issue BEGIN IMMEDIATE ourselves for writes (see SqlStore._write).
            dbapi_conn.isolation_level = None
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        dialect = engine.sync_engine.dialect
        rollback = dialect.do_rollback

        def rollback_if_open(dbapi_conn: Any) -> None:
            # Every read ends in a ROLLBACK, a round trip to the driver's thread; SQLite knows whether a
            # transaction is open (a cheap attribute), and after a single SELECT in autocommit none is.
            if dbapi_conn.driver_connection.in_transaction:
                rollback(dbapi_conn)

        dialect.do_rollback = rollback_if_open  # type: ignore[method-assign,assignment]

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Writes take the write lock up front (no deadlocked lock upgrades); each read is one SELECT,
            # atomic on its own in autocommit mode, so it needs no transaction round trip.
            if conn.info.get("write"):
                conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _count_statement(dialect_insert: Any) -> Any:
    """Add `amount` to a rate counter and return (this window, previous window), in one statement: the row rolls
    over to the new window as it is hit. (A window ahead of ours was opened by a process whose clock runs ahead:
    count into it rather than roll it back.) Built once per dialect, with parameters: compiled once."""
    c = rate_counters.c
    start, amount = bindparam("start", type_=BigInteger), bindparam("amount", type_=Integer)
    current = c.window >= start
    return (
        dialect_insert(rate_counters)
        .values(key=bindparam("key"), window=start, count=amount, previous=0)
        .on_conflict_do_update(
            index_elements=[c.key],
            set_={
                "previous": case((current, c.previous), (c.window == bindparam("before"), c.count), else_=0),
                "count": case((current, c.count + amount), else_=amount),
                "window": case((c.window > start, c.window), else_=start),
            },
        )
        .returning(c.count, c.previous)
    )


_COUNT = {"postgresql": _count_statement(postgresql.insert), "sqlite": _count_statement(sqlite.insert)}


async def _count(
    conn: AsyncConnection, key: str, window_start: int, window_seconds: int, amount: int
) -> tuple[int, int]:
    params = {"key": key, "start": window_start, "before": window_start - window_seconds, "amount": amount}
    count, previous = (await conn.execute(_COUNT[conn.dialect.name], params)).one()
    return int(count), int(previous)


async def _delete_sessions(conn: AsyncConnection, ids: list[str]) -> int:
    for table in _SESSION_CHILDREN:
        await conn.execute(delete(table).where(table.c.session_id.in_(ids)))
    return (await conn.execute(delete(sessions).where(sessions.c.id.in_(ids)))).rowcount


def _session_from_row(row: Row[Any], verify: Row[Any] | None) -> SessionRecord:
    m = row._mapping
    face = _reference_face(verify) if verify is not None else None
    return SessionRecord(
        id=m["id"],
        kind=SessionKind(m["kind"]),
        created_at=m["created_at"],
        token_expires_at=m["token_expires_at"],
        expires_at=m["expires_at"],
        auth_token_ttl_seconds=m["auth_token_ttl_seconds"],
        operation_mode=LivenessOperationMode(m["operation_mode"]),
        send_results_to_client=m["send_results_to_client"],
        device_correlation_id=m["device_correlation_id"],
        device_correlation_id_set_in_client=m["device_correlation_id_set_in_client"],
        enable_session_image=m["enable_session_image"],
        liveness_model=m["liveness_model"],
        return_verify_image_hash=m["return_verify_image_hash"],
        verify_confidence_threshold=m["verify_confidence_threshold"],
        status=FaceSessionStatus(m["status"]),
        started_at=m["started_at"],
        attempts_used=m["attempts_used"],
        result_audit_id=m["result_audit_id"],
        has_verify_image=verify is not None,
        verify_image_sha256=verify._mapping["sha256"] if verify is not None else None,
        reference_face=face,
    )


def _reference_face(verify: Row[Any]) -> ReferenceFace | None:
    m = verify._mapping
    if m["face_rectangle"] is None:
        return None
    return ReferenceFace(
        face_rectangle=json.loads(m["face_rectangle"]),
        quality_for_recognition=m["quality_for_recognition"],
        embedding=m["embedding"],
    )


def _audit_from_row(row: Row[Any]) -> AuditEntryRecord:
    m = row._mapping
    return AuditEntryRecord(
        id=m["id"],
        session_id=m["session_id"],
        request_id=m["request_id"],
        client_request_id=m["client_request_id"],
        received_at=m["received_at"],
        request=json.loads(m["request"]),
        response=json.loads(m["response"]),
        digest=m["digest"],
        session_image_id=m["session_image_id"],
        verify_image_hash=m["verify_image_hash"],
    )


def _attempt_from_row(row: Row[Any]) -> AttemptRecord:
    m = row._mapping
    return AttemptRecord(
        id=m["id"],
        session_id=m["session_id"],
        number=m["number"],
        created_at=m["created_at"],
        expires_at=m["expires_at"],
        challenge=json.loads(m["challenge"]),
        used=m["used"],
    )


def _key_from_row(row: Row[Any]) -> ApiKeyRecord:
    m = row._mapping
    return ApiKeyRecord(
        id=m["id"],
        name=m["name"],
        secret_hash=m["secret_hash"],
        created_at=m["created_at"],
        revoked_at=m["revoked_at"],
    )


_INSERT_SESSION = insert(sessions)
_INSERT_VERIFY_IMAGE = insert(verify_images)

# Everything a session owns, children first (correct even where foreign-key cascades are off).
_SESSION_CHILDREN = (audit_entries, session_images, attempts, verify_images)
# Any constant works: it only has to be the same for every process sharing the database.
_PG_PURGE_LOCK = 0x4F4C_5055

_VERIFY_COLUMNS = (
    verify_images.c.sha256,
    verify_images.c.face_rectangle,
    verify_images.c.quality_for_recognition,
    verify_images.c.embedding,
)


class SqlStore:
    """`SessionStore` on an `AsyncEngine`. Multi-row changes are single transactions, so a crash leaves either
    all or nothing of them, and the conditional updates make attempt counting exact across processes."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        # SQLite has one writer at a time (and its busy handler waits by sleeping, up to 100 ms a try), so this
        # process's writes are group-committed; other processes still meet the busy timeout. PostgreSQL runs
        # concurrent transactions itself.
        self._batcher = WriteBatcher(self._transaction) if engine.dialect.name == "sqlite" else None

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    @asynccontextmanager
    async def _read(self) -> AsyncIterator[AsyncConnection]:
        async with self._engine.connect() as conn:
            yield conn

    async def _write(self, job: WriteJob[T]) -> T:
        """Run `job` in a write transaction (on SQLite, possibly shared with concurrent jobs)."""
        if self._batcher is not None:
            return await self._batcher.run(job)
        async with self._transaction() as conn:
            return await job(conn)

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self._engine.connect() as conn:
            if self._batcher is None:  # PostgreSQL
                async with conn.begin():
                    yield conn
                return
            # On SQLite this makes the begin hook take the write lock up front: no deadlocked upgrades.
            info = conn.sync_connection.info  # type: ignore[union-attr]
            info["write"] = True
            try:
                async with conn.begin():
                    yield conn
            finally:
                # The same dict, not `conn.info` again: on a connection invalidated by an error, that property
                # would reconnect (synchronously, outside the async bridge).
                info.pop("write", None)

    # -- sessions -------------------------------------------------------------------------------------------

    async def create_session(
        self, session: SessionRecord, verify_image: StoredVerifyImage | None, *, counter: CounterIncrement | None = None
    ) -> tuple[int, int] | None:
        values = {
            "id": session.id,
            "kind": session.kind.value,
            "created_at": session.created_at,
            "token_expires_at": session.token_expires_at,
            "expires_at": session.expires_at,
            "auth_token_ttl_seconds": session.auth_token_ttl_seconds,
            "operation_mode": session.operation_mode.value,
            "send_results_to_client": session.send_results_to_client,
            "device_correlation_id": session.device_correlation_id,
            "device_correlation_id_set_in_client": session.device_correlation_id_set_in_client,
            "enable_session_image": session.enable_session_image,
            "liveness_model": session.liveness_model,
            "return_verify_image_hash": session.return_verify_image_hash,
            "verify_confidence_threshold": session.verify_confidence_threshold,
            "status": session.status.value,
            "started_at": session.started_at,
            "attempts_used": session.attempts_used,
            "result_audit_id": session.result_audit_id,
        }

        async def job(conn: AsyncConnection) -> tuple[int, int] | None:
            counts = None
            if counter is not None:
                # In the same transaction (and group commit) as the insert: a limited create costs no extra trip.
                counts = await _count(conn, counter.key, counter.window_start, counter.window_seconds, 1)
                if not counter.allows(*counts):
                    return counts
            # Constant statements with the values as parameters: compiled once, not coerced per call.
            await conn.execute(_INSERT_SESSION, values)
            if verify_image is not None:
                await conn.execute(_INSERT_VERIFY_IMAGE, self._verify_values(session.id, verify_image))
            return counts

        return await self._write(job)

    @staticmethod
    def _verify_values(session_id: str, image: StoredVerifyImage) -> dict[str, Any]:
        face = image.face
        return {
            "session_id": session_id,
            "content": image.content,
            "sha256": image.sha256,
            "face_rectangle": json.dumps(face.face_rectangle) if face else None,
            "quality_for_recognition": face.quality_for_recognition if face else None,
            "embedding": face.embedding if face else None,
        }

    async def get_session(self, session_id: str) -> SessionRecord | None:
        query = (
            select(sessions, *_VERIFY_COLUMNS)
            .select_from(sessions.outerjoin(verify_images, verify_images.c.session_id == sessions.c.id))
            .where(sessions.c.id == session_id)
        )
        async with self._read() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return _session_from_row(row, row if row._mapping["sha256"] is not None else None)

    async def list_sessions(self, kind: SessionKind, *, after: str | None, limit: int) -> list[SessionRecord]:
        query = select(sessions).where(sessions.c.kind == kind.value).order_by(sessions.c.id).limit(limit)
        if after is not None:
            query = query.where(sessions.c.id > after)
        async with self._read() as conn:
            rows = (await conn.execute(query)).all()
        return [_session_from_row(row, None) for row in rows]

    async def delete_session(self, session_id: str) -> bool:
        async def job(conn: AsyncConnection) -> bool:
            return await _delete_sessions(conn, [session_id]) > 0

        return await self._write(job)

    async def purge_expired(self, now: datetime, *, batch: int = 200) -> list[str]:
        """Delete up to `batch` sessions whose lifetime ended by `now`, with all they own; their ids.

        On PostgreSQL one process purges at a time (others get [] at once): concurrent deletes of the same rows
        could deadlock, and the work is the same whoever does it."""

        async def job(conn: AsyncConnection) -> list[str]:
            if conn.dialect.name == "postgresql":
                got = await conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": _PG_PURGE_LOCK})
                if not got.scalar_one():
                    return []
            query = select(sessions.c.id).where(sessions.c.expires_at <= now).order_by(sessions.c.expires_at)
            ids = list((await conn.execute(query.limit(batch))).scalars())
            if ids:
                await _delete_sessions(conn, ids)
            return ids

        return await self._write(job)

    async def purge_counters(self, before: int) -> int:
        """Delete rate-limit counters of windows that started before `before` (epoch seconds)."""

        async def job(conn: AsyncConnection) -> int:
            return (await conn.execute(delete(rate_counters).where(rate_counters.c.window < before))).rowcount

        return await self._write(job)

    async def get_verify_image(self, session_id: str) -> StoredVerifyImage | None:
        async with self._read() as conn:
            row = (await conn.execute(select(verify_images).where(verify_images.c.session_id == session_id))).first()
        if row is None:
            return None
        return StoredVerifyImage(content=row.content, sha256=row.sha256, face=_reference_face(row))

    async def set_verify_image(self, session_id: str, image: StoredVerifyImage) -> bool:
        async def job(conn: AsyncConnection) -> bool:
            exists = (
                await conn.execute(select(verify_images.c.session_id).where(verify_images.c.session_id == session_id))
            ).first()
            if exists is not None:
                return False
            await conn.execute(insert(verify_images).values(self._verify_values(session_id, image)))
            return True

        return await self._write(job)

    async def update_reference_face(self, session_id: str, face: ReferenceFace) -> None:
        async def job(conn: AsyncConnection) -> None:
            await conn.execute(
                update(verify_images)
                .where(verify_images.c.session_id == session_id)
                .values(
                    face_rectangle=json.dumps(face.face_rectangle),
                    quality_for_recognition=face.quality_for_recognition,
                    embedding=face.embedding,
                )
            )

        await self._write(job)

    # -- attempts and audit entries -------------------------------------------------------------------------

    async def start_attempt(self, attempt: AttemptRecord, *, max_attempts: int, now: datetime) -> AttemptRecord:
        take = (
            update(sessions)
            .where(
                sessions.c.id == attempt.session_id,
                sessions.c.attempts_used < max_attempts,
                sessions.c.token_expires_at > now,
            )
            .values(
                attempts_used=sessions.c.attempts_used + 1,
                started_at=func.coalesce(sessions.c.started_at, literal(now, UtcDateTime())),
                status=case(
                    (
                        sessions.c.status == FaceSessionStatus.NOT_STARTED.value,
                        FaceSessionStatus.STARTED.value,
                    ),
                    else_=sessions.c.status,
                ),
            )
            .returning(sessions.c.attempts_used)
        )

        async def job(conn: AsyncConnection) -> int | None:
            number: int | None = (await conn.execute(take)).scalar_one_or_none()
            if number is None:
                return None
            await conn.execute(
                insert(attempts).values(
                    id=attempt.id,
                    session_id=attempt.session_id,
                    number=number,
                    created_at=attempt.created_at,
                    expires_at=attempt.expires_at,
                    challenge=json.dumps(attempt.challenge),
                    used=False,
                )
            )
            return number

        number = await self._write(job)
        if number is None:
            raise AttemptRejected(attempt.session_id)
        return replace(attempt, number=number)

    async def get_attempt(self, attempt_id: str) -> AttemptRecord | None:
        async with self._read() as conn:
            row = (await conn.execute(select(attempts).where(attempts.c.id == attempt_id))).first()
        return _attempt_from_row(row) if row is not None else None

    async def claim_attempt(self, attempt_id: str) -> bool:
        async def job(conn: AsyncConnection) -> bool:
            claimed = await conn.execute(
                update(attempts).where(attempts.c.id == attempt_id, attempts.c.used.is_(False)).values(used=True)
            )
            return claimed.rowcount == 1

        return await self._write(job)

    async def digest_seen(self, digest: str) -> bool:
        async with self._read() as conn:
            query = select(audit_entries.c.id).where(audit_entries.c.digest == digest).limit(1)
            row = (await conn.execute(query)).first()
        return row is not None

    async def set_device_correlation_id(self, session_id: str, device_correlation_id: str) -> bool:
        async def job(conn: AsyncConnection) -> bool:
            result = await conn.execute(
                update(sessions)
                .where(sessions.c.id == session_id, sessions.c.device_correlation_id.is_(None))
                .values(device_correlation_id=device_correlation_id)
            )
            return result.rowcount == 1

        return await self._write(job)

    async def complete_attempt(
        self, attempt_id: str, entry: AuditEntryRecord, image: SessionImageRecord | None
    ) -> AuditEntryRecord | None:
        async def job(conn: AsyncConnection) -> int | None:
            # Taken first, exactly once whatever runs concurrently (-1 until the entry's id is known below).
            taken = await conn.execute(
                update(attempts)
                .where(attempts.c.id == attempt_id, attempts.c.audit_entry_id.is_(None))
                .values(used=True, audit_entry_id=-1)
            )
            if taken.rowcount != 1:
                return None
            if image is not None:
                await conn.execute(
                    insert(session_images).values(
                        id=image.id,
                        session_id=image.session_id,
                        content=image.content,
                        media_type=image.media_type,
                        created_at=image.created_at,
                    )
                )
            entry_id = (
                await conn.execute(
                    insert(audit_entries)
                    .values(
                        session_id=entry.session_id,
                        request_id=entry.request_id,
                        client_request_id=entry.client_request_id,
                        received_at=entry.received_at,
                        request=json.dumps(entry.request),
                        response=json.dumps(entry.response),
                        digest=entry.digest,
                        session_image_id=entry.session_image_id,
                        verify_image_hash=entry.verify_image_hash,
                    )
                    .returning(audit_entries.c.id)
                )
            ).scalar_one()
            await conn.execute(update(attempts).where(attempts.c.id == attempt_id).values(audit_entry_id=entry_id))
            await conn.execute(
                update(sessions)
                .where(sessions.c.id == entry.session_id)
                .values(result_audit_id=entry_id, status=FaceSessionStatus.RESULT_AVAILABLE.value)
            )
            return int(entry_id)

        entry_id = await self._write(job)
        return None if entry_id is None else replace(entry, id=entry_id)

    async def list_audit_entries(self, session_id: str, *, after: int | None, limit: int) -> list[AuditEntryRecord]:
        query = (
            select(audit_entries)
            .where(audit_entries.c.session_id == session_id)
            .order_by(audit_entries.c.id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(audit_entries.c.id > after)
        async with self._read() as conn:
            rows = (await conn.execute(query)).all()
        return [_audit_from_row(row) for row in rows]

    async def get_audit_entry(self, entry_id: int) -> AuditEntryRecord | None:
        async with self._read() as conn:
            row = (await conn.execute(select(audit_entries).where(audit_entries.c.id == entry_id))).first()
        return _audit_from_row(row) if row is not None else None

    async def get_session_image(self, image_id: str) -> SessionImageRecord | None:
        async with self._read() as conn:
            row = (await conn.execute(select(session_images).where(session_images.c.id == image_id))).first()
        if row is None:
            return None
        m = row._mapping
        return SessionImageRecord(
            id=m["id"],
            session_id=m["session_id"],
            content=m["content"],
            media_type=m["media_type"],
            created_at=m["created_at"],
        )

    # -- rate limits ----------------------------------------------------------------------------------------

    async def add_to_counter(self, key: str, window_start: int, window_seconds: int, amount: int) -> tuple[int, int]:
        c = rate_counters.c
        if not amount:
            async with self._read() as conn:
                row = (await conn.execute(select(c.window, c.count, c.previous).where(c.key == key))).first()
            if row is None:
                return 0, 0
            window, count, previous = row
            if window >= window_start:
                return count, previous
            return (0, count) if window == window_start - window_seconds else (0, 0)
        return await self._write(lambda conn: _count(conn, key, window_start, window_seconds, amount))

    # -- API keys -------------------------------------------------------------------------------------------

    async def add_api_key(self, key: ApiKeyRecord) -> None:
        async def job(conn: AsyncConnection) -> None:
            await conn.execute(
                insert(api_keys).values(
                    id=key.id,
                    name=key.name,
                    secret_hash=key.secret_hash,
                    created_at=key.created_at,
                    revoked_at=None,
                )
            )

        await self._write(job)

    async def get_api_key(self, key_id: str) -> ApiKeyRecord | None:
        async with self._read() as conn:
            row = (await conn.execute(select(api_keys).where(api_keys.c.id == key_id))).first()
        return _key_from_row(row) if row is not None else None

    async def list_api_keys(self) -> list[ApiKeyRecord]:
        async with self._read() as conn:
            rows = (await conn.execute(select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id))).all()
        return [_key_from_row(row) for row in rows]

    async def revoke_api_key(self, key_id: str, now: datetime) -> bool:
        async def job(conn: AsyncConnection) -> bool:
            result = await conn.execute(
                update(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None)).values(revoked_at=now)
            )
            return result.rowcount > 0

        return await self._write(job)

    # -- lifecycle ------------------------------------------------------------------------------------------

    async def ping(self) -> None:
        async with self._read() as conn:
            await conn.execute(text("SELECT 1"))

    async def close(self) -> None:
        if self._batcher is not None:
            await self._batcher.aclose()
        await self._engine.dispose()
