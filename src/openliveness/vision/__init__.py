"""Face analysis: safe decoding, detection with landmarks, alignment, embeddings, quality and verification.

Importing this package loads no model: `FaceAnalyzer.load()` (or `Detector.load()` / `Embedder.load()`) does.
"""

from .analyzer import (
    NO_FACE_MESSAGE,
    TOO_MANY_FACES_MESSAGE,
    AnalyzerConfig,
    FaceAnalyzer,
    ProbeFace,
    ReferenceFace,
)
from .decode import FRAME_LIMITS, REFERENCE_IMAGE_LIMITS, SUPPORTED_FORMATS, ImageLimits, decode_image, jpeg_quality
from .detector import Detector, DetectorConfig
from .embedder import ALIGNED_FACE_SIZE, AlignedFace, Embedder
from .quality import (
    QualityForRecognition,
    QualityMeasures,
    QualityThresholds,
    assess_quality,
    measure_quality,
)
from .types import EMBEDDING_SIZE, DetectedFace, Embedding, FaceBox, FaceLandmarks, Point, RGBImage
from .verify import (
    DEFAULT_VERIFY_CONFIDENCE_THRESHOLD,
    VerifyScore,
    confidence_to_distance,
    distance_to_confidence,
    embedding_distance,
    embedding_from_bytes,
    embedding_to_bytes,
    is_identical,
    verify,
)

__all__ = [
    "ALIGNED_FACE_SIZE",
    "DEFAULT_VERIFY_CONFIDENCE_THRESHOLD",
    "EMBEDDING_SIZE",
    "FRAME_LIMITS",
    "NO_FACE_MESSAGE",
    "REFERENCE_IMAGE_LIMITS",
    "SUPPORTED_FORMATS",
    "TOO_MANY_FACES_MESSAGE",
    "AlignedFace",
    "AnalyzerConfig",
    "DetectedFace",
    "Detector",
    "DetectorConfig",
    "Embedder",
    "Embedding",
    "FaceAnalyzer",
    "FaceBox",
    "FaceLandmarks",
    "ImageLimits",
    "Point",
    "ProbeFace",
    "QualityForRecognition",
    "QualityMeasures",
    "QualityThresholds",
    "RGBImage",
    "ReferenceFace",
    "VerifyScore",
    "assess_quality",
    "confidence_to_distance",
    "decode_image",
    "distance_to_confidence",
    "embedding_distance",
    "embedding_from_bytes",
    "embedding_to_bytes",
    "is_identical",
    "jpeg_quality",
    "measure_quality",
    "verify",
]
