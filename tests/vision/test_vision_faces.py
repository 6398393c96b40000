"""Detection, alignment, embeddings, quality and verification on real photographs with the real models."""

from __future__ import annotations

import io
import itertools
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

import openliveness.vision as vision
from openliveness.errors import InvalidImage, InvalidImageSize
from openliveness.vision import (
    DEFAULT_VERIFY_CONFIDENCE_THRESHOLD,
    EMBEDDING_SIZE,
    FaceAnalyzer,
    QualityForRecognition,
    RGBImage,
    confidence_to_distance,
    distance_to_confidence,
    embedding_from_bytes,
    embedding_to_bytes,
    is_identical,
    verify,
)

ORIENTATION = 0x0112
# EXIF orientation value that a camera writes when the pixels need this many counter-clockwise quarter turns.
EXIF_FOR_TURNS = {1: 6, 2: 3, 3: 8}


def encode(image: RGBImage, fmt: str = "PNG", **params: object) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format=fmt, **params)
    return buf.getvalue()


def test_public_api_is_declared():
    assert sorted(vision.__all__) == sorted(set(vision.__all__))
    for name in vision.__all__:
        assert hasattr(vision, name), name


def test_import_loads_no_model():
    code = "import sys, openliveness.vision; print(sorted({'onnxruntime', 'dlib', 'cv2'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_detects_one_face_with_sane_landmarks(analyzer: FaceAnalyzer, astronaut: RGBImage, grace_hopper: RGBImage):
    for image in (astronaut, grace_hopper):
        faces = analyzer.detect(image)
        assert len(faces) == 1
        face = faces[0]
        assert face.score > 0.9
        b = face.box
        assert 60 < b.width < 300 and 60 < b.height < 300
        for p in face.landmarks.as_array():
            assert b.left <= p[0] <= b.left + b.width and b.top <= p[1] <= b.top + b.height
        lm = face.landmarks
        assert lm.eye_left.x < lm.eye_right.x
        assert max(lm.eye_left.y, lm.eye_right.y) < lm.nose.y < min(lm.mouth_left.y, lm.mouth_right.y)


def test_no_face_in_a_flat_or_noise_image(analyzer: FaceAnalyzer):
    rng = np.random.default_rng(0)
    assert analyzer.detect(np.full((480, 640, 3), 128, np.uint8)) == []
    assert analyzer.detect(rng.integers(0, 256, (480, 640, 3), dtype=np.uint8)) == []


def test_box_follows_the_image_scale(analyzer: FaceAnalyzer, grace_hopper: RGBImage):
    full = analyzer.detect(grace_hopper)[0].box
    half_image = np.asarray(Image.fromarray(grace_hopper).resize((256, 300), Image.Resampling.LANCZOS))
    half = analyzer.detect(half_image)[0].box
    assert abs(half.width * 2 - full.width) <= 0.1 * full.width
    assert abs(half.left * 2 - full.left) <= 0.1 * full.width


def test_detector_rejects_wrong_arrays(analyzer: FaceAnalyzer):
    with pytest.raises(ValueError):
        analyzer.detect(np.zeros((100, 100), np.uint8))
    with pytest.raises(ValueError):
        analyzer.detect(np.zeros((100, 100, 3), np.float32))  # type: ignore[arg-type]


def test_reference_analysis(analyzer: FaceAnalyzer, grace_hopper_jpeg: bytes):
    ref = analyzer.analyze_reference(grace_hopper_jpeg)
    assert ref.embedding.dtype == np.float32 and ref.embedding.shape == (EMBEDDING_SIZE,)
    assert 0.5 < float(np.linalg.norm(ref.embedding)) < 3.0
    assert ref.quality is QualityForRecognition.HIGH
    assert ref.face_rectangle.width > 100


def test_reference_without_a_face_is_refused(analyzer: FaceAnalyzer):
    rng = np.random.default_rng(1)
    with pytest.raises(InvalidImage, match="No face"):
        analyzer.analyze_reference(encode(rng.integers(0, 256, (300, 300, 3), dtype=np.uint8)))
    with pytest.raises(InvalidImageSize):
        analyzer.analyze_reference(b"")


