"""Builds the running system from `Settings`: store, services and models, and closes them again."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta

import anyio
import anyio.to_thread

from openliveness.cpu import CpuPool
from openliveness.liveness.engine import LivenessEngine
from openliveness.sessions import ApiKeyService, SessionService, TokenSigner, load_or_create_secret
from openliveness.sessions.attempts import AttemptService
from openliveness.sessions.limits import Limit, LimitPolicy, RateLimiter
from openliveness.sessions.recording import CaptureRecorder
from openliveness.sessions.reference import ReferenceFaceReader
from openliveness.sessions.retention import RetentionService
from openliveness.settings import Settings
from openliveness.store import SqlStore, open_store
from openliveness.vision import AnalyzerConfig, FaceAnalyzer, ImageLimits

__all__ = ["ConfigurationError", "Services", "build_recorder", "build_retention", "build_services", "limit_policy"]


class ConfigurationError(Exception):
    """The settings cannot work as given (the message says what to change)."""


@dataclass(slots=True)
class Services:
    settings: Settings
    store: SqlStore
    sessions: SessionService
    keys: ApiKeyService
    analyzer: FaceAnalyzer
    attempts: AttemptService
    retention: RetentionService
    cpu: CpuPool

    async def close(self) -> None:
        self.cpu.close()
        await self.store.close()


def limit_policy(settings: Settings) -> LimitPolicy:
    """Each limit from its `limit_<name>` setting, all over `limit_window_seconds`."""
    window = settings.limit_window_seconds
    return LimitPolicy(
        **{f.name: Limit(f.name, getattr(settings, f"limit_{f.name}"), window) for f in fields(LimitPolicy)}
    )


def build_recorder(settings: Settings) -> CaptureRecorder | None:
    if not settings.record_captures:
        return None
    return CaptureRecorder(settings.data_dir / "recordings", max_bundles=settings.recordings_max)


def build_retention(
    settings: Settings, store: SqlStore, recorder: CaptureRecorder | None, clock: Callable[[], datetime]
) -> RetentionService:
    """Retention alone (no models): what `openliveness purge` needs."""
    return RetentionService(
        store,
        clock=clock,
        session_lifetime=timedelta(seconds=settings.session_lifetime_seconds),
        counter_horizon=timedelta(seconds=2 * limit_policy(settings).longest_window_seconds),
        on_delete=(recorder.forget,) if recorder else (),
        recorder=recorder,
    )


async def build_services(
    settings: Settings,
    *,
    analyzer: FaceAnalyzer | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Services:
    """Connect the store and load the models (once, warmed up); pass `analyzer` to share loaded models and
    `clock` to run on another time (tests of expiry and retention)."""
    problem = settings.shared_secret_problem()
    if problem:
        raise ConfigurationError(f"set OPENLIVENESS_TOKEN_SECRET (at least 32 characters): {problem}")
    now = clock or (lambda: datetime.now(UTC))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if analyzer is None:
        config = AnalyzerConfig(intra_op_threads=settings.model_threads)
        analyzer = await anyio.to_thread.run_sync(lambda: FaceAnalyzer.load(config))
    store = await open_store(
        settings.effective_database_url, migrate=settings.auto_migrate, wait_seconds=settings.database_wait_seconds
    )
    cpu = CpuPool(settings.cpu_workers)
    recorder = build_recorder(settings)
    secret = load_or_create_secret(
        settings.token_secret.get_secret_value() if settings.token_secret else None, settings.data_dir
    )
    policy = limit_policy(settings)
    limiter = RateLimiter(store, secret, policy, now)
    lifetime = timedelta(seconds=settings.session_lifetime_seconds)
    on_delete = (recorder.forget,) if recorder else ()
    sessions = SessionService(
        store,
        TokenSigner(secret),
        analyze_reference=ReferenceFaceReader(
            analyzer,
            ImageLimits(min_bytes=settings.verify_image_min_bytes, max_bytes=settings.verify_image_max_bytes),
        ),
        cpu=cpu,
        limiter=limiter,
        on_delete=on_delete,
        session_lifetime=lifetime,
        max_attempts=settings.max_attempts_per_session,
        clock=now,
    )
    keys = ApiKeyService(store, cache_seconds=settings.api_key_cache_seconds)
    attempts = AttemptService(
        sessions,
        store,
        LivenessEngine(analyzer, parts=cpu.parts),
        analyzer,
        cpu=cpu,
        limiter=limiter,
        recorder=recorder,
    )
    retention = build_retention(settings, store, recorder, now)
    return Services(
        settings=settings,
        store=store,
        sessions=sessions,
        keys=keys,
        analyzer=analyzer,
        attempts=attempts,
        retention=retention,
        cpu=cpu,
    )
