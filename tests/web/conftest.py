"""Browser fixtures: Debian's Chromium driven by Playwright, skipped cleanly where either is missing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import LiveServer

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps trying to reach Google's hosts on a closed network.
BASE_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="package")
def playwright_driver(live_server: LiveServer) -> Iterator[Any]:
    # Depends on the live server so it starts first: Playwright's sync API runs an event loop in this thread,
    # and the server fixture's set-up needs asyncio.run. Scoped to this package for the same reason: the loop
    # stops when the browser tests are done, so asyncio tests collected after them (any order) can run theirs.
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="needs playwright (pip install playwright)")
    with sync_api.sync_playwright() as p:
        yield p


def launch(driver: Any, *extra: str) -> Any:
    return driver.chromium.launch(executable_path=str(CHROMIUM), args=[*BASE_ARGS, *extra])


@pytest.fixture(scope="package")
def browser(playwright_driver: Any) -> Iterator[Any]:
    """Chromium with a synthetic camera, its permission prompt answered 'allow'."""
    b = launch(playwright_driver, "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream")
    yield b
    b.close()


@pytest.fixture(scope="session")
def shot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: $OPENLIVENESS_SCREENSHOT_DIR, else a temp dir (printed)."""
    wanted = os.environ.get("OPENLIVENESS_SCREENSHOT_DIR")
    path = Path(wanted) if wanted else tmp_path_factory.mktemp("screens")
    path.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {path}")
    return path
