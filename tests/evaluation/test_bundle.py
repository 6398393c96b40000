"""Bundle round trip (folder and zip) and malformed bundles refused with a message saying what is wrong."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from openliveness.domain import LivenessOperationMode
from openliveness.evaluation import (
    Bundle,
    BundleError,
    BundleLimits,
    FrameMeta,
    Label,
    find_bundles,
    read_bundle,
    write_bundle,
)
from openliveness.liveness import new_challenge


def jpeg(value: int) -> bytes:
    import io

    out = io.BytesIO()
    Image.fromarray(np.full((48, 64, 3), value, dtype=np.uint8)).save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture
def bundle() -> Bundle:
    challenge = new_challenge(LivenessOperationMode.PASSIVE)
    frames = tuple(FrameMeta(float(40 * i), challenge.step_at(40 * i)) for i in range(3))
    label = Label("replay", source="lab tablet #2", conditions={"room": "office"})
    return Bundle(name="b1", challenge=challenge, label=label, frames=frames, jpegs=(jpeg(10), jpeg(20), jpeg(30)))


@pytest.mark.parametrize("suffix", ["", ".zip"])
def test_round_trip(bundle: Bundle, tmp_path: Path, suffix: str) -> None:
    path = write_bundle(bundle, tmp_path / f"b1{suffix}")
    back = read_bundle(path)
    assert back == bundle
    capture = back.to_capture()
    assert len(capture.frames) == 3 and capture.frames[2].timestamp_ms == 80.0
    assert capture.frames[0].image.shape == (48, 64, 3)
    assert find_bundles(tmp_path) == [path]


def test_zip_of_a_folder_reads_too(bundle: Bundle, tmp_path: Path) -> None:
    folder = write_bundle(bundle, tmp_path / "src" / "b1")
    with zipfile.ZipFile(tmp_path / "b1.zip", "w") as zf:
        for f in folder.iterdir():
            zf.write(f, f"b1/{f.name}")
    assert read_bundle(tmp_path / "b1.zip").jpegs == bundle.jpegs


def break_file(path: Path, name: str, content: bytes | None) -> None:
    if content is None:
        (path / name).unlink()
    else:
        (path / name).write_bytes(content)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("label.json", b'{"label": "deepfake"}', "label 'deepfake' is not one of"),
        ("label.json", None, "label.json is missing"),
        ("label.json", b"{not json", "label.json is not valid JSON"),
        ("challenge.json", b'{"mode": "Passive"}', "challenge.json is not a valid challenge"),
        ("metadata.json", b'{"frames": []}', "lists no frames"),
        ("metadata.json", b'{"frames": [{"timestampMs": "x", "stepIndex": 0}]}', "needs a number timestampMs"),
        ("frame_001.jpg", None, "lists 3 frames but the bundle holds 2 frame files (missing frame_001.jpg)"),
        ("frame_003.jpg", b"x", "(unexpected frame_003.jpg)"),
    ],
)
def test_malformed_bundles_are_refused_clearly(
    bundle: Bundle, tmp_path: Path, name: str, content: bytes | None, message: str
) -> None:
    path = write_bundle(bundle, tmp_path / "b1")
    break_file(path, name, content)
    with pytest.raises(BundleError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_bundle(path)


def test_limits(bundle: Bundle, tmp_path: Path) -> None:
    path = write_bundle(bundle, tmp_path / "b1.zip")
    with pytest.raises(BundleError, match="3 frames, more than 2"):
        read_bundle(path, BundleLimits(max_frames=2))
    with pytest.raises(BundleError, match="more than 100 bytes"):
        read_bundle(path, BundleLimits(max_frame_bytes=100))
    (tmp_path / "bad.zip").write_bytes(b"not a zip")
    with pytest.raises(BundleError, match="not a readable zip"):
        read_bundle(tmp_path / "bad.zip")


def test_undecodable_frame_is_named(bundle: Bundle, tmp_path: Path) -> None:
    path = write_bundle(bundle, tmp_path / "b1")
    (path / "frame_002.jpg").write_bytes(b"\xff\xd8garbage")
    with pytest.raises(BundleError, match=r"frame_002\.jpg"):
        read_bundle(path).to_capture()


def test_label_json_shape(bundle: Bundle, tmp_path: Path) -> None:
    path = write_bundle(bundle, tmp_path / "b1")
    assert json.loads((path / "label.json").read_text()) == {
        "label": "replay",
        "source": "lab tablet #2",
        "conditions": {"room": "office"},
    }
