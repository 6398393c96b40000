"""App-server API keys: created once and shown once, stored as SHA-256 hashes, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from openliveness.domain import ApiKeyRecord
from openliveness.errors import Unauthorized
from openliveness.store.protocol import SessionStore

__all__ = ["ApiKeyService", "NewApiKey"]

_PREFIX = "olk"


@dataclass(frozen=True, slots=True)
class NewApiKey:
    record: ApiKeyRecord
    key: str  # the only time the plain key exists


def _hash(secret: str) -> str:
    # Keys carry 256 random bits, so a fast hash is enough: there is nothing to brute-force.
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKeyService:
    """Several keys may be active at once, so a key can be rotated without downtime."""

    def __init__(self, store: SessionStore, *, cache_seconds: float = 0.0, clock: Callable[[], float] = time.monotonic):
        self._store = store
        self._cache_seconds = cache_seconds
        self._clock = clock
        # key id -> (hash, checked at): bounded by the number of keys, which is small.
        self._cache: dict[str, tuple[str, float]] = {}

    async def create(self, name: str) -> NewApiKey:
        key_id = secrets.token_hex(8)
        secret = secrets.token_urlsafe(32)
        record = ApiKeyRecord(id=key_id, name=name[:128], secret_hash=_hash(secret), created_at=datetime.now(UTC))
        await self._store.add_api_key(record)
        return NewApiKey(record=record, key=f"{_PREFIX}_{key_id}_{secret}")

    async def list(self) -> list[ApiKeyRecord]:
        return await self._store.list_api_keys()

    async def revoke(self, key_id: str) -> bool:
        self._cache.pop(key_id, None)
        return await self._store.revoke_api_key(key_id, datetime.now(UTC))

    async def authenticate(self, presented: str | None) -> str:
        """Return the key id of a valid, active key, or raise `Unauthorized`."""
        if not presented or len(presented) > 256:
            raise Unauthorized()
        prefix, _, rest = presented.partition("_")
        key_id, _, secret = rest.partition("_")
        if prefix != _PREFIX or not key_id or not secret:
            raise Unauthorized()
        presented_hash = _hash(secret)
        cached = self._cache.get(key_id)
        if cached is not None and self._clock() - cached[1] < self._cache_seconds:
            stored_hash = cached[0]
        else:
            record = await self._store.get_api_key(key_id)
            if record is None or record.revoked_at is not None:
                self._cache.pop(key_id, None)
                raise Unauthorized()
            stored_hash = record.secret_hash
            if self._cache_seconds > 0:
                self._cache[key_id] = (stored_hash, self._clock())
        if not hmac.compare_digest(stored_hash, presented_hash):
            raise Unauthorized()
        return key_id
