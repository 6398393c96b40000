"""Whole checks through the SDK in real Chromium: a test camera showing the simulator's head lit by the colour
actually on screen (bona fide), and Chromium's fake camera replaying a recorded face video (a replay)."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from openliveness.liveness.challenge import PALETTE
from openliveness.simulate import build_head
from openliveness.simulate.stills import render_stills
from openliveness.vision import FaceAnalyzer
from tests.conftest import LiveServer
from tests.web.conftest import launch

# The test camera: getUserMedia answers with a canvas stream. Each frame shows the still for the colour the
# page's overlay shows at that moment (white outside the challenge), plus a little sensor noise.
_CAMERA = """
(() => {
  const stills = __STILLS__;
  const images = {};
  for (const [key, url] of Object.entries(stills)) { const img = new Image(); img.src = url; images[key] = img; }
  const palette = Object.keys(stills).map((k) => k.split(",").map(Number));
  function current() {
    const host = document.querySelector("openliveness-check");
    const overlay = host && host.shadowRoot && host.shadowRoot.querySelector(".ol-overlay");
    if (!overlay || overlay.dataset.on !== "true") return "255,255,255";
    const rgb = getComputedStyle(overlay).backgroundColor.match(/\\d+/g).slice(0, 3).map(Number);
    let best = palette[0], dist = Infinity;
    for (const p of palette) {
      const d = (p[0] - rgb[0]) ** 2 + (p[1] - rgb[1]) ** 2 + (p[2] - rgb[2]) ** 2;
      if (d < dist) { dist = d; best = p; }
    }
    return best.join(",");
  }
  navigator.mediaDevices.getUserMedia = async () => {
    const canvas = document.createElement("canvas");
    canvas.width = 480; canvas.height = 360;
    const ctx = canvas.getContext("2d", { willReadFrequently: true });
    const draw = () => {
      const img = images[current()];
      if (img.complete) {
        ctx.drawImage(img, 0, 0);
        const frame = ctx.getImageData(0, 0, 480, 360);
        const d = frame.data;
        for (let i = 0; i < d.length; i += 4) {
          const n = (Math.random() - 0.5) * 4;
          d[i] += n; d[i + 1] += n; d[i + 2] += n;
        }
        ctx.putImageData(frame, 0, 0);
      }
      requestAnimationFrame(draw);
    };
    draw();
    return canvas.captureStream(30);
  };
})();
"""


def _data_url(image: np.ndarray[Any, Any]) -> str:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=92)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def _run_check(
    page: Any, live_server: LiveServer, timeout_ms: float = 30_000, *, reference: Path | None = None
) -> dict[str, Any]:
    """Start a demo check (with a reference photo: liveness + match), let the challenge run, and return what the
    demo's app-server endpoint reports."""
    kind = "detectLiveness" if reference is None else "detectLivenessWithVerify"
    page.goto(f"{live_server.url}/demo")
    if reference is not None:
        page.check(f"input[name=kind][value={kind}]")
        page.set_input_files("#photo", str(reference))
    page.click("#go")
    page.wait_for_selector("openliveness-check[state=preview]", state="attached")
    page.evaluate("document.querySelector('openliveness-check').shadowRoot.querySelector('.ol-btn').click()")
    page.wait_for_selector("openliveness-check[state=done]", state="attached", timeout=timeout_ms)
    page.wait_for_selector("#decision:not([data-d=pending])", timeout=10_000)
    session = page.evaluate("document.querySelector('#meta').textContent")
    session_id = session.rsplit(" ", 1)[-1]
    body: dict[str, Any] = page.evaluate(
        "async ([kind, id]) => (await fetch(`/demo/api/sessions/${kind}/${id}`)).json()", [kind, session_id]
    )
    return body


@pytest.fixture(scope="module")
def stills(face_jpeg: bytes, analyzer: FaceAnalyzer) -> dict[str, str]:
    head = build_head(np.asarray(Image.open(io.BytesIO(face_jpeg)).convert("RGB")), analyzer)
    images = render_stills(head, PALETTE, width=480, height=360)
    return {",".join(map(str, color)): _data_url(image) for color, image in images.items()}


def test_bona_fide_test_camera_reaches_realface(
    browser: Any, live_server: LiveServer, stills: dict[str, str], shot_dir: Path
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.add_init_script(_CAMERA.replace("__STILLS__", json.dumps(stills)))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    body = _run_check(page, live_server)
    page.screenshot(path=str(shot_dir / "4-result-realface.png"), full_page=True)
    print(f"\nbona fide via test camera: {body['decision']} signals={body['signals']} reasons={body['reasons']}")
    assert not errors, errors
    assert body["decision"] == "realface", body
    context.close()


def test_demo_match_against_a_reference_photo(
    browser: Any, live_server: LiveServer, stills: dict[str, str], shot_dir: Path, face_jpeg: bytes, tmp_path: Path
) -> None:
    reference = tmp_path / "reference.jpg"
    reference.write_bytes(face_jpeg)
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.add_init_script(_CAMERA.replace("__STILLS__", json.dumps(stills)))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    body = _run_check(page, live_server, reference=reference)
    page.screenshot(path=str(shot_dir / "6-result-match.png"), full_page=True)
    print(f"\nwith verify: {body}")
    assert not errors, errors
    assert body["decision"] == "realface", body
    assert body["verifyResult"]["isIdentical"] is True, body
    context.close()


def _y4m(video: Path, out: Path, seconds: float = 4.0) -> Path:
    """The first seconds of `video` as a 640x480 Y4M file, the format Chromium's fake camera replays."""
    import cv2

    capture = cv2.VideoCapture(str(video))
    fps = capture.get(cv2.CAP_PROP_FPS) or 30.0
    with out.open("wb") as f:
        f.write(f"YUV4MPEG2 W640 H480 F{round(fps)}:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(int(seconds * fps)):
            ok, frame = capture.read()
            if not ok:
                break
            h, w = frame.shape[:2]
            # Centre crop to 4:3, then scale: the fake device wants exactly the declared size.
            cw = min(w, h * 4 // 3)
            ch = cw * 3 // 4
            x, y = (w - cw) // 2, (h - ch) // 2
            frame = cv2.resize(frame[y : y + ch, x : x + cw], (640, 480), interpolation=cv2.INTER_AREA)
            f.write(b"FRAME\n" + cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())
    capture.release()
    return out


def test_replayed_video_never_realface(
    playwright_driver: Any, live_server: LiveServer, shared_data: Path, tmp_path: Path, shot_dir: Path
) -> None:
    source = shared_data / "videos" / "tranvanluyt2203" / "real.mp4"
    if not source.exists():
        pytest.skip(f"{source} absent")
    y4m = _y4m(source, tmp_path / "face.y4m")
    browser = launch(
        playwright_driver,
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={y4m}",
    )
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        body = _run_check(page, live_server)
        page.screenshot(path=str(shot_dir / "5-result-replay.png"), full_page=True)
        print(f"\nreplayed video: {body['decision']} reasons={body['reasons']}")
        assert body["decision"] in ("spoofface", "uncertain"), body
    finally:
        browser.close()
