"""Configuration: the only reader of the environment (variables prefixed `OPENLIVENESS_`)."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Literal

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
    cpu_workers: int = Field(
        default=2,
        ge=1,
        description="Threads for image and model work off the event loop, and as many that split one call's parts.",
    )
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

    # -- anti-hammer limits (sessions/limits.py); each counts per subject in a sliding window, 0 switches it off.
    limit_window_seconds: int = Field(default=900, ge=10, description="The sliding window of every limit below.")
    limit_sessions_per_device: int = Field(default=30, ge=0, description="Sessions created per deviceCorrelationId.")
    limit_failed_attempts_per_device: int = Field(
        default=10, ge=0, description="Detect calls not ending in realface, per deviceCorrelationId."
    )
    limit_failed_attempts_per_ip: int = Field(
        default=30, ge=0, description="Detect calls not ending in realface, per client address."
    )
    limit_attempts_per_ip: int = Field(default=120, ge=0, description="Attempts started per client address.")
    limit_guidance_per_ip: int = Field(default=1800, ge=0, description="Guidance frames per client address.")
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="Addresses or networks of reverse proxies / load balancers whose X-Forwarded-For is believed "
        '(JSON list, e.g. ["10.0.0.0/8"]). Without them the client address is the TCP peer.',
    )

    # -- operations
    purge_interval_seconds: int = Field(
        default=600,
        ge=0,
        description="How often each process removes expired sessions with everything they own (0: never; then "
        "run `openliveness purge` from a scheduler). Sessions expire after session_lifetime_seconds.",
    )
    database_wait_seconds: float = Field(
        default=30.0, ge=0, description="At start-up, how long to wait for an unreachable database."
    )
    shutdown_grace_seconds: float = Field(
        default=30.0, ge=0, description="On SIGTERM, how long in-flight requests (detect calls) may take to finish."
    )
    metrics_enabled: bool = Field(
        default=True, description="Serve Prometheus metrics at /metrics (no key: keep it off the public route)."
    )
    log_format: Literal["json", "text"] = Field(default="json", description="Server log lines: JSON or plain text.")

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

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, values: list[str]) -> list[str]:
        for value in values:
            ipaddress.ip_network(value, strict=False)  # raises ValueError with the offending text
        return values

    def shared_secret_problem(self, *, workers: int = 1) -> str | None:
        """Why this configuration needs OPENLIVENESS_TOKEN_SECRET set explicitly, or None if it does not.

        Every process that serves one database must sign session tokens with the same key. A generated key lives
        in one data directory, which processes on other hosts (PostgreSQL) cannot read, and which several workers
        starting at once could race to create."""
        if self.token_secret is not None:
            return None
        if not self.is_sqlite:
            return "a PostgreSQL database may be shared by processes on several hosts"
        if workers > 1:
            return f"{workers} worker processes must share one token secret"
        return None

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'openliveness.db'}"

    @property
    def is_sqlite(self) -> bool:
        return self.effective_database_url.startswith("sqlite")
