"""Shared fixtures: settings on a temp dir, the store on every backend, the app over ASGI, a live HTTP server."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from sqlalchemy import text

from openliveness.api import create_app
from openliveness.services import Services, build_services
from openliveness.settings import Settings
from openliveness.store import SqlStore, open_store
from openliveness.store.sql import create_engine
from openliveness.vision import FaceAnalyzer

PG_URL = os.environ.get("OPENLIVENESS_TEST_DATABASE_URL")
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TEST_SECRET = "test-secret-" + "x" * 40

BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


async def reset_postgres(url: str) -> None:
    """Drop everything so each test starts from an empty, freshly migrated database."""
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


class Clock:
    """A settable clock, for services and limiters built with `clock=` (expiry, retention, windows)."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    if not PG_URL:
        pytest.skip("PostgreSQL: set OPENLIVENESS_TEST_DATABASE_URL (CI does)")
    asyncio.run(reset_postgres(PG_URL))
    return PG_URL


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[SqlStore]:
    s = await open_store(database_url)
    yield s
    await s.close()


@pytest.fixture(scope="session")
def analyzer() -> FaceAnalyzer:
    """The real face models, loaded once for the whole run."""
    return FaceAnalyzer.load()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """`../shared/data` beside the repository; tests that need it skip where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"evaluation data not present at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", token_secret=TEST_SECRET, api_key_cache_seconds=0)


@pytest.fixture
async def services(settings: Settings, analyzer: FaceAnalyzer) -> AsyncIterator[Services]:
    built = await build_services(settings, analyzer=analyzer)
    yield built
    await built.close()


@pytest.fixture
async def api_key(services: Services) -> str:
    return (await services.keys.create("test")).key


def asgi_client(services: Services, api_key: str | None = None, *, address: str = "127.0.0.1") -> httpx.AsyncClient:
    """An in-process client on the app built from `services`, sending `api_key` and coming from `address`."""
    transport = httpx.ASGITransport(app=create_app(services=services), client=(address, 40000))
    headers = {"Ocp-Apim-Subscription-Key": api_key} if api_key else {}
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=headers)


@pytest.fixture
async def client(services: Services, api_key: str) -> AsyncIterator[httpx.AsyncClient]:
    """An ASGI client on the app, sending a valid API key by default."""
    async with asgi_client(services, api_key) as c:
        yield c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class LiveServer:
    url: str
    api_key: str
    settings: Settings


class ServerThread:
    """uvicorn in a background thread on a free loopback port; stops when asked."""

    def __init__(self, settings: Settings) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=self.port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.02)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def _create_key(settings: Settings, analyzer: FaceAnalyzer) -> str:
    async def go() -> str:
        built = await build_services(settings, analyzer=analyzer)
        try:
            return (await built.keys.create("live")).key
        finally:
            await built.close()

    return asyncio.run(go())


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory, analyzer: FaceAnalyzer) -> Iterator[LiveServer]:
    """One real HTTP server for the whole test session (SQLite in a temp data dir)."""
    settings = Settings(data_dir=tmp_path_factory.mktemp("live"), token_secret=TEST_SECRET)
    key = _create_key(settings, analyzer)
    with ServerThread(settings) as url:
        yield LiveServer(url=url, api_key=key, settings=settings)


def _jpeg(array: object, quality: int = 90) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="JPEG", quality=quality)  # type: ignore[arg-type]
    return buffer.getvalue()


@pytest.fixture(scope="session")
def face_jpeg() -> bytes:
    """A real single-face photograph every machine can produce: scikit-image's astronaut (public domain)."""
    from skimage import data

    return _jpeg(data.astronaut())


@pytest.fixture(scope="session")
def sim_head(analyzer: FaceAnalyzer, face_jpeg: bytes) -> object:
    """The simulator's 3D head of the astronaut photo (a `HeadModel`), for tests that need bona fide captures."""
    import io

    import numpy as np
    from PIL import Image

    from openliveness.simulate import build_head

    return build_head(np.asarray(Image.open(io.BytesIO(face_jpeg)).convert("RGB")), analyzer)
