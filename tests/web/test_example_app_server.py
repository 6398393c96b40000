"""The sample app server in examples/ works against a real OpenLiveness server: it creates the session with its
API key, hands the token to its page, proxies the SDK and the client calls, and reads the result server-side."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import LiveServer

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "app_server" / "app.py"


@pytest.fixture
def example(live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> httpx.AsyncClient:
    monkeypatch.setenv("OPENLIVENESS_ENDPOINT", live_server.url)
    monkeypatch.setenv("OPENLIVENESS_KEY", live_server.api_key)
    spec = importlib.util.spec_from_file_location("example_app_server", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "example_app_server", module)
    spec.loader.exec_module(module)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=module.app), base_url="http://example")


async def test_example_creates_a_session_and_reads_its_result(
    example: httpx.AsyncClient, live_server: LiveServer
) -> None:
    page = await example.get("/")
    assert page.status_code == 200 and "<openliveness-check" in page.text
    token = re.search(r'token="([^"]+)"', page.text)
    session_id = re.search(r"/result/([0-9a-f-]{36})", page.text)
    assert token and session_id
    # The token in the page works for the client calls (through the example's proxy) and nothing else.
    attempt = await example.post(
        "/face/v1.2-preview.1/detectLiveness/singleModal/attempts", headers={"Authorization": f"Bearer {token[1]}"}
    )
    assert attempt.status_code == 200 and attempt.json()["challenge"]["steps"]
    sessions_url = f"{live_server.url}/face/v1.2-preview.1/detectLiveness/singleModal/sessions"
    async with httpx.AsyncClient() as direct:
        denied = await direct.get(sessions_url, headers={"Ocp-Apim-Subscription-Key": token[1]})
    assert denied.status_code == 401
    result = await example.get(f"/result/{session_id[1]}")
    assert result.status_code == 200 and result.json() == {"status": "Started", "decision": None}
    sdk = await example.get("/sdk/openliveness.js")
    assert sdk.status_code == 200 and "customElements" in sdk.text
