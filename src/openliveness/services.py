"""Builds the running system from `Settings`: store, services and models, and closes them again."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import anyio

from openliveness.sessions import ApiKeyService, SessionService, TokenSigner, load_or_create_secret
from openliveness.sessions.reference import check_reference_image
from openliveness.settings import Settings
from openliveness.store import SqlStore, open_store

__all__ = ["Services", "build_services"]


@dataclass(slots=True)
class Services:
    settings: Settings
    store: SqlStore
    sessions: SessionService
    keys: ApiKeyService

    async def close(self) -> None:
        await self.store.close()


async def build_services(settings: Settings) -> Services:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = await open_store(settings.effective_database_url, migrate=settings.auto_migrate)
    secret = load_or_create_secret(
        settings.token_secret.get_secret_value() if settings.token_secret else None, settings.data_dir
    )
    sessions = SessionService(
        store,
        TokenSigner(secret),
        analyze_reference=check_reference_image,
        cpu_limiter=anyio.CapacityLimiter(settings.cpu_workers),
        session_lifetime=timedelta(seconds=settings.session_lifetime_seconds),
        max_attempts=settings.max_attempts_per_session,
        verify_image_bytes=(settings.verify_image_min_bytes, settings.verify_image_max_bytes),
    )
    keys = ApiKeyService(store, cache_seconds=settings.api_key_cache_seconds)
    return Services(settings=settings, store=store, sessions=sessions, keys=keys)
