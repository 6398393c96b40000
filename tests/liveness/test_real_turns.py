"""Motion parallax on a real person's head turns (../shared/data/videos/tranvanluyt2203/real.mp4), and on the same
face moved as a sheet: the only real footage of a turning head the project has, so the one check of the motion
signal that does not rest on the simulator's head model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from openliveness.liveness.challenge import MOTION_MS
from openliveness.liveness.config import ParallaxConfig
from openliveness.liveness.signals import Verdict
from openliveness.liveness.signals.parallax import tracked_parallax
from openliveness.liveness.types import MotionPrompt
from openliveness.vision import FaceAnalyzer

cv2 = pytest.importorskip("cv2")

Image = npt.NDArray[np.uint8]
FPS = 12  # the protocol's targetFps
# A motion phase's frames from the reference on (the phase less the settle before the reference).
SPAN_S = (MOTION_MS - ParallaxConfig().reference_settle_ms) / 1000.0
# Seconds into the video where the person, facing the camera, starts a turn; the side the nose ends up on.
# At 2.8 s the nose points to image +x (the user's left on an unmirrored camera), at 8.2 s to image -x.
TURNS = [(1.4, MotionPrompt.TURN_LEFT), (6.8, MotionPrompt.TURN_RIGHT)]
OTHER = {MotionPrompt.TURN_LEFT: MotionPrompt.TURN_RIGHT, MotionPrompt.TURN_RIGHT: MotionPrompt.TURN_LEFT}
# Full size (about 110 px between the eyes) and scaled as a small face in a capture (about 40 px).
SCALES = [1.0, 0.35]


@pytest.fixture(scope="module")
def video(shared_data: Path) -> tuple[list[Image], float]:
    path = shared_data / "videos/tranvanluyt2203/real.mp4"
    if not path.exists():
        pytest.skip("real video absent")
    capture = cv2.VideoCapture(str(path))
    frames: list[Image] = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    fps = float(capture.get(cv2.CAP_PROP_FPS))
    capture.release()
    if len(frames) < 300 or fps <= 0:
        pytest.skip("could not decode the real video")
    return frames, fps


def _as_uploaded(image: Image, scale: float) -> Image:
    """Scaled, then through JPEG at the protocol's quality, as a client would send it."""
    if scale != 1.0:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ok, data = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
    assert ok
    return np.ascontiguousarray(cv2.cvtColor(cv2.imdecode(data, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB))


def _times() -> list[float]:
    return [float(t) for t in np.arange(0.0, SPAN_S * 1000.0, 1000.0 / FPS)]


def _segment(video: tuple[list[Image], float], start_s: float, scale: float) -> list[Image]:
    """The video's frames from `start_s`, resampled at the protocol's frame rate."""
    frames, fps = video
    return [_as_uploaded(frames[round((start_s + t / 1000.0) * fps)], scale) for t in _times()]


def _sheet_turn(image: Image, degrees: float) -> list[Image]:
    """`image` as a flat sheet turning about its vertical centre line by up to `degrees` (eased, as a person
    turns), seen by a camera whose focal length is the frame's larger side, with a hand's small shifts."""
    height, width = image.shape[:2]
    focal = float(max(height, width))
    rng = np.random.default_rng(7)
    to_centre = np.array([[1.0, 0.0, -width / 2], [0.0, 1.0, -height / 2], [0.0, 0.0, 1.0]])
    out = []
    for k in range(len(_times())):
        angle = np.radians(degrees) * (0.5 - 0.5 * np.cos(np.pi * np.clip((k - 2) / 10, 0.0, 1.0)))
        turn = np.array([[np.cos(angle), 0.0, 0.0], [0.0, 1.0, 0.0], [np.sin(angle) / focal, 0.0, 1.0]])
        shift_x, shift_y = rng.normal(0.0, 1.0, 2)
        back = np.array([[1.0, 0.0, width / 2 + shift_x], [0.0, 1.0, height / 2 + shift_y], [0.0, 0.0, 1.0]])
        warped = cv2.warpPerspective(image, back @ turn @ to_centre, (width, height), borderMode=cv2.BORDER_REPLICATE)
        out.append(_as_uploaded(warped, 1.0))
    return out


def _landmarks(analyzer: FaceAnalyzer, image: Image) -> npt.NDArray[np.float64]:
    faces = analyzer.detect(image)
    assert faces, "no face on the reference frame"
    return faces[0].landmarks.as_array()


@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize(("start_s", "prompt"), TURNS)
def test_a_real_head_turn_passes_parallax_for_the_side_it_turned_to(
    analyzer: FaceAnalyzer, video: tuple[list[Image], float], start_s: float, prompt: MotionPrompt, scale: float
) -> None:
    config = ParallaxConfig()
    images = _segment(video, start_s, scale)
    landmarks = _landmarks(analyzer, images[0])
    turned = tracked_parallax(images, landmarks, prompt, config, times_ms=_times())
    assert turned.verdict is Verdict.PASS, turned
    assert turned.measures["deviation"] >= config.pass_deviation
    # Asked for the other side, the same turn does not answer the prompt.
    other = tracked_parallax(images, landmarks, OTHER[prompt], config, times_ms=_times())
    assert other.verdict is not Verdict.PASS
    assert "motion_wrong_direction" in other.reasons


@pytest.mark.parametrize("degrees", [30.0, -30.0])
@pytest.mark.parametrize("scale", SCALES)
@pytest.mark.parametrize(("start_s", "prompt"), TURNS)
def test_the_same_real_face_turned_as_a_sheet_is_planar(
    analyzer: FaceAnalyzer,
    video: tuple[list[Image], float],
    start_s: float,
    prompt: MotionPrompt,
    scale: float,
    degrees: float,
) -> None:
    """The turn's first frame printed and turned either way: real skin texture, tracked like the head above, but
    its nose stays on the plane of its eyes and mouth."""
    config = ParallaxConfig()
    images = _sheet_turn(_segment(video, start_s, scale)[0], degrees)
    landmarks = _landmarks(analyzer, images[0])
    for asked in (prompt, OTHER[prompt]):
        result = tracked_parallax(images, landmarks, asked, config, times_ms=_times())
        assert result.verdict is Verdict.FAIL, (asked, result)
        assert result.reasons == ("parallax_planar",)
        assert result.measures["deviation"] < config.fail_deviation
