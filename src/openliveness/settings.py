"""Configuration: the only reader of the environment (variables prefixed `OPENLIVENESS_`)."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings", "default_data_dir"]

SUPPORTED_API_VERSIONS = ("v1.1-preview.1", "v1.2-preview.1")
# Accepted URL prefixes and the async driver each one runs on.
_DATABASE_DRIVERS = {
    "sqlite+aiosqlite://": "sqlite+aiosqlite://",
    "sqlite://": "sqlite+aiosqlite://",
    "postgresql+asyncpg://": "postgresql+asyncpg://",
    "postgresql://": "postgresql+asyncpg://",
    "postgres://": "postgresql+asyncpg://",
}


def default_data_dir() -> Path:
    """`$XDG_DATA_HOME/openliveness`, else `~/.local/share/openliveness`."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "openliveness"


class Settings(BaseSettings):
    """Every tunable of the server. Build one with `Settings()` (reads the environment) or pass values."""

    model_config = SettingsConfigDict(env_prefix="OPENLIVENESS_", extra="ignore", frozen=True)

    data_dir: Path = Field(default_factory=default_data_dir, description="Where the SQLite file and secret live.")
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy async URL; default: SQLite file `openliveness.db` in the data directory. "
        "PostgreSQL: postgresql+asyncpg://user@host/db",
    )
    token_secret: SecretStr | None = Field(
        default=None,
        description="Key that signs session auth tokens (at least 32 characters). Default: generated once and "
        "kept in `<data_dir>/token-secret`. Set it explicitly when several processes share a database.",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    auto_migrate: bool = Field(default=True, description="Apply database migrations at start-up.")

    session_lifetime_seconds: int = Field(default=48 * 3600, ge=60, description="A session id expires after this.")
    max_attempts_per_session: int = Field(default=3, ge=1, le=3)
    verify_image_min_bytes: int = 1024
    verify_image_max_bytes: int = 6 * 1024 * 1024
    max_request_bytes: int = Field(
        default=8 * 1024 * 1024, description="Largest request body accepted on any route (413 above it)."
    )
    api_key_cache_seconds: float = Field(
        default=2.0,
        ge=0,
        description="How long a process trusts a key it has checked; a revoked key stops working after at most this.",
    )
    cpu_workers: int = Field(default=2, ge=1, description="Threads for image and model work off the event loop.")
    model_threads: int = Field(default=1, ge=1, description="Threads inside one detector run (onnxruntime).")
    gil_switch_interval: float = Field(
        default=0.0005,
        gt=0,
        description="Python's GIL switch interval in the server: database driver and model threads hand results "
        "back to the event loop, and with the default 5 ms each hand-over can stall that long under load.",
    )

    demo_enabled: bool = Field(
        default=True, description="Serve the demo page at /demo, acting as its own app server (see docs/web-sdk.md)."
    )
    demo_allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Client addresses besides loopback that may use the demo and its session endpoints "
        '(JSON list, e.g. ["192.168.1.20"]; "*" allows everyone). The demo creates sessions without an API key.',
    )

    record_captures: bool = Field(
        default=False,
        description="Keep every detect call's capture as a bundle for `openliveness eval` (personal data: "
        "frames of faces). Off by default.",
    )
    recordings_max: int = Field(default=1000, ge=1, description="Most recorded bundles kept; the oldest go first.")

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, url: str | None) -> str | None:
        if url is None:
            return None
        for prefix, driver in _DATABASE_DRIVERS.items():
            if url.startswith(prefix):
                return driver + url.removeprefix(prefix)
        raise ValueError(
            "database URL must start with sqlite+aiosqlite:///, sqlite:///, postgresql:// or postgresql+asyncpg://"
        )

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'openliveness.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")
