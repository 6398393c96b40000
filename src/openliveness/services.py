"""Builds the running system from `Settings`: store, services and models, and closes them again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import anyio
import anyio.to_thread

from openliveness.liveness.engine import LivenessEngine
from openliveness.sessions import ApiKeyService, SessionService, TokenSigner, load_or_create_secret
from openliveness.sessions.attempts import AttemptService
from openliveness.sessions.recording import CaptureRecorder
from openliveness.sessions.reference import ReferenceFaceReader
from openliveness.settings import Settings
from openliveness.store import SqlStore, open_store
from openliveness.vision import AnalyzerConfig, FaceAnalyzer, ImageLimits

__all__ = ["Services", "build_services"]


@dataclass(slots=True)
class Services:
    settings: Settings
    store: SqlStore
    sessions: SessionService
    keys: ApiKeyService
    analyzer: FaceAnalyzer
    attempts: AttemptService

    async def close(self) -> None:
        await self.store.close()


async def build_services(settings: Settings, *, analyzer: FaceAnalyzer | None = None) -> Services:
    """Connect the store and load the models (once, warmed up); pass `analyzer` to share loaded models."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if analyzer is None:
        config = AnalyzerConfig(intra_op_threads=settings.model_threads)
        analyzer = await anyio.to_thread.run_sync(lambda: FaceAnalyzer.load(config))
    store = await open_store(settings.effective_database_url, migrate=settings.auto_migrate)
    cpu = anyio.CapacityLimiter(settings.cpu_workers)
    recorder = (
        CaptureRecorder(settings.data_dir / "recordings", max_bundles=settings.recordings_max)
        if settings.record_captures
        else None
    )
    secret = load_or_create_secret(
        settings.token_secret.get_secret_value() if settings.token_secret else None, settings.data_dir
    )
    sessions = SessionService(
        store,
        TokenSigner(secret),
        analyze_reference=ReferenceFaceReader(
            analyzer,
            ImageLimits(min_bytes=settings.verify_image_min_bytes, max_bytes=settings.verify_image_max_bytes),
        ),
        cpu_limiter=cpu,
        on_delete=(recorder.forget,) if recorder else (),
        session_lifetime=timedelta(seconds=settings.session_lifetime_seconds),
        max_attempts=settings.max_attempts_per_session,
    )
    keys = ApiKeyService(store, cache_seconds=settings.api_key_cache_seconds)
    attempts = AttemptService(sessions, store, LivenessEngine(analyzer), analyzer, cpu_limiter=cpu, recorder=recorder)
    return Services(settings=settings, store=store, sessions=sessions, keys=keys, analyzer=analyzer, attempts=attempts)
