"""The sample app server in examples/ works against a real OpenLiveness server: it creates the session with its
API key, hands the token to its page, proxies the SDK and the client calls, and reads the result server-side."""

from __future__ import annotations

import importlib.util
import re
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from tests.conftest import LiveServer, free_port

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "app_server" / "app.py"


@pytest.fixture
def example(live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[httpx.Client]:
    """The example served by uvicorn on its own thread (this module's tests are sync: the browser tests beside
    them keep an event loop running on the main thread)."""
    monkeypatch.setenv("OPENLIVENESS_ENDPOINT", live_server.url)
    monkeypatch.setenv("OPENLIVENESS_KEY", live_server.api_key)
    spec = importlib.util.spec_from_file_location("example_app_server", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "example_app_server", module)
    spec.loader.exec_module(module)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(module.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        yield client
    server.should_exit = True
    thread.join(timeout=10)


def test_example_creates_a_session_and_reads_its_result(example: httpx.Client, live_server: LiveServer) -> None:
    page = example.get("/")
    assert page.status_code == 200 and "<openliveness-check" in page.text
    token = re.search(r'token="([^"]+)"', page.text)
    session_id = re.search(r"/result/([0-9a-f-]{36})", page.text)
    assert token and session_id
    # The token in the page works for the client calls (through the example's proxy) and nothing else.
    attempt = example.post(
        "/face/v1.2-preview.1/detectLiveness/singleModal/attempts", headers={"Authorization": f"Bearer {token[1]}"}
    )
    assert attempt.status_code == 200 and attempt.json()["challenge"]["steps"]
    sessions_url = f"{live_server.url}/face/v1.2-preview.1/detectLiveness/singleModal/sessions"
    denied = httpx.get(sessions_url, headers={"Ocp-Apim-Subscription-Key": token[1]})
    assert denied.status_code == 401
    result = example.get(f"/result/{session_id[1]}")
    assert result.status_code == 200 and result.json() == {"status": "Started", "decision": None}
    sdk = example.get("/sdk/openliveness.js")
    assert sdk.status_code == 200 and "customElements" in sdk.text