def test_reference_with_two_faces_is_refused(analyzer: FaceAnalyzer, astronaut: RGBImage, grace_hopper: RGBImage):
    side_by_side = np.zeros((600, 1024, 3), np.uint8)
    side_by_side[:512, :512] = astronaut
    side_by_side[:600, 512:] = grace_hopper
    assert len(analyzer.detect(side_by_side)) == 2
    with pytest.raises(InvalidImage, match="Multiple faces"):
        analyzer.analyze_reference(encode(side_by_side, "JPEG", quality=90))


def _variants(image: RGBImage) -> dict[str, bytes]:
    """The same photo as a user might upload it: re-encoded, rescaled, turned by EXIF or in its pixels."""
    h, w = image.shape[:2]
    out = {
        "jpeg-q35": encode(image, "JPEG", quality=35),
        "png": encode(image),
        "webp": encode(image, "WEBP", quality=60),
        "half-size": encode(np.asarray(Image.fromarray(image).resize((w // 2, h // 2))), "JPEG", quality=85),
        "1.5x": encode(np.asarray(Image.fromarray(image).resize((w * 3 // 2, h * 3 // 2))), "JPEG", quality=85),
        "sharpened": encode(np.asarray(Image.fromarray(image).filter(ImageFilter.SHARPEN)), "JPEG"),
    }
    for turns, orientation in EXIF_FOR_TURNS.items():
        # EXIF: the stored pixels are turned the other way and the tag says how to put them back.
        exif = Image.Exif()
        exif[ORIENTATION] = orientation
        stored = np.ascontiguousarray(np.rot90(image, -turns))
        out[f"exif-{90 * turns}"] = encode(stored, "JPEG", quality=90, exif=exif.tobytes())
        out[f"pixels-{90 * turns}"] = encode(np.ascontiguousarray(np.rot90(image, turns)), "JPEG", quality=90)
    return out


@pytest.mark.parametrize("photo", ["astronaut", "grace_hopper"])
def test_copies_of_one_face_verify_as_identical(analyzer: FaceAnalyzer, photo: str, request: pytest.FixtureRequest):
    image: RGBImage = request.getfixturevalue(photo)
    reference = analyzer.analyze_reference(encode(image, "JPEG", quality=95))
    for name, data in _variants(image).items():
        copy = analyzer.analyze_reference(data)
        score = verify(reference.embedding, copy.embedding)
        assert is_identical(score), f"{photo} {name}: distance {score.distance:.3f}"


def test_different_people_do_not_verify(analyzer: FaceAnalyzer, astronaut: RGBImage, grace_hopper_jpeg: bytes):
    a = analyzer.analyze_reference(encode(astronaut, "JPEG", quality=90))
    b = analyzer.analyze_reference(grace_hopper_jpeg)
    score = verify(a.embedding, b.embedding)
    assert score.distance > 0.6
    assert not is_identical(score)
    assert score.match_confidence < 0.5


def test_probe_analysis_picks_the_largest_face(analyzer: FaceAnalyzer, astronaut: RGBImage, grace_hopper: RGBImage):
    canvas = np.zeros((600, 1024, 3), np.uint8)
    canvas[:512, :512] = astronaut
    canvas[:600, 512:] = grace_hopper
    probe = analyzer.analyze_probe(canvas)
    assert probe is not None
    assert probe.face.box.left >= 512  # Grace Hopper's face is the larger one
    assert analyzer.analyze_probe(np.full((200, 200, 3), 90, np.uint8)) is None


def test_quality_drops_with_blur_darkness_and_size(analyzer: FaceAnalyzer, grace_hopper: RGBImage):
    face = analyzer.detect(grace_hopper)[0]
    assert analyzer.assess_quality(grace_hopper, face) is QualityForRecognition.HIGH
    blurred = np.asarray(Image.fromarray(grace_hopper).filter(ImageFilter.GaussianBlur(4)))
    assert analyzer.assess_quality(blurred, analyzer.detect(blurred)[0]) is QualityForRecognition.LOW
    dark = (grace_hopper // 6).astype(np.uint8)
    assert analyzer.assess_quality(dark, analyzer.detect(dark)[0]) is QualityForRecognition.LOW
    small = np.asarray(Image.fromarray(grace_hopper).resize((128, 150), Image.Resampling.LANCZOS))
    small_faces = analyzer.detect(small)
    assert small_faces and analyzer.assess_quality(small, small_faces[0]) is not QualityForRecognition.HIGH


def test_confidence_mapping_is_monotone_and_calibrated_at_dlibs_operating_point():
    distances = np.linspace(0.0, 1.5, 200)
    confidences = [distance_to_confidence(float(d)) for d in distances]
    assert all(0.0 <= c <= 1.0 for c in confidences)
    assert all(a >= b for a, b in itertools.pairwise(confidences))
    assert distance_to_confidence(0.6) == pytest.approx(0.5)
    assert distance_to_confidence(0.56) == pytest.approx(0.9)
    assert distance_to_confidence(0.64) == pytest.approx(0.1)
    assert distance_to_confidence(50.0) == 0.0
    assert confidence_to_distance(DEFAULT_VERIFY_CONFIDENCE_THRESHOLD) == pytest.approx(0.55, abs=0.001)


def test_embedding_bytes_round_trip(analyzer: FaceAnalyzer, grace_hopper_jpeg: bytes):
    embedding = analyzer.analyze_reference(grace_hopper_jpeg).embedding
    data = embedding_to_bytes(embedding)
    assert len(data) == 4 + 4 * EMBEDDING_SIZE
    assert np.array_equal(embedding_from_bytes(data), embedding)
    for bad in (b"", data[:-1], b"XXXX" + data[4:]):
        with pytest.raises(ValueError):
            embedding_from_bytes(bad)
    with pytest.raises(ValueError):
        embedding_to_bytes(np.full(EMBEDDING_SIZE, np.nan, np.float32))


def test_concurrent_calls_give_the_same_results(analyzer: FaceAnalyzer, grace_hopper_jpeg: bytes):
    expected = analyzer.analyze_reference(grace_hopper_jpeg).embedding
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda _: analyzer.analyze_reference(grace_hopper_jpeg).embedding, range(8)))
    for result in results:
        assert np.array_equal(result, expected)


# ---- ../shared/data (skipped where absent) ----


def test_group_photo_is_refused_as_reference(analyzer: FaceAnalyzer, shared_data: Path):
    data = (shared_data / "verification" / "insightface" / "t1.jpg").read_bytes()
    from openliveness.vision import decode_image

    assert len(analyzer.detect(decode_image(data))) >= 4
    with pytest.raises(InvalidImage, match="Multiple faces"):
        analyzer.analyze_reference(data)


def test_same_and_different_people_in_shared_data(analyzer: FaceAnalyzer, shared_data: Path):
    folder = shared_data / "verification" / "face_recognition"
    obama = [analyzer.analyze_reference((folder / n).read_bytes()) for n in ("obama.jpg", "obama2.jpg", "obama3.jpg")]
    biden = analyzer.analyze_reference((folder / "biden.jpg").read_bytes())
    for i in range(3):
        for j in range(i + 1, 3):
            assert is_identical(verify(obama[i].embedding, obama[j].embedding))
        assert not is_identical(verify(obama[i].embedding, biden.embedding))


def test_copies_of_a_shared_photo_verify_as_identical(analyzer: FaceAnalyzer, shared_data: Path):
    from openliveness.vision import decode_image

    image = decode_image((shared_data / "verification" / "face_recognition" / "obama.jpg").read_bytes())
    reference = analyzer.analyze_reference(encode(image, "JPEG", quality=95))
    for name, data in _variants(image).items():
        score = verify(reference.embedding, analyzer.analyze_reference(data).embedding)
        assert is_identical(score), f"{name}: distance {score.distance:.3f}"
