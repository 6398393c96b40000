"""The facade the server uses: loads the models once, and analyses reference images and probe frames."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from openliveness.errors import InvalidImage

from .decode import REFERENCE_IMAGE_LIMITS, ImageLimits, decode_image
from .detector import Detector, DetectorConfig
from .embedder import Embedder
from .quality import (
    DEFAULT_THRESHOLDS,
    QualityForRecognition,
    QualityMeasures,
    QualityThresholds,
    measure_quality,
)
from .quality import assess_quality as _assess
from .types import DetectedFace, Embedding, FaceBox, FaceLandmarks, Point, RGBImage
from .verify import VerifyScore, verify
from .verify import is_identical as _is_identical

__all__ = [
    "NO_FACE_MESSAGE",
    "TOO_MANY_FACES_MESSAGE",
    "AnalyzerConfig",
    "FaceAnalyzer",
    "ProbeFace",
    "ReferenceFace",
]

# Azure's messages for a verify image with no face or more than one face (error code InvalidImage).
NO_FACE_MESSAGE = "No face detected in the image."
TOO_MANY_FACES_MESSAGE = "Multiple faces detected in the image. The image must contain only one face."


@dataclass(frozen=True, slots=True)
class AnalyzerConfig:
    """Settings of the facade. `intra_op_threads` is onnxruntime's thread count for the detector; dlib's
    network runs on one thread whatever this says."""

    detector: DetectorConfig = field(default_factory=DetectorConfig)
    quality: QualityThresholds = DEFAULT_THRESHOLDS
    reference_limits: ImageLimits = REFERENCE_IMAGE_LIMITS
    intra_op_threads: int = 1


@dataclass(frozen=True, slots=True)
class ReferenceFace:
    """The one face of a reference (verify) image: what the create response reports and the store keeps."""

    face_rectangle: FaceBox
    quality: QualityForRecognition
    embedding: Embedding
    measures: QualityMeasures
    detector_score: float


@dataclass(frozen=True, slots=True)
class ProbeFace:
    """The face of a liveness frame that is compared with the reference."""

    face: DetectedFace
    quality: QualityForRecognition
    embedding: Embedding
    measures: QualityMeasures


class FaceAnalyzer:
    """Detection, alignment, embedding, quality and verification behind one object.

    Thread-safe: share one instance between concurrent requests (run its methods in a worker thread: they are
    CPU-bound and take tens of milliseconds).
    """

    def __init__(self, detector: Detector, embedder: Embedder, config: AnalyzerConfig | None = None) -> None:
        self.detector = detector
        self.embedder = embedder
        self.config = config or AnalyzerConfig()

    @classmethod
    def load(cls, config: AnalyzerConfig | None = None, *, warm_up: bool = True) -> FaceAnalyzer:
        """Load the packaged models (a second or two) and run each once so the first request is not slow."""
        config = config or AnalyzerConfig()
        analyzer = cls(
            Detector.load(config.detector, intra_op_threads=config.intra_op_threads), Embedder.load(), config
        )
        if warm_up:
            analyzer.warm_up()
        return analyzer

    def warm_up(self) -> None:
        # A flat grey image has no face, so the embedder is warmed with a made-up detection.
        image = np.full((480, 640, 3), 128, dtype=np.uint8)
        self.detector.detect(image)
        dummy = DetectedFace(
            box=FaceBox(top=140, left=260, width=120, height=150),
            landmarks=_frontal_landmarks(260, 140, 120, 150),
            score=1.0,
        )
        self.embedder.embed(image, dummy)

    def detect(self, image: RGBImage) -> list[DetectedFace]:
        return self.detector.detect(image)

    def analyze_reference(self, data: bytes, *, limits: ImageLimits | None = None) -> ReferenceFace:
        """Decode a reference image and describe its single face.

        Raises `InvalidImageSize` (byte count), `InvalidImage` (undecodable, unsupported, too many pixels,
        no face, more than one face).
        """
        image = decode_image(data, limits or self.config.reference_limits)
        upright, faces, quarter_turns = self.detect_upright(image)
        if not faces:
            raise InvalidImage(NO_FACE_MESSAGE)
        if len(faces) > 1:
            raise InvalidImage(TOO_MANY_FACES_MESSAGE)
        face = faces[0]
        embedding, measures = self._describe(upright, face)
        return ReferenceFace(
            face_rectangle=_unrotate_box(face.box, quarter_turns, upright.shape[0], upright.shape[1]),
            quality=_assess(measures, self.config.quality),
            embedding=embedding,
            measures=measures,
            detector_score=face.score,
        )

    def detect_upright(self, image: RGBImage) -> tuple[RGBImage, list[DetectedFace], int]:
        """Detect faces, turning the image by quarter turns when its faces lie on their side or upside down
        (a photo whose EXIF orientation was lost). Returns the upright image, its faces and the number of
        counter-clockwise quarter turns (`numpy.rot90`'s k) that made it from `image`."""
        faces = self.detector.detect(image)
        if faces and _is_upright(faces[0]):
            return image, faces, 0
        for k in (1, 3, 2):
            turned = np.ascontiguousarray(np.rot90(image, k))
            turned_faces = self.detector.detect(turned)
            if turned_faces and _is_upright(turned_faces[0]):
                return turned, turned_faces, k
        return image, faces, 0

    def analyze_probe(self, image: RGBImage, face: DetectedFace | None = None) -> ProbeFace | None:
        """Describe the face of a decoded frame: `face` if the caller already detected it, else the largest
        face found. None when there is no face (counting faces is the liveness engine's integrity check)."""
        if face is None:
            faces = self.detector.detect(image)
            if not faces:
                return None
            face = max(faces, key=lambda f: (f.box.area, f.score))
        embedding, measures = self._describe(image, face)
        return ProbeFace(
            face=face, quality=_assess(measures, self.config.quality), embedding=embedding, measures=measures
        )

    def assess_quality(self, image: RGBImage, face: DetectedFace) -> QualityForRecognition:
        measures = measure_quality(face, self.embedder.align(image, face).chip)
        return _assess(measures, self.config.quality)

    @staticmethod
    def verify(reference_embedding: Embedding, probe_embedding: Embedding) -> VerifyScore:
        return verify(reference_embedding, probe_embedding)

    @staticmethod
    def is_identical(score: VerifyScore, threshold: float | None = None) -> bool:
        return _is_identical(score, threshold)

    def _describe(self, image: RGBImage, face: DetectedFace) -> tuple[Embedding, QualityMeasures]:
        aligned = self.embedder.align(image, face)
        return self.embedder.embed_aligned(aligned), measure_quality(face, aligned.chip)


def _is_upright(face: DetectedFace) -> bool:
    """Eye line within 45 degrees of horizontal, eyes above the mouth."""
    lm = face.landmarks
    dx, dy = lm.eye_right.x - lm.eye_left.x, lm.eye_right.y - lm.eye_left.y
    eyes_y = (lm.eye_left.y + lm.eye_right.y) / 2
    mouth_y = (lm.mouth_left.y + lm.mouth_right.y) / 2
    return dx > abs(dy) and mouth_y > eyes_y


def _unrotate_box(box: FaceBox, quarter_turns: int, height: int, width: int) -> FaceBox:
    """Map a box found in ``numpy.rot90(original, quarter_turns)`` (of size `height` x `width`) back to the
    original image. One counter-clockwise turn sends original (x, y) to (y, W - x), W the original width."""
    for _ in range(quarter_turns % 4):
        original_width = height  # the turned image's height is the original's width
        box = FaceBox(
            top=box.left,
            left=original_width - (box.top + box.height),
            width=box.height,
            height=box.width,
        )
        height, width = width, height
    return box


def _frontal_landmarks(left: int, top: int, width: int, height: int) -> FaceLandmarks:
    # Typical RetinaFace point positions as fractions of its box, for a frontal face.
    def at(fx: float, fy: float) -> Point:
        return Point(left + fx * width, top + fy * height)

    return FaceLandmarks(at(0.3, 0.4), at(0.7, 0.4), at(0.5, 0.6), at(0.35, 0.78), at(0.65, 0.78))
