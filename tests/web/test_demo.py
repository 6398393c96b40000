"""The demo page and the SDK's component in real headless Chromium: load, states, camera denial, size."""

from __future__ import annotations

import asyncio
import threading
import time
from importlib import resources
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import LiveServer

STATE = "openliveness-check"


def _state(page: Any) -> str | None:
    value: str | None = page.get_attribute(STATE, "state")
    return value


def _shadow_text(page: Any, selector: str) -> str:
    text: str = page.evaluate(
        "([tag, sel]) => document.querySelector(tag).shadowRoot.querySelector(sel).textContent", [STATE, selector]
    )
    return text


def test_sdk_served_small_and_cacheable(live_server: LiveServer) -> None:
    response = httpx.get(f"{live_server.url}/sdk/openliveness.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert "max-age" in response.headers["cache-control"]
    size = len(response.content)
    print(f"\nSDK size: {size} bytes plain")
    assert size < 60 * 1024
    again = httpx.get(f"{live_server.url}/sdk/openliveness.js", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    packaged = resources.files("openliveness.web").joinpath("static", "openliveness.js").read_bytes()
    assert packaged == response.content


def test_demo_only_for_localhost(live_server: LiveServer) -> None:
    # The live server listens on loopback, so the refusal is checked through the dependency's own rule.
    assert httpx.get(f"{live_server.url}/demo").status_code == 200
    transport = httpx.ASGITransport(app=_app_for(live_server), client=("203.0.113.9", 5000))
    codes: list[int] = []

    async def go() -> None:
        async with httpx.AsyncClient(transport=transport, base_url="http://demo") as c:
            codes.append((await c.post("/demo/api/sessions", data={"kind": "detectLiveness"})).status_code)
            codes.append((await c.get("/demo")).status_code)
            codes.append((await c.get("/sdk/openliveness.js")).status_code)

    # On its own thread: Playwright's sync API may own this thread's event loop.
    worker = threading.Thread(target=lambda: asyncio.run(go()))
    worker.start()
    worker.join(30)
    assert codes == [404, 404, 200]
    # Through a reverse proxy on this host the socket is loopback, but the proxy's headers give it away.
    local = httpx.ASGITransport(app=_app_for(live_server), client=("127.0.0.1", 5000))
    proxied: list[int] = []

    async def through_proxy() -> None:
        async with httpx.AsyncClient(transport=local, base_url="http://demo") as c:
            for header in ("X-Real-IP", "X-Forwarded-For", "Forwarded"):
                proxied.append((await c.get("/demo", headers={header: "203.0.113.9"})).status_code)
            proxied.append((await c.get("/demo")).status_code)

    worker = threading.Thread(target=lambda: asyncio.run(through_proxy()))
    worker.start()
    worker.join(30)
    assert proxied == [404, 404, 404, 200]


def _app_for(live_server: LiveServer) -> Any:
    from openliveness.api import create_app

    app = create_app(live_server.settings)
    # Borrow nothing heavy: the dependency only reads settings before refusing.
    app.state.services = type("S", (), {"settings": live_server.settings})()
    return app


def test_demo_loads_and_reaches_camera_fast(browser: Any, live_server: LiveServer, shot_dir: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.url}/demo")
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(shot_dir / "1-demo-start.png"))
    started = time.perf_counter()
    page.click("#go")
    page.wait_for_selector("openliveness-check[state=preview]", state="attached")
    elapsed = time.perf_counter() - started
    print(f"\ntime from 'Start a check' to live camera preview: {elapsed * 1000:.0f} ms")
    assert elapsed < 1.0
    assert _shadow_text(page, ".ol-msg")
    live = page.evaluate(
        "document.querySelector('openliveness-check').shadowRoot.querySelector('.ol-msg').getAttribute('aria-live')"
    )
    assert live == "polite"
    page.wait_for_timeout(1500)  # a guidance answer or two, so the screenshot shows a server hint
    print(f"guidance shown: {_shadow_text(page, '.ol-msg')!r}")
    page.screenshot(path=str(shot_dir / "2-preview.png"))
    assert "brightness" in _shadow_text(page, ".ol-note")
    assert not errors, errors
    context.close()


def test_camera_denied_shows_clear_message(browser: Any, live_server: LiveServer, shot_dir: Path) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.add_init_script(
        "navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('denied', 'NotAllowedError'));"
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/demo")
    codes: list[str] = []
    page.expose_function("reportError", lambda code: codes.append(code))
    page.evaluate("document.addEventListener('error', (e) => e.detail && window.reportError(e.detail.code), true)")
    page.click("#go")
    page.wait_for_selector("openliveness-check[state=error]", state="attached")
    message = _shadow_text(page, ".ol-msg")
    assert "Camera access was blocked" in message
    assert (
        page.evaluate("document.querySelector('openliveness-check').shadowRoot.querySelector('.ol-msg').dataset.kind")
        == "error"
    )
    page.screenshot(path=str(shot_dir / "3-camera-denied.png"))
    page.wait_for_timeout(100)
    assert codes == ["camera_denied"]
    context.close()


def test_german_texts(browser: Any, live_server: LiveServer) -> None:
    context = browser.new_context()
    context.add_init_script(
        "navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('none', 'NotFoundError'));"
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/demo")
    page.select_option("#lang", "de")
    page.click("#go")
    page.wait_for_selector("openliveness-check[state=error]", state="attached")
    assert "keine Kamera" in _shadow_text(page, ".ol-msg")
    context.close()


def test_rate_limited_attempt_shows_clear_message(browser: Any, tmp_path: Path) -> None:
    from openliveness.settings import Settings
    from tests.conftest import TEST_SECRET, ServerThread

    settings = Settings(data_dir=tmp_path / "data", token_secret=TEST_SECRET, limit_attempts_per_ip=1)
    with ServerThread(settings) as url:
        # This address uses up its one attempt first.
        token = httpx.post(f"{url}/demo/api/sessions", data={"kind": "detectLiveness"}).json()["authToken"]
        first = httpx.post(
            f"{url}/face/v1.2-preview.1/detectLiveness/singleModal/attempts",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert first.status_code == 200
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"{url}/demo")
        details: list[Any] = []
        page.expose_function("reportError", lambda detail: details.append(detail))
        page.evaluate("document.addEventListener('error', (e) => e.detail && window.reportError(e.detail), true)")
        page.click("#go")
        page.wait_for_selector("openliveness-check[state=preview]", state="attached")
        page.click("openliveness-check .ol-btn")
        page.wait_for_selector("openliveness-check[state=error]", state="attached", timeout=15000)
        assert "Too many tries" in _shadow_text(page, ".ol-msg")
        page.wait_for_timeout(100)
        assert details and details[0]["code"] == "rate_limited"
        assert details[0]["detail"]["retryAfterSeconds"] >= 1
        context.close()
