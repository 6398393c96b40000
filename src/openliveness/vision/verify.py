"""Verification: embedding distance, the calibrated distance-to-confidence mapping, the default threshold,
and the byte format embeddings are stored in."""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

import numpy as np

from .types import EMBEDDING_SIZE, Embedding

__all__ = [
    "DEFAULT_VERIFY_CONFIDENCE_THRESHOLD",
    "DLIB_DECISION_DISTANCE",
    "DLIB_TRAINING_MARGIN",
    "VerifyScore",
    "confidence_to_distance",
    "distance_to_confidence",
    "embedding_distance",
    "embedding_from_bytes",
    "embedding_to_bytes",
    "is_identical",
    "verify",
]

#: dlib's ResNet was trained (metric loss) so that one person's faces lie closer than 0.6 and different
#: people's farther; dlib reports 99.38 % LFW accuracy at that distance.
DLIB_DECISION_DISTANCE = 0.6
#: The margin of that loss: same-person pairs were pushed below 0.56, different-person pairs beyond 0.64.
DLIB_TRAINING_MARGIN = 0.04
# Logistic scale chosen so that the two margin edges map to 0.9 and 0.1: s = margin / ln 9.
_LOGISTIC_SCALE = DLIB_TRAINING_MARGIN / math.log(9.0)

#: The default `verifyConfidenceThreshold`: 0.94, the confidence at distance 0.550 (0.5499 exactly). At 0.55,
#: a published all-pairs study of dlib's model on 12,797 web photos of 5,467 people
#: (LFW-like) gives a false-accept rate of about 0.1 % (derived from its precision 0.71 / recall 0.96),
#: and our calibration impostor pairs (not the benchmark pairs) put it far lower; see docs/vision.md.
DEFAULT_VERIFY_CONFIDENCE_THRESHOLD = 0.94

_FORMAT_MAGIC = b"OLE1"  # OpenLiveness embedding, format 1: dlib ResNet v1, 128 float32 little-endian
_FORMAT_SIZE = len(_FORMAT_MAGIC) + 4 * EMBEDDING_SIZE


@dataclass(frozen=True, slots=True)
class VerifyScore:
    """Result of comparing two embeddings: the Euclidean distance and the calibrated confidence in 0..1."""

    distance: float
    match_confidence: float


def embedding_distance(a: Embedding, b: Embedding) -> float:
    return float(np.linalg.norm(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)))


def distance_to_confidence(distance: float) -> float:
    """match_confidence = 1 / (1 + exp((d - 0.6) / s)), s = 0.04 / ln 9.

    0.5 at dlib's decision distance 0.6, 0.9 and 0.1 at its training margin's edges 0.56 and 0.64; monotone,
    so a confidence threshold is a distance threshold. Distances of a same-person pair are typically 0.2 to
    0.5 (confidence above 0.99); different people typically 0.7 to 1.0 (below 0.01).
    """
    z = (distance - DLIB_DECISION_DISTANCE) / _LOGISTIC_SCALE
    if z > 700:  # exp overflows; the confidence is 0 to double precision anyway
        return 0.0
    return 1.0 / (1.0 + math.exp(z))


def confidence_to_distance(confidence: float) -> float:
    """Inverse of `distance_to_confidence` for 0 < confidence < 1."""
    if not 0.0 < confidence < 1.0:
        raise ValueError("confidence must be strictly between 0 and 1")
    return DLIB_DECISION_DISTANCE + _LOGISTIC_SCALE * math.log(1.0 / confidence - 1.0)


def verify(reference: Embedding, probe: Embedding) -> VerifyScore:
    distance = embedding_distance(reference, probe)
    return VerifyScore(distance=distance, match_confidence=distance_to_confidence(distance))


def is_identical(score: VerifyScore, threshold: float | None = None) -> bool:
    """Azure's `isIdentical`: match_confidence >= threshold (the session's, else the default)."""
    limit = DEFAULT_VERIFY_CONFIDENCE_THRESHOLD if threshold is None else threshold
    return score.match_confidence >= limit


def embedding_to_bytes(embedding: Embedding) -> bytes:
    """516 bytes: the magic ``OLE1`` then 128 little-endian float32, for storage in the database."""
    vector = np.asarray(embedding, dtype="<f4").reshape(-1)
    if vector.shape != (EMBEDDING_SIZE,) or not np.all(np.isfinite(vector)):
        raise ValueError(f"An embedding is {EMBEDDING_SIZE} finite numbers, got shape {vector.shape}")
    return _FORMAT_MAGIC + vector.tobytes()


def embedding_from_bytes(data: bytes) -> Embedding:
    """Inverse of `embedding_to_bytes`; raises ValueError on any other input."""
    if len(data) != _FORMAT_SIZE or data[: len(_FORMAT_MAGIC)] != _FORMAT_MAGIC:
        raise ValueError("Not a stored OpenLiveness embedding (format OLE1)")
    values = struct.unpack(f"<{EMBEDDING_SIZE}f", data[len(_FORMAT_MAGIC) :])
    vector = np.array(values, dtype=np.float32)
    if not np.all(np.isfinite(vector)):
        raise ValueError("Stored embedding holds non-finite values")
    return vector
