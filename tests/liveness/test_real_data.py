"""Real spoof stills and the replay video from ../shared/data, sent as captures, are never realface."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from openliveness.domain import LivenessDecision
from openliveness.liveness import Capture, CaptureFrame
from openliveness.liveness.engine import LivenessEngine

from .synth import make_challenge

STILLS = [
    "spoof-stills/silent_face/image_F1.jpg",
    "spoof-stills/silent_face/image_F2.jpg",
    "spoof-stills/vietmoney/fake_001.jpg",
    "spoof-stills/vietmoney/fake_002.jpg",
    "spoof-stills/vietmoney/fake_003.jpg",
    "spoof-stills/hyperfas/fake_screen.png",
]


def _fit(image: np.ndarray) -> np.ndarray:
    pil = Image.fromarray(image).convert("RGB")
    pil.thumbnail((480, 480))
    return np.ascontiguousarray(np.asarray(pil))


def _as_capture(images: list[np.ndarray], seed: int) -> tuple[object, Capture]:
    """Frames at 12 fps over the challenge, each claiming the step the schedule shows (an honest-looking client);
    a tiny noise keeps repeated stills from being caught as duplicates, so the flash signals must do the work."""
    challenge = make_challenge(seed)
    rng = np.random.default_rng(seed)
    times = np.arange(0.0, challenge.total_ms, 1000.0 / 12)
    frames = []
    for k, t in enumerate(times):
        base = images[k % len(images)].astype(np.int16)
        noisy = np.clip(base + rng.integers(-2, 3, base.shape), 0, 255).astype(np.uint8)
        frames.append(CaptureFrame(image=noisy, timestamp_ms=float(t), step_index=challenge.step_at(t - 60)))
    return challenge, Capture(frames=tuple(frames))


@pytest.mark.parametrize("name", STILLS)
def test_spoof_stills_are_never_realface(engine: LivenessEngine, shared_data: Path, name: str) -> None:
    path = shared_data / name
    if not path.exists():
        pytest.skip(f"{name} absent")
    image = _fit(np.asarray(Image.open(path)))
    # The silent_face images lie on their side: try them upright too.
    for turned in (image, np.ascontiguousarray(np.rot90(image, 1)), np.ascontiguousarray(np.rot90(image, 3))):
        challenge, capture = _as_capture([turned], seed=21)
        result = engine.evaluate(challenge, capture)  # type: ignore[arg-type]
        assert result.decision is not LivenessDecision.REAL_FACE, (name, result)


def test_replay_video_is_never_realface(engine: LivenessEngine, shared_data: Path) -> None:
    cv2 = pytest.importorskip("cv2")
    path = shared_data / "videos/tranvanluyt2203/fake.mp4"
    if not path.exists():
        pytest.skip("replay video absent")
    video = cv2.VideoCapture(str(path))
    images = []
    while len(images) < 70:
        ok, frame = video.read()
        if not ok:
            break
        images.append(_fit(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)))
    video.release()
    if len(images) < 20:
        pytest.skip("could not decode the replay video")
    for seed in (31, 32):
        challenge, capture = _as_capture(images, seed)
        result = engine.evaluate(challenge, capture)  # type: ignore[arg-type]
        assert result.decision is not LivenessDecision.REAL_FACE, result
