"""The database schema as SQLAlchemy Core tables; migrations in `store/migrations` create exactly this."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

__all__ = [
    "api_keys",
    "attempts",
    "audit_entries",
    "metadata",
    "rate_counters",
    "session_images",
    "sessions",
    "verify_images",
]


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite hands back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        value = value.astimezone(UTC)
        # SQLite compares these as text: a fixed naive format keeps ordering and comparisons right.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a real 64-bit identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("token_expires_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("auth_token_ttl_seconds", Integer, nullable=False),
    Column("operation_mode", String(16), nullable=False),
    Column("send_results_to_client", Boolean, nullable=False),
    Column("device_correlation_id", String(64)),
    Column("device_correlation_id_set_in_client", Boolean, nullable=False),
    Column("enable_session_image", Boolean, nullable=False),
    Column("liveness_model", String(64)),
    Column("return_verify_image_hash", Boolean, nullable=False, default=False),
    Column("verify_confidence_threshold", Float),
    Column("status", String(16), nullable=False),
    Column("started_at", UtcDateTime()),
    Column("attempts_used", Integer, nullable=False, default=0),
    Column("result_audit_id", BigInteger),
    Index("ix_sessions_kind_id", "kind", "id"),
    Index("ix_sessions_expires_at", "expires_at"),
)

verify_images = Table(
    "verify_images",
    metadata,
    Column("session_id", String(36), ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True),
    Column("content", LargeBinary, nullable=False),
    Column("sha256", String(64), nullable=False),
    # What face analysis found, so it is not recomputed per attempt (embedding as float32 bytes).
    Column("face_rectangle", Text),
    Column("quality_for_recognition", String(16)),
    Column("embedding", LargeBinary),
)

attempts = Table(
    "attempts",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("session_id", String(36), ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("expires_at", UtcDateTime(), nullable=False),
    Column("challenge", Text, nullable=False),
    # `used`: claimed by a detect call (no second call may start on it); `audit_entry_id`: its recorded result.
    Column("used", Boolean, nullable=False, default=False),
    Column("audit_entry_id", BigInteger),
    UniqueConstraint("session_id", "number", name="uq_attempts_session_number"),
)

audit_entries = Table(
    "audit_entries",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("session_id", String(36), ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False),
    Column("request_id", String(64), nullable=False),
    Column("client_request_id", String(256), nullable=False),
    Column("received_at", UtcDateTime(), nullable=False),
    Column("request", Text, nullable=False),
    Column("response", Text, nullable=False),
    Column("digest", String(128), nullable=False),
    Column("session_image_id", String(36)),
    Column("verify_image_hash", String(64)),
    Index("ix_audit_entries_session_id_id", "session_id", "id"),
    Index("ix_audit_entries_digest", "digest"),
)

session_images = Table(
    "session_images",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("session_id", String(36), ForeignKey("sessions.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("content", LargeBinary, nullable=False),
    Column("media_type", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("created_at", UtcDateTime(), nullable=False),
    Column("revoked_at", UtcDateTime()),
)

# Anti-hammer counters (sessions/limits.py): one row per limited key holding the current fixed window's count and
# the previous window's, so one upsert both counts and reads. The key is a keyed hash: neither client addresses
# nor device ids are stored.
rate_counters = Table(
    "rate_counters",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("window", BigInteger, nullable=False),
    Column("count", Integer, nullable=False),
    Column("previous", Integer, nullable=False),
    # No index on `window`: every count would maintain it, and only the purge (a scan every few minutes) reads it.
)
